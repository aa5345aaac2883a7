"""Aider's `--no-pretty` text output, read into agent entries (agents/aider.py runs Aider).

Aider has no machine-readable mode, so it runs with `--no-pretty` (no colours, no markdown
rendering, COLUMNS wide enough not to wrap) and the normaliser reads its text:
- `Model: <name> with …` (its banner) → the session entry; lines before it are raw;
- the model's reply → assistant messages (consecutive prose lines grouped into one, flushed at
  the next recognised line or finish()); a file block in it (a path line, then a fence, as the
  `whole`/`diff` formats write it) becomes the `input` of the edit it produced, not prose;
- `Applied edit to <file>` → tool_call `apply_edit` + an ok tool_result (`Did not apply …
  (--dry-run)`: not ok). Aider does not say whether the file is new; it prints the bare path
  when it confirms a file that was not in the chat (`Create new file?`, or rarely an existing
  file outside the chat), and such an edit counts as `write`, any other as `edit`;
- `Tokens: 1.2k sent, 45 received. Cost: $0.01 message, …` → usage (k/M suffixes; the cost of
  the message, None when Aider knows no price);
- litellm/API failures, and git's (`Cmd('git') failed …` with its indented details) → one
  error entry per failure; a failure Aider retries (`Retrying in`) stays raw, so only the one
  it gave up on is an error;
- anything else (Aider's notices, unknown or malformed lines) → raw; so is Aider's answer to an
  interrupt (`^C again to exit`, a stop): never the turn's summary or commit message.
The normaliser's `failure` is the message of an error the output ended on (no reply, edit or
usage after it): Aider gave up on the turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paddock.domain.entries import (
    Entry,
    EntryKind,
    ToolAction,
    error,
    raw,
    session,
    text_entry,
    tool_call,
    tool_result,
    usage,
)

CHAT_HISTORY = "paddock.chat.history.md"

_MODEL = re.compile(r"^(?:Main model|Model): (\S+)")
_APPLIED = re.compile(r"^(Applied|Did not apply) edit to (.+?)(?: \(--dry-run\))?$")
_TOKENS = re.compile(
    r"^Tokens: ([\d.]+)([kM]?) sent.*?, ([\d.]+)([kM]?) received\."
    r"(?: Cost: \$([\d.]+) message)?"
)
_ERROR = re.compile(
    r"^(litellm\.\w+|The API provider|The LLM did not conform|Exception while updating"
    r"|Unable to (create|read|write|commit)|Traceback \(most recent|\w+\.\w*(Error|Exception):"
    r"|Cmd\('git'\) failed)"
)
# Aider's own notices after its banner, kept as raw lines: not the model's words.
_NOTICE = re.compile(
    r"^(Weak model:|Editor model:|Git repo:|Repo-map:|Added .* to the chat|Restored previous"
    r"|Use /help|https?://\S+$|Retrying in |Warning[: ]|Creating empty file|Cur working dir:"
    r"|Git working dir:|Note: |You can skip this|Commit [0-9a-f]+ |Update git \w+ with:"
    r"|Analytics have been|\^C again to exit|\^C KeyboardInterrupt)"
)
# A bare path line: a file block's header, or the file of a question Aider answered itself.
_FILE_NAME = re.compile(r"^(?=.*[./])[\w./\\-]*\w$")
_WORD = re.compile(r"^[\w.\\/-]+$")  # a header without a dot (Makefile), seen from its fence
_FENCE = "```"
_PROGRESS = {EntryKind.assistant_message, EntryKind.tool_call, EntryKind.usage}
_UNITS = {"": 1, "k": 1_000, "M": 1_000_000}


def _tokens(number: str, unit: str) -> int:
    return round(float(number) * _UNITS[unit])


@dataclass
class AiderNormaliser:
    """Reads Aider's `--no-pretty` output (see the module docstring); never raises."""

    prose: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # held back: a retry makes them raw
    name: str | None = None  # a bare path line: a file block's header, or Aider's question
    blocks: dict[str, str] = field(default_factory=dict)  # file -> its whole-format content
    fence: list[str] | None = None  # the lines of a file block being read
    fence_file: str = ""
    asked: set[str] = field(default_factory=set)  # path lines since the reply: confirmations
    has_session: bool = False
    seen: bool = False
    edits: int = 0
    failure: str | None = None  # the error the output ended on, so far: Aider gave up

    def feed(self, line: str) -> list[Entry]:
        try:
            return self._track(self._feed(line.rstrip("\r\n")))
        except Exception:  # a normaliser never raises: keep the line as it was
            return [raw(line)]

    def finish(self) -> list[Entry]:
        return self._track(self._finish())

    def _track(self, entries: list[Entry]) -> list[Entry]:
        """Note whether the output so far ends on an error (a reply, an edit or a usage
        report after it means Aider went on)."""
        for entry in entries:
            if entry.kind is EntryKind.error:
                self.failure = str(entry.payload.get("message", ""))
            elif entry.kind in _PROGRESS:
                self.failure = None
        return entries

    def _finish(self) -> list[Entry]:
        out = self._held()
        if self.fence is not None:  # a block the output ended in
            self.blocks[self.fence_file] = "".join(f"{line}\n" for line in self.fence)
            self.fence = None
        # Blocks no edit used (ask mode, a dry run, a truncated output): kept as they were.
        out += [raw(f"{name}\n{_FENCE}\n{body}{_FENCE}") for name, body in self.blocks.items()]
        self.blocks = {}
        if self.seen and not self.has_session:
            self.has_session = True
            out.append(session(CHAT_HISTORY))
        return out

    def _held(self, retrying: bool = False) -> list[Entry]:
        """Everything held back, in order: the reply's prose, a path line, errors."""
        out: list[Entry] = []
        if text := "\n".join(self.prose).strip():
            out.append(text_entry(EntryKind.assistant_message, text))
        self.prose = []
        if self.name is not None:
            out.append(raw(self.name))
            self.asked.add(self.name)
            self.name = None
        if self.errors:
            out += [raw(e) for e in self.errors] if retrying else [error("\n".join(self.errors))]
            self.errors = []
        return out

    def _feed(self, line: str) -> list[Entry]:
        self.seen = True
        text = line.strip()
        if self.fence is not None:  # inside a file block of the reply
            if text.startswith(_FENCE):
                self.blocks[self.fence_file] = "\n".join(self.fence) + "\n"
                self.fence = None
            else:
                self.fence.append(line)
            return []
        if text.startswith(_FENCE) and self.name is not None:
            self.fence_file, self.name, self.fence = self.name, None, []
            return []
        if text.startswith(_FENCE) and self.prose and _WORD.match(self.prose[-1].strip()):
            self.fence_file, self.fence = self.prose.pop().strip(), []
            return []
        if self.errors and line[:1].isspace() and text:  # its details (git's cmdline, stderr)
            self.errors.append(text)
            return []
        if _ERROR.match(text):
            out = [] if self.errors else self._held()
            self.errors.append(text)
            return out
        held = self.name is not None or bool(self.errors)
        if not text:  # a blank line: part of the reply's prose, unless something is held
            if held:
                return self._held()
            if self.prose and self.prose[-1]:
                self.prose.append("")
            return []
        recognised = _MODEL.match(line) or _APPLIED.match(line) or _TOKENS.match(line)
        if not recognised and self.has_session and not _NOTICE.match(line):  # the reply
            out = self._held() if held else []
            if _FILE_NAME.match(text):
                self.name = text
            else:
                self.prose.append(line)
            return out
        out = self._held(retrying=text.startswith("Retrying in "))
        if found := _MODEL.match(line):
            if not self.has_session:
                self.has_session = True
                out.append(session(CHAT_HISTORY, found.group(1)))
            return out
        if found := _APPLIED.match(line):
            applied, path = found.group(1) == "Applied", found.group(2).strip()
            self.edits += 1
            call_id = f"edit-{self.edits}"
            content = self.blocks.pop(path, None)
            action = ToolAction.write if path in self.asked else ToolAction.edit
            self.asked.discard(path)
            tool_input = {"path": path} if content is None else {"path": path, "content": content}
            return [
                *out,
                tool_call(call_id, "apply_edit", action, [path], tool_input),
                tool_result(call_id, applied, line),
            ]
        if found := _TOKENS.match(line):
            self.asked.clear()
            cost = float(found.group(5)) if found.group(5) else None
            out.append(usage(_tokens(*found.group(1, 2)), _tokens(*found.group(3, 4)), cost))
            return out
        out.append(raw(line))  # Aider's start-up chatter and notices
        return out
