"""What a founder says in the builder's floating chat, routed to an intent (the offline mode:
no model, a small grammar).

The message is normalised first (chat_text.py: case, width, curly quotes, punctuation,
contractions), then politeness is peeled off the front ("hey, could you please ..."). Two
readings follow, and the order between them is the point:

- a *question about the app's state* ("what's blocking my deploy?", "can I ship?", "how many
  iterations do I have left") is answered, never acted on: asking whether you can ship must
  not ship. Questions are recognised by their opening words (what, why, is, can I, how do I,
  tell me ...) or a question mark, then sorted by topic;
- anything else is matched against *actions*, each a whole-sentence pattern (so "add a retry
  button" is a change request, not a retry), then against change requests (a sentence that
  opens with a verb of change, or "I want ..."), and last against the topics again, for
  statements such as "deploy blockers" or "status".

A change request carries the founder's own words (case, accents and emoji kept) without the
politeness around them: "Can you add a dark mode, please?" -> "add a dark mode".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from paddock.domain.builder.chat_text import MAX_MESSAGE, normalise, tokens_after, without_end


class Intent(StrEnum):
    # Questions: answered from the app's state.
    status = "status"
    deploy_blockers = "deploy_blockers"
    preview = "preview"
    version = "version"
    features = "features"
    alignment = "alignment"
    iterations = "iterations"
    help = "help"
    # Actions: proposed, and run only once the founder confirms.
    start_build = "start_build"
    retry_build = "retry_build"
    cancel_build = "cancel_build"
    change_request = "change_request"  # argument: the change, in the founder's words
    decide_iterate = "decide_iterate"
    decide_ship = "decide_ship"
    decide_park = "decide_park"
    resume = "resume"
    navigate = "navigate"  # argument: a `Page`
    unknown = "unknown"

    @property
    def is_action(self) -> bool:
        return self in _ACTION_INTENTS


_ACTION_INTENTS = frozenset(
    {
        Intent.start_build,
        Intent.retry_build,
        Intent.cancel_build,
        Intent.change_request,
        Intent.decide_iterate,
        Intent.decide_ship,
        Intent.decide_park,
        Intent.resume,
        Intent.navigate,
    }
)


class Page(StrEnum):
    """The builder pages the chat can take a founder to."""

    brief = "brief"
    plan = "plan"
    builds = "builds"
    versions = "versions"
    timeline = "timeline"
    deploy = "deploy"
    preview = "preview"


@dataclass(frozen=True, slots=True)
class Routed:
    intent: Intent
    argument: str = ""  # the change text (change_request) or the page (navigate)


# --- The grammar -------------------------------------------------------------------------------

# Politeness and filler in front of what is asked; peeled off repeatedly.
_POLITE = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|and|also|alright|just|please|pls|kindly|actually|now|then"
    r"|no|nope|nah|yes|yeah|yep|sure|great|cool|hmm|um|oh|i think|i guess|maybe|paddock"
    r"|thanks|thank you|thx)(?: |$)"
    r"|(?:can|could|would|will) you(?: please)? "
    r"|(?:i|we) (?:want|would like|would love|need|wish) (?:you )?to "
    r"|let us |go ahead and |(?:i|we) (?:should|must) )+"
)
# "thanks" and "please" at the end change nothing.
_TRAILING = re.compile(r"(?: (?:please|pls|thanks|thank you|thx|for me))+$")

_QUESTION = re.compile(
    r"^(?:what|why|where|when|how|who|which|is|are|am|was|were|do|does|did|has|have|will|would"
    r"|should|shall|can|could|may|might|tell me|explain|know|any idea|i wonder|wonder"
    r"|show me (?:what|why|where|how|which|if|whether))\b"
)
# "can I ...", "how do I ...": a question about doing something; the rest says what.
_ASKING_TO = re.compile(
    r"^(?:(?:can|could|may|shall|should|do|how do|how can|how would|when can|when do|where do"
    r"|where can) (?:i|we)|how to|is it possible to|am i able to|are we able to)"
    r"(?: (?:now|still|already|just|even|finally))* (?P<rest>.+)$"
)

_PAGE_WORDS = {
    Page.brief: "brief|scope|requirements",
    Page.plan: "plan|plans|plan options|templates?",
    Page.builds: "builds?|build history|build logs?|logs?",
    Page.versions: "versions|version history|releases",
    Page.timeline: "timeline|history|activity",
    Page.deploy: "deploy|deployment|deploy check|deploy readiness|readiness|launch checklist",
    Page.preview: "preview|live preview",
}
_BARE_PAGES = (Page.brief, Page.plan, Page.versions, Page.timeline)  # a page's name alone
_GO = (
    r"(?:show|open|view|display|go|take|bring|jump|navigate|switch|get|head)(?: me)?"
    r"(?: (?:to|up|back to|over to|into))? "
)
_PAGE_TAIL = r"(?: (?:page|tab|screen|section|view|panel|list))?$"


def _page_pattern(page: Page) -> re.Pattern[str]:
    go = f"(?:{_GO})?" if page in _BARE_PAGES else _GO
    return re.compile(rf"^{go}(?:(?:the|my|our) )?(?:{_PAGE_WORDS[page]}){_PAGE_TAIL}")


_PAGES = tuple((page, _page_pattern(page)) for page in Page)


def _whole(head: str, tail: str) -> re.Pattern[str]:
    """A sentence that is `head` followed by any of the `tail` words, and nothing else."""
    return re.compile(rf"^(?:{head})(?: (?:{tail}))*$")


_THING = "it|this|that|the|my|our|app|project|idea|mvp|one|now|please|again"
_ACTIONS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.retry_build,
        _whole(
            r"retry|re try|rerun|re run|redo|restart (?:the |my |this )?build"
            r"|try (?:(?:it|that|this|the build|my build|building) )?again"
            r"|run (?:it|that|this|the build) again|give it another (?:go|try|shot)"
            r"|have another go|one more (?:try|time)",
            "it|this|that|the|my|last|failed|build|again|please|now",
        ),
    ),
    (
        Intent.cancel_build,
        _whole(
            r"stop|cancel|abort|halt|kill|terminate",
            "it|this|that|the|my|current|running|build|building|now|please|right|away",
        ),
    ),
    (
        Intent.decide_park,
        _whole(
            r"pause|park|shelve|freeze|hold|set (?:it|this) aside|take a break(?: from)?"
            r"|put (?:it|this|that|the project|the app|my app|this project)"
            r" (?:on hold|on ice|aside|away)"
            r"|(?:stop|quit) working on|come back (?:to (?:it|this) )?later"
            r"|(?:stop|quit|drop|cancel) (?:(?:the|this|my) )?(?:project|app|idea)",
            f"{_THING}|for now|for a while|for a bit|for later|later|here",
        ),
    ),
    (
        Intent.resume,
        _whole(
            r"resume|unpark|un park|unpause|un pause|continue|carry on|keep going|restart"
            r"|reopen|revive|wake (?:it|this|the project|the app) up|pick up|get back to"
            r"|pick (?:it|this|the project|the app) (?:back )?up|go back to|back to|come back to"
            r"|work on (?:it|this) again",
            f"{_THING}|work|working|where i left off",
        ),
    ),
    (
        Intent.start_build,
        _whole(
            r"(?:start|begin|kick off|launch|run|trigger|do)(?: (?:a|the|another|new|my|fresh))*"
            r" build(?:ing)?|(?:start|begin|get) (?:building|to build)|build|rebuild|re build",
            f"{_THING}|the thing|everything|first version",
        ),
    ),
    (
        Intent.decide_ship,
        _whole(
            r"(?:(?:i am|we are) )?(?:(?:ready|time|going|want) to )?"
            r"(?:ship|deploy|launch|publish|release|go live|(?:push|put) (?:it )?live"
            r"|go to production|push to production)",
            f"{_THING}|today|live|to production|already|then",
        ),
    ),
    (
        Intent.decide_iterate,
        _whole(
            r"iterate|keep iterating|(?:another|a new|new) iteration|improve|refine"
            r"|(?:make|do|request) (?:(?:some|a few|more|a couple of|other) )?"
            r"(?:changes|tweaks|edits|improvements)"
            r"|change (?:some|a few) things|keep (?:working|improving)(?: on)?"
            r"|work on (?:it|this) (?:some )?more|not (?:ready|done) yet",
            f"{_THING}|first|more|a bit|a little|then",
        ),
    ),
)

_CHANGE = re.compile(
    r"^(?:add|change|make|remove|delete|drop|rename|replace|move|put|use|let|allow|include|swap"
    r"|switch|turn|set|update|fix|hide|show(?! me)|display|create|build|support|enable|disable"
    r"|increase|decrease|reduce|shrink|enlarge|translate|integrate|connect|send|require"
    r"|restrict|sort|filter|group|highlight|center|centre|align|redesign|rewrite|reword"
    r"|simplify|improve|get rid of|give|insert|attach|link|embed|style|colou?r|resize|tweak"
    r"|adjust|edit|modify|limit|split|merge|list|store|save|track|notify|email|implement"
    r"|there (?:should|needs|must)|it (?:should|needs|must)"
    r"|the(?: \w+){1,3} (?:should|needs to|must)"
    r"|(?:users|people|customers|visitors|members|clients|admins|students|guests|everyone"
    r"|players|buyers|sellers|i|we) (?:should|must|need to|to be able|can|could)"
    r"|(?:i|we) (?:want|would like|would love|need|wish)|how about|what about|what if)\b"
)
# In front of the change itself: kept out of the change request's text.
_CHANGE_LEAD = re.compile(
    r"^(?:(?:i|we) (?:want|would like|would love|need|wish)(?: to have)?|how about|what about"
    r"|what if) "
)

_BLOCKING = re.compile(r"\b(?:block\w*|stopping|prevent\w*|in the way)\b")
_TOPICS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (Intent.deploy_blockers, _BLOCKING),
    (
        Intent.alignment,
        re.compile(
            r"\b(?:drift\w*|aligned|alignment|align|on track|off track|off course|scope creep"
            r"|stray\w*|deviat\w*|score)\b|\b(?:is|are) (?:this|it|that|these|my changes?)"
            r" (?:still )?(?:in|within|out of|outside) (?:the )?scope\b"
        ),
    ),
    (
        Intent.iterations,
        re.compile(
            r"\b(?:iterations?|rounds?|revisions?|tier|limit)\b"
            r"|\bhow many (?:more )?(?:changes|change requests|edits|tweaks|tries)\b"
            r"|\b(?:changes|change requests|edits) (?:do i have )?(?:left|remaining)\b"
        ),
    ),
    (Intent.version, re.compile(r"\b(?:versions?|v\d+)\b")),
    (
        Intent.features,
        re.compile(
            r"\b(?:features?|non goals?|brief|scope|requirements?)\b"
            r"|\bwhat (?:does|will|should|can) (?:it|my app|the app|this app|this) do\b"
            r"|\bwhat is (?:it|my app|the app|this app) (?:for|about|supposed to do)\b"
        ),
    ),
    (
        Intent.preview,
        re.compile(
            r"\b(?:preview\w*|demo|link|url)\b|\bwhere is (?:it|my app|the app|my site)\b"
            r"|\b(?:see|view|try|open|look at|test|use|visit|find)"
            r" (?:it|my app|the app|this app|the site|my site|what you built)\b"
        ),
    ),
    (
        Intent.deploy_blockers,
        re.compile(
            r"\b(?:deploy\w*|ship\w*|launch\w*|go live|live|publish\w*|release\w*|production"
            r"|prod|ready for (?:users|customers|the world|real users))\b"
        ),
    ),
    (
        Intent.status,
        re.compile(
            r"\b(?:status|progress|happening|going on|going|doing|done|finished|ready|stage|step"
            r"|next|fail\w*|error\w*|wrong|broke\w*|broken|stuck|working|where am i|builds?"
            r"|building|up to|long|left to do|eta|state|parked|update|what now)\b"
        ),
    ),
)
_HELP = re.compile(
    r"^(?:help|help me|menu|commands|options|what can you do|what do you do|i need help"
    r"|what can i (?:ask|say|do here)|how does this work|how do (?:i use this|you work)"
    r"|what are you|who are you|how can you help|what can you help(?: me)? with)"
    r"(?: (?:please|here|me|for me))*$"
)
# Said at the end of a longer sentence ("that did not work, try again").
_LOOSE_ACTIONS = (
    (Intent.retry_build, re.compile(r"(?:^| )(?:try (?:it |that )?again|retry)$")),
    (Intent.cancel_build, re.compile(r"(?:^| )(?:stop|cancel) (?:the |this )?build$")),
)


# --- Routing -----------------------------------------------------------------------------------


def _peeled(text: str) -> tuple[str, int]:
    """`text` without the politeness in front and behind; and how many words went from the
    front (the change text is cut from the original message by that count)."""
    front = _POLITE.match(text)
    skipped = len(front.group(0).split()) if front else 0
    core = text[front.end() :] if front else text
    return _TRAILING.sub("", core).strip(), skipped


def _first(rules: tuple[tuple[Intent, re.Pattern[str]], ...], text: str) -> Intent | None:
    return next((intent for intent, pattern in rules if pattern.search(text)), None)


def _page(text: str) -> Page | None:
    return next((page for page, pattern in _PAGES if pattern.match(text)), None)


def _action(core: str) -> Routed | None:
    """An action said as a whole sentence (navigation, build, gate, change)."""
    page = _page(core)
    if page is not None:
        return Routed(Intent.navigate, page.value)
    intent = _first(_ACTIONS, core)
    if intent is not None:
        return Routed(intent)
    if _CHANGE.match(core):
        return Routed(Intent.change_request)
    return None


def _question(core: str) -> Routed | None:
    """A question about the app's state, by topic; "can I <action>" asks for the action,
    except "can I ship", which asks what stands in the way."""
    if _BLOCKING.search(core):
        return Routed(Intent.deploy_blockers)
    asking = _ASKING_TO.match(core)
    if asking:
        rest = asking.group("rest")
        wanted = _action(rest)
        if wanted and wanted.intent is Intent.decide_ship:
            return Routed(Intent.deploy_blockers)
        if wanted:
            return wanted
    topic = _first(_TOPICS, core)
    return Routed(topic) if topic else None


_REQUEST = re.compile(r"\b(?:can|could|would|will) you\b")


def _is_question(message: str, words: str, core: str) -> bool:
    if _QUESTION.match(core):
        return True
    # A question mark makes a question of a statement ("ship it?"), not of a request ("could
    # you start a build?") nor of a change ("add a FAQ?").
    asked = message.rstrip().endswith("?")
    return asked and not _REQUEST.search(words) and not _CHANGE.match(core)


def route(message: str) -> Routed:
    """The intent of one chat message (and its change text or page)."""
    message = message[:MAX_MESSAGE]
    words = normalise(message)
    core, skipped = _peeled(words)
    if not words:
        return Routed(Intent.unknown)
    if not core:  # only a greeting or a "thanks": what the chat can do
        return Routed(Intent.help)
    if _HELP.match(core):
        return Routed(Intent.help)
    found = _question(core) if _is_question(message, words, core) else None
    found = found or _action(core)
    if found is None:
        found = _first_routed(_LOOSE_ACTIONS, core) or _first_routed(_TOPICS, core)
    if found is None:
        return Routed(Intent.unknown)
    if found.intent is Intent.change_request:
        return Routed(Intent.change_request, change_text(message, core, skipped))
    return found


def _first_routed(rules: tuple[tuple[Intent, re.Pattern[str]], ...], text: str) -> Routed | None:
    intent = _first(rules, text)
    return Routed(intent) if intent else None


def change_text(message: str, core: str, skipped: int) -> str:
    """The change in the founder's own words: the message from the word the change starts at
    (after `skipped` politeness words, "can I", then "I want" or "how about"), without its end
    punctuation and thanks."""
    asking = _ASKING_TO.match(core)
    if asking and _CHANGE.match(asking.group("rest")):
        skipped += len(core[: asking.start("rest")].split())
        core = asking.group("rest")
    lead = _CHANGE_LEAD.match(core)
    skipped += len(lead.group(0).split()) if lead else 0
    return without_end(tokens_after(message, skipped))[:MAX_MESSAGE]
