"""Aider (`pip install aider-chat`): one `aider --message` run per turn, parsed from plain text.

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
- anything else (Aider's notices, unknown or malformed lines) → raw.
The normaliser's `failure` is the message of an error the output ended on (no reply, edit or
usage after it): Aider gave up on the turn.

Failed turns: Aider exits 0 even when it gave up (an unreachable model, a refused key, a
`git add` of a new file that failed, after which it writes nothing). So it runs under a small
guard, this module run as a program (`python -m paddock.agents.aider <aider> <args>`): the guard
passes Aider's output through unchanged, reads it with the same normaliser, and exits 1 when the
output ended on such a failure (saying why on stderr). Paddock then records a failed process and
a failed turn, like for any other CLI. Signals it gets (Paddock's interrupt) go on to Aider.

Stall guard: Aider retries failed requests itself with a doubling delay until it would wait over
60 s (about 64 s in all; not configurable), so an unreachable model fails the turn after about a
minute. `--timeout` caps each request at REQUEST_TIMEOUT seconds (Aider's default is 600 s, and
a model server that accepts the connection but never answers would then hold the turn for over
an hour of retries).

Sessions: Aider has no session id. Each attempt has its own HOME, and Aider keeps the chat in
`$HOME/.aider/<CHAT_HISTORY>` (`--chat-history-file`); the session entry's id is that file's
name, and a follow-up with `ctx.resume` set to it adds `--restore-chat-history`, so the model
sees the earlier turns (any resume value restores that same file: one attempt, one chat).
Aider's config, caches and histories live under HOME (the history files by flag), and so does
a git identity (HOME's .gitconfig, when it has none), or Aider would write placeholder ones
into the repository's own config. Only its repo-map cache (`.aider.tags.cache.v4/`) goes in
the worktree, where Aider has no option to move it. `--no-gitignore` keeps Aider from editing
the worktree's .gitignore; instead prepare_home adds the cache to the repository's own
`info/exclude` (local to the clone, shared by its worktrees, never committed), so git and
Paddock's auto-commit leave it out.

Permissions:
- full: `--yes-always` (creates files and adds mentioned ones without asking; Aider never runs
  the shell commands it suggests under --yes-always, they need an explicit yes).
- plan: `--chat-mode ask --dry-run`: the model answers about the code and nothing is written.
- ask: no `--yes-always`, `--no-suggest-shell-commands`; Aider edits the files in the chat.
  With stdin closed Aider takes the default answer of its remaining questions (mostly yes).

Credentials: OPENAI_API_KEY / OPENAI_API_BASE (Aider's litellm reads both); when a base URL is
set, a model without a provider prefix is named `openai/<model>` so litellm sends it there.
Anthropic and Gemini keys are passed as ANTHROPIC_API_KEY / GEMINI_API_KEY (and base URLs).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from paddock.agents.base import AgentRun, Package, Permission, TurnContext
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
_PACKAGE = Package("pypi", "aider-chat")
_PRICES = ".aider/caches/model_prices_and_context_window.json"
_PRICES_TTL = 20 * 3600  # Aider refetches after 24 h; keep the placeholder fresher than that
REQUEST_TIMEOUT = 120  # seconds a model request may stay silent (Aider's default: 600)
GUARD = "paddock.agents.aider"  # this module, run as the program that runs Aider
# Aider's repo-map cache, kept out of git (a version-agnostic pattern, from the worktree's root).
REPO_MAP_CACHE = "/.aider.tags.cache.v*/"
_EXCLUDE_NOTE = "# Aider's repo-map cache (added by Paddock)"
# Who git says the user is in the attempt's HOME (as Paddock's own commits without one).
GIT_IDENTITY = {"user.name": "Paddock", "user.email": "paddock@localhost"}

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
    r"|Analytics have been)"
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


def _model(ctx: TurnContext) -> str | None:
    model = ctx.variant.model
    if model and ctx.credentials.openai_base_url and "/" not in model:
        return f"openai/{model}"
    return model


@dataclass(frozen=True, slots=True)
class Aider:
    name: str = "aider"
    label: str = "Aider"
    program: str = "aider"
    package: Package | None = _PACKAGE
    interrupt: signal.Signals = signal.SIGINT

    def needs_command(self) -> bool:
        return False

    def prepare_home(self, ctx: TurnContext) -> None:
        """A non-empty model-prices cache, fresh, so Aider does not fetch it from GitHub (an
        empty one counts as missing); litellm's bundled prices still apply. And the repo-map
        cache Aider writes into the worktree is excluded from git. And git has a user name and
        email in HOME: without them Aider writes placeholders into the repository's config."""
        exclude_from_git(ctx.worktree, REPO_MAP_CACHE, _EXCLUDE_NOTE)
        git_identity(ctx.home / ".gitconfig")
        prices = ctx.home / _PRICES
        prices.parent.mkdir(parents=True, exist_ok=True)
        try:
            fresh = time.time() - prices.stat().st_mtime < _PRICES_TTL
        except OSError:
            fresh = False
        if not fresh:
            prices.write_text(json.dumps({"paddock-placeholder": {"mode": "chat"}}))

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun:
        history = ctx.home / ".aider"
        argv = [
            sys.executable,  # the guard (see the module docstring), then Aider itself
            "-m",
            GUARD,
            ctx.executable,
            "--no-pretty",
            "--no-check-update",
            "--no-analytics",
            "--no-show-model-warnings",
            "--no-auto-commits",
            "--no-dirty-commits",
            "--no-gitignore",
            "--no-show-release-notes",
            "--no-detect-urls",
            "--chat-history-file",
            str(history / CHAT_HISTORY),
            "--input-history-file",
            str(history / "paddock.input.history"),
            "--llm-history-file",
            str(history / "paddock.llm.history"),
            "--timeout",
            str(REQUEST_TIMEOUT),
        ]
        if model := _model(ctx):
            argv += ["--model", model]
        if ctx.variant.permission is Permission.full:
            argv.append("--yes-always")
        elif ctx.variant.permission is Permission.plan:
            argv += ["--chat-mode", "ask", "--dry-run"]
        else:
            argv.append("--no-suggest-shell-commands")
        if ctx.resume:
            argv.append("--restore-chat-history")
        argv += [*ctx.variant.extra_args, "--message", ctx.prompt]
        creds = ctx.credentials
        env = {
            "HOME": str(ctx.home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "COLUMNS": "4096",  # Aider wraps its messages at the terminal width
        }
        for var, value in (
            ("OPENAI_API_KEY", creds.openai_api_key),
            ("OPENAI_API_BASE", creds.openai_base_url),
            ("ANTHROPIC_API_KEY", creds.anthropic_api_key),
            ("ANTHROPIC_API_BASE", creds.anthropic_base_url),
            ("GEMINI_API_KEY", creds.gemini_api_key),
            ("GEMINI_API_BASE", creds.gemini_base_url),
        ):
            if value:
                env[var] = value
        if creds.openai_base_url and not creds.openai_api_key:
            env["OPENAI_API_KEY"] = "unused"  # a local server: litellm still wants a key
        env.update(ctx.variant.env)
        return AgentRun(argv=argv, env=env, stdin=None)

    def normaliser(self) -> AiderNormaliser:
        return AiderNormaliser()


ADAPTER = Aider()


def exclude_from_git(worktree: Path, pattern: str, note: str) -> None:
    """Add `pattern` to the `info/exclude` git reads for `worktree` (the repository's own,
    shared by its worktrees), once; nothing when the worktree is not in a git repository."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-path", "info/exclude"],
            cwd=worktree,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=True,
        )
        path = Path(found.stdout.strip())
        text = path.read_text() if path.is_file() else ""
        if pattern in text.splitlines():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        separator = "\n" if text and not text.endswith("\n") else ""
        with path.open("a") as fh:
            fh.write(f"{separator}{note}\n{pattern}\n")
    except (OSError, subprocess.SubprocessError):
        return  # not a git worktree (or git is missing): nothing to keep out of a commit


def git_identity(config: Path) -> None:
    """Set GIT_IDENTITY's keys in the git config file `config` (HOME's .gitconfig) where it has
    no value: Aider checks them at start and, missing, writes "Your Name" and
    "you@example.com" into the repository's own config (the user's repository, shared by every
    worktree; read-only in a sandbox, where Aider then crashes)."""
    for key, value in GIT_IDENTITY.items():
        try:
            found = subprocess.run(
                ["git", "config", "--file", str(config), "--get", key],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=30,
                check=False,
            )
            if found.returncode == 1:  # the key is not set
                subprocess.run(
                    ["git", "config", "--file", str(config), key, value],
                    capture_output=True,
                    stdin=subprocess.DEVNULL,
                    timeout=30,
                    check=True,
                )
        except (OSError, subprocess.SubprocessError):
            return  # no git: Aider will not find a repository either


def guard(argv: list[str]) -> int:
    """Run Aider (`argv`) with its stdout passed through as it comes and its exit code kept,
    except that an output ending on an error Aider gave up on exits 1 (Aider says 0)."""
    started: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in started:  # none yet: Aider starts right after, nothing to stop
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE)  # stdin and stderr: ours
    except OSError as exc:
        print(f"paddock: cannot run {argv[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    started.append(child)
    assert child.stdout is not None
    normaliser = AiderNormaliser()
    out = sys.stdout.buffer
    pending = b""
    while chunk := os.read(child.stdout.fileno(), 1 << 16):
        out.write(chunk)
        out.flush()
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            normaliser.feed(line.decode("utf-8", "replace"))
    if pending:
        normaliser.feed(pending.decode("utf-8", "replace"))
    normaliser.finish()
    code = child.wait()
    if code < 0:  # ended by a signal: end the same way
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    if code == 0 and normaliser.failure is not None:
        reason = normaliser.failure.splitlines()[0] if normaliser.failure else "an error"
        print(f"paddock: Aider's turn ended on an error: {reason}", file=sys.stderr, flush=True)
        return 1
    return code


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(f"usage: python -m {GUARD} <aider> [args...]")
    sys.exit(guard(sys.argv[1:]))
