"""Aider (`pip install aider-chat`): one `aider --message` run per turn, parsed from plain text.

Aider has no machine-readable mode: it runs with `--no-pretty` and agents/aider_output.py reads
its text. It exits 0 even when it gave up on a turn, so it runs under agents/aider_guard.py,
which fails such a turn.

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
the worktree, where Aider has no option to move it: `--no-gitignore` keeps Aider from editing
the worktree's .gitignore, and Paddock leaves the cache out of every commit as a generated file
(domain/generated.py). The prompt goes in a file (`--message-file`), never on the
command line: see agents/aider_home.py.

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

import json
import signal
import sys
import time
from dataclasses import dataclass

from paddock.agents.aider_guard import GUARD
from paddock.agents.aider_home import git_identity, repair_history, write_message
from paddock.agents.aider_output import CHAT_HISTORY, AiderNormaliser
from paddock.agents.base import AgentRun, Package, Permission, TurnContext, write_home_config

_PACKAGE = Package("pypi", "aider-chat", "0.86.2")
_PRICES = ".aider/caches/model_prices_and_context_window.json"
_PRICES_TTL = 20 * 3600  # Aider refetches after 24 h; keep the placeholder fresher than that
REQUEST_TIMEOUT = 120  # seconds a model request may stay silent (Aider's default: 600)
MESSAGE_FILE = "paddock.message.md"  # the turn's prompt, in HOME's .aider (agents/aider_home.py)


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

    def speaks_mcp(self) -> bool:
        return False

    def prepare_home(self, ctx: TurnContext) -> None:
        """A non-empty model-prices cache, fresh, so Aider does not fetch it from GitHub (an
        empty one counts as missing); litellm's bundled prices still apply. And git has a user
        name and email in HOME: without them Aider writes placeholders into the repository's
        config. And the prompt is in its file; a follow-up's chat history reads back as it was.
        Each file is written to a new name and renamed into place (write_home_config): never
        through a link, hard or soft, the agent left in its HOME."""
        git_identity(ctx.home / ".gitconfig")
        write_message(ctx.home / ".aider" / MESSAGE_FILE, ctx.prompt)
        if ctx.resume:
            repair_history(ctx.home / ".aider" / CHAT_HISTORY)
        prices = ctx.home / _PRICES
        try:
            fresh = time.time() - prices.lstat().st_mtime < _PRICES_TTL
        except OSError:
            fresh = False
        if not fresh:
            placeholder = json.dumps({"paddock-placeholder": {"mode": "chat"}})
            write_home_config(prices, placeholder, keep_same=False)

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun:
        history = ctx.home / ".aider"
        argv = [
            sys.executable,  # the guard (agents/aider_guard.py), then Aider itself
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
        argv += [*ctx.variant.extra_args, "--message-file", str(history / MESSAGE_FILE)]
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
