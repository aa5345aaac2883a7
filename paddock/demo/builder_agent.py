"""Paddock's offline builder agent: a scripted stand-in that calls no model. Run in an app's
worktree with the build prompt in $PADDOCK_PROMPT, it reads the brief (a ```paddock-brief
fenced JSON block) and rewrites the app's content file, app.json, which every template
renders: a first build puts the brief's name, tagline, users and features in place; a change
request keeps them and adds the change to the "What's new" list. A real agent changes the code
itself; this one only proves the loop (build, checks, preview) end to end. Standard library
only.

Test hooks: $BUILDER_AGENT_DELAY (seconds between progress lines, default 0.3) and
$BUILDER_AGENT_FAIL (print it and exit 1, for the failure path).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

CONTENT_FILE = Path("app.json")
BRIEF_BLOCK = re.compile(r"```paddock-brief[ \t]*\n(.*?)\n[ \t]*```", re.DOTALL)
SENTENCE_END = re.compile(r"(?<=[.!?])\s")


class Refusal(Exception):
    """Why the agent changes nothing: printed, and the agent exits 1."""


def say(line: str) -> None:
    print(f"builder agent: {line}", flush=True)
    time.sleep(float(os.environ.get("BUILDER_AGENT_DELAY", "0.3")))


def read_brief(prompt: str) -> dict[str, Any]:
    match = BRIEF_BLOCK.search(prompt)
    if not match:
        raise Refusal("the prompt holds no ```paddock-brief block: nothing to build")
    try:
        brief = json.loads(match.group(1))
    except json.JSONDecodeError as exc:
        raise Refusal(f"the paddock-brief block is not valid JSON ({exc})") from None
    if not isinstance(brief, dict):
        raise Refusal("the paddock-brief block is not a JSON object")
    return brief


def read_content() -> dict[str, Any]:
    if not CONTENT_FILE.is_file():
        raise Refusal(f"there is no {CONTENT_FILE} in {Path.cwd()}: is this an app's folder?")
    try:
        app = json.loads(CONTENT_FILE.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise Refusal(f"{CONTENT_FILE} is not valid JSON ({exc})") from None
    if not isinstance(app, dict):
        raise Refusal(f"{CONTENT_FILE} is not a JSON object")
    return app


def tagline(problem: str) -> str:
    """The problem's first sentence, at most 140 characters."""
    first = SENTENCE_END.split(" ".join(problem.split()), maxsplit=1)[0]
    return first if len(first) <= 140 else first[:139].rstrip() + "…"


def features(brief: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": str(f.get("name", "")).strip(), "description": str(f.get("description", ""))}
        for f in brief.get("features") or []
        if isinstance(f, dict) and str(f.get("name", "")).strip()
    ]


def built(app: dict[str, Any], brief: dict[str, Any]) -> dict[str, Any]:
    """The content of a first build: the brief's words in place, any earlier changes kept."""
    return {
        **app,
        "name": str(brief.get("name") or app.get("name") or "My app"),
        "tagline": tagline(str(brief.get("problem") or "")) or app.get("tagline", ""),
        "users": str(brief.get("users") or app.get("users", "")),
        "features": features(brief) or app.get("features", []),
        "changes": list(app.get("changes") or []),
    }


def changed(app: dict[str, Any], change: str) -> dict[str, Any]:
    """The app with the change's headline (its first line: a clarified change goes on with
    the founder's answers) added to "What's new"."""
    headline = (change.strip().splitlines() or [""])[0].strip()
    return {**app, "changes": [*(app.get("changes") or []), headline]}


def main() -> int:
    failure = os.environ.get("BUILDER_AGENT_FAIL")
    if failure:
        print(f"builder agent: {failure}", file=sys.stderr, flush=True)
        return 1
    say("this is a scripted offline builder: no AI model is called")
    try:
        brief = read_brief(os.environ.get("PADDOCK_PROMPT", ""))
        app = read_content()
    except Refusal as exc:
        print(f"builder agent: {exc}", file=sys.stderr, flush=True)
        return 1
    say(f"read the brief for {brief.get('name') or 'the app'}")
    change = brief.get("change")
    if change:
        say(f"applying the change: {change}")
        app = changed(app, str(change))
    else:
        say(f"writing the name, tagline, users and {len(features(brief))} features")
        app = built(app, brief)
    CONTENT_FILE.write_text(json.dumps(app, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"rewrote {CONTENT_FILE}: done (Paddock commits the change)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
