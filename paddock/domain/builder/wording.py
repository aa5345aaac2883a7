"""Words as the alignment score compares them (alignment.py): normalised (case-folded, accents,
apostrophes and punctuation off), stopwords and generic words dropped, lightly stemmed
("bookings", "booked" and "book" are one word), common two-word phrases joined ("log in"), and
common app words mapped to one concept (`SYNONYMS`: sign in = log in = login). Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- words ------------------------------------------------------------------------------------

_STOPWORDS_TEXT = (
    "a an the and or but nor of to in on at for with by from as into onto about over under up "
    "down out off via per is are was were be been being am it its this that these those there "
    "here i im ive me my mine we us our ours you your yours they them their he him his she her "
    "what which who whom whose when where why how all any both each every some no not dont "
    "doesnt didnt cant wont isnt do does did so if then than too very can could would should "
    "will shall may might must just also only more most other such own same again once one "
    "etc eg ie"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
# Words of any request that say nothing about what it is about.
_GENERIC_TEXT = (
    "app apps application page pages button buttons screen site website web make made add "
    "please want wanted need needs let lets allow able new feature option thing stuff way use "
    "using used get user create work nice better good great easy simple quick bit lot really "
    "something someone people person section part click tap support possible version"
)
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())
# Common app words that mean one thing, the concept's name first (the stemmer folds "booking"
# into "book", "reminders" into "remind").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "login": ("login", "signin", "logon", "auth", "authenticate", "authentication", "password"),
    "signup": ("signup", "register", "registration", "subscribe"),
    "pay": ("pay", "payment", "checkout", "stripe", "paypal", "bill", "buy", "purchase", "refund"),
    "photo": ("photo", "photograph", "image", "picture", "pic", "img"),
    "delete": ("delete", "remove", "erase", "trash"),
    "edit": ("edit", "change", "update", "modify", "rename"),
    "select": ("select", "pick", "choose"),
    "view": ("view", "see", "show", "display", "look", "browse"),
    "email": ("email", "mail"),
    "message": ("message", "chat", "dm"),
    "notify": ("notify", "notification", "alert", "remind"),
    "search": ("search", "find", "lookup"),
    "calendar": ("calendar", "schedule", "timetable", "agenda"),
    "book": ("book", "reserve", "reservation"),
    "gig": ("gig", "concert"),
    "music": ("music", "song", "tune", "audio"),
    "todo": ("todo", "task", "chore"),
    "profile": ("profile", "bio"),
    "comment": ("comment", "reply"),
    "price": ("price", "cost", "fee"),
}
# Two words that are one (compared by their stems: "logging in", "signed up").
PHRASES = {
    ("log", "in"): "login",
    ("sign", "in"): "login",
    ("log", "on"): "login",
    ("sign", "up"): "signup",
    ("check", "out"): "checkout",
    ("e", "mail"): "email",
    ("to", "do"): "todo",
    ("wait", "list"): "waitlist",
}
# Verbs that say what to do but not to what: "change the header colour" is no "Edit a task".
ACTIONS = ("edit", "delete", "select", "view", "send", "save", "open", "set", "move")

_NOT_PLURAL = frozenset({"news", "series", "always", "perhaps", "minus"})
_VOWEL = re.compile(r"[aeiouy]")
_APOSTROPHE = re.compile("['`\u2019\u02bc]")  # ' ` and the typographic ones
_WORD = re.compile(r"[^\W_]+")


def stem(word: str) -> str:
    """A light English stem of a case-folded word: "bookings" -> "book", "classes" -> "class",
    "scheduled" -> "schedul", "schedule" -> "schedul", "planner" -> "plan"."""
    word = _without_ending(_singular(word))
    if len(word) >= 4 and word.endswith("e"):  # "schedule" is "schedul(ing)"
        word = word[:-1]
    return word


def _singular(word: str) -> str:
    if word in _NOT_PLURAL or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    return word[:-1] if len(word) > 3 else word


def _without_ending(word: str) -> str:
    for ending in ("ing", "ed"):
        base = word[: -len(ending)]
        if word.endswith(ending) and _stem_like(base):
            word = _undoubled(base)
            if ending == "ed" and word.endswith("i"):  # "replied" -> "reply"
                word = word[:-1] + "y"
            break
    base = word[:-2]
    if word.endswith("er") and _stem_like(base):  # "booker", "reminder", "ordering" -> order
        word = _undoubled(base)
    return word


def _stem_like(base: str) -> bool:
    """Long enough and with a vowel: "thing" and "need" keep their endings."""
    return len(base) >= 3 and _VOWEL.search(base) is not None


def _undoubled(word: str) -> str:
    """ "shopp(ing)" -> "shop", "plann(ed)" -> "plan"; "add(ed)", "call(ing)" stay."""
    doubled = len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiouylsz"
    return word[:-1] if doubled else word


def concept_of(word_stem: str) -> str:
    return _CONCEPT_OF.get(word_stem, word_stem)


_CONCEPT_OF = {stem(word): concept for concept, words in SYNONYMS.items() for word in words}
GENERIC_CONCEPTS = frozenset(concept_of(stem(word)) for word in GENERIC_WORDS)
ACTION_CONCEPTS = frozenset(concept_of(stem(word)) for word in ACTIONS)


@dataclass(frozen=True, slots=True)
class Word:
    surface: str  # as written, case-folded, accents and punctuation off ("logging in")
    key: str  # what is compared: a stem or a concept ("login")


def _plain(text: str) -> str:
    """Case-folded, accents off ("Café" -> "cafe"), apostrophes gone ("don't" -> "dont")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _APOSTROPHE.sub("", bare)


def words_of(text: str) -> list[Word]:
    """The words of `text` that can tell what it is about (stopwords and generic words out)."""
    raw = _WORD.findall(_plain(text))
    stems = [stem(word) for word in raw]
    words: list[Word] = []
    index = 0
    while index < len(raw):
        phrase = PHRASES.get((stems[index], stems[index + 1])) if index + 1 < len(raw) else None
        if phrase is not None:
            words.append(Word(f"{raw[index]} {raw[index + 1]}", concept_of(stem(phrase))))
            index += 2
            continue
        word = raw[index]
        if word not in STOPWORDS and len(word) > 1 and not word.isdigit():
            words.append(Word(word, concept_of(stems[index])))
        index += 1
    return [word for word in words if word.key not in GENERIC_CONCEPTS]


def keys_of(*texts: str) -> frozenset[str]:
    return frozenset(word.key for text in texts for word in words_of(text))


def has_words(text: str) -> bool:
    """Whether `text` has any word at all (not only spaces, punctuation or symbols)."""
    return _WORD.search(_plain(text)) is not None
