"""What Aider needs around it before a turn (agents/aider.py runs it): the prompt in a file, a
chat history it reads back as it was, and a git identity in HOME.

- The prompt goes to Aider in a file (`--message-file`), never on its command line: Aider
  writes its command line into the chat history as a quote whose first line alone is marked,
  so the rest of a multi-line prompt came back on the next follow-up as words of the model.
- A chat history written before that (an attempt older than the fix) is repaired before a
  follow-up reads it: the command line Aider quotes after each "chat started" header gets `> `
  on every line, up to the line Aider ends with two spaces (the end of a quote). Other
  multi-line quotes (a git error with its details) keep Aider's marking: the model's own reply
  may hold a `> ` line too, so only the command line's place is certain.
- Its repo-map cache (`.aider.tags.cache.v4/`, in the worktree: Aider has no option to move
  it) is one of the generated files Paddock leaves out of every commit (domain/generated.py).
  Nothing here writes into the repository: the worktree is the agent's, and a path git finds
  from it (its `.git` file) is the agent's to choose. Asking git for the repository's
  `info/exclude` there once let an agent point Paddock's write (as root) at any host file.
- Git runs here only on the HOME's own `.gitconfig` (`--file`), with no hook, as Paddock's own
  git does; a git that fails says so (AgentSetupFailed).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from paddock.agents.base import read_home_text, write_home_config
from paddock.domain.errors import Unavailable

# Who git says the user is in the attempt's HOME (as Paddock's own commits without one).
GIT_IDENTITY = {"user.name": "Paddock", "user.email": "paddock@localhost"}
# Like Paddock's own git (runtime/git/commands.py): no hook, no fsmonitor, any owner.
_GIT = (
    "git",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "safe.directory=*",
)
_STARTED = "# aider chat started at "
_QUOTE = "> "
_QUOTE_END = "  "  # Aider ends a quote's last line (and every line it breaks) with two spaces


class AgentSetupFailed(Unavailable):
    """What a turn of the agent needs around it could not be prepared."""

    code = "agent_setup_failed"


def _git(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [*_GIT, *argv],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise AgentSetupFailed(f"git could not run: {exc}") from exc


def _failed(what: str, done: subprocess.CompletedProcess[str]) -> AgentSetupFailed:
    said = " / ".join(done.stderr.strip().splitlines()[-2:]) or f"exit {done.returncode}"
    return AgentSetupFailed(f"{what} failed: {said}")


def git_identity(config: Path) -> None:
    """Set GIT_IDENTITY's keys in the git config file `config` (HOME's .gitconfig) where it has
    no value: Aider checks them at start and, missing, writes "Your Name" and
    "you@example.com" into the repository's own config (the user's repository, shared by every
    worktree; read-only in a sandbox, where Aider then crashes)."""
    config.parent.mkdir(parents=True, exist_ok=True)
    for key, value in GIT_IDENTITY.items():
        found = _git(["config", "--file", str(config), "--get", key])
        if found.returncode == 1:  # the key is not set
            done = _git(["config", "--file", str(config), key, value])
            if done.returncode != 0:
                raise _failed(f"setting {key} in {config}", done)
        elif found.returncode != 0:
            raise _failed(f"reading {config}", found)


def write_message(path: Path, prompt: str) -> None:
    """The turn's prompt, for `--message-file`."""
    write_home_config(path, prompt)


def repair_history(path: Path) -> None:
    """Mark every line of the chat history's multi-line quotes as quoted (see the module
    docstring), so that Aider reads none of them back as the model's words."""
    text = read_home_text(path)
    if not text:
        return
    fixed = mark_quotes(text)
    if fixed != text:
        write_home_config(path, fixed)


def mark_quotes(history: str) -> str:
    """The history with every line of each run's command-line quote marked."""
    lines = history.splitlines(keepends=True)
    quoting = False  # inside the command line Aider quoted after a "chat started" header
    after_header = False
    for index, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if body.startswith(_STARTED):
            after_header, quoting = True, False
            continue
        if after_header and body.startswith(_QUOTE):
            after_header, quoting = False, True
        elif quoting and not body.startswith(_QUOTE):
            lines[index] = _QUOTE + line
        elif not quoting:
            after_header = after_header and not body
            continue
        quoting = not body.endswith(_QUOTE_END)
    return "".join(lines)
