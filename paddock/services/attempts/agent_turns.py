"""One agent turn: the CLI run in the attempt's worktree, its output normalised into entries,
the worktree's commit recorded before and after, and the result auto-committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio.to_thread
from sqlalchemy.orm import Session

from paddock.agents.base import Channel
from paddock.domain.autocommit import LeftOut, limit_bytes
from paddock.domain.entities import AgentSpec, Attempt, Process
from paddock.domain.entries import EntryKind, text_entry
from paddock.domain.errors import PaddockError
from paddock.domain.events import EventType
from paddock.domain.sandbox import Provider
from paddock.domain.states import RunReason
from paddock.runtime import git, safefs
from paddock.runtime.git import staging, worktrees
from paddock.runtime.git.rebase import rebase_in_progress
from paddock.services.agents import AgentService
from paddock.services.attempts.agent_channel import AgentChannels
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context, log
from paddock.services.processes.process_request import ProcessObservers, ProcessRequest
from paddock.services.processes.processes import ProcessService
from paddock.store import attempts as attempt_store
from paddock.store import entries as entry_store
from paddock.store import processes as process_store
from paddock.store import projects as project_store

CHANNEL_ENV = "PADDOCK_CHANNEL"
# The container images' Python (runtime/sandbox/container_image.py installs Debian's python3):
# Paddock's own is usually under a home dir, which a container does not open to its user.
IMAGE_PYTHON = "/usr/bin/python3"
SUMMARY_LINE = 72  # a commit subject longer than this is cut at a word


def commit_message(summary: str | None, prompt: str, reason: RunReason) -> str:
    """The agent's final summary as a commit message: a short subject, the rest as body."""
    text = (summary or "").strip() or f"{reason.value.replace('_', ' ')}: {prompt.strip()}"
    first, _, rest = text.partition("\n")
    subject = first.strip() or "agent turn"
    if len(subject) > SUMMARY_LINE:
        cut = subject[: SUMMARY_LINE - 1].rsplit(" ", 1)[0] or subject[: SUMMARY_LINE - 1]
        rest = subject[len(cut) :].strip() + ("\n" + rest if rest else "")
        subject = cut.rstrip() + "…"
    body = rest.strip()[:4000]
    return f"{subject}\n\n{body}" if body else subject


REWOUND_NOTE = (
    "[Paddock] The user rewound this worktree: files are back to how they were before one of "
    "your earlier turns, and the changes of that turn and later ones are gone. Read files "
    "again before you change them."
)


def _resume_point(session: Session, attempt_id: str, program: str) -> tuple[str | None, bool]:
    """The session of `program` (a CLI) to resume, and whether a rewind happened since."""
    return (
        process_store.last_agent_session(session, attempt_id, program),
        process_store.rewound_since_last_turn(session, attempt_id),
    )


def git_overlay(home: Path, tree: git.Worktree) -> dict[str, str]:
    """Git variables for an agent in a sandbox, where the repository is read-only: its index
    and new objects go to a private copy in its HOME, so `git add` and `git status` work as
    usual while commits, refs and config stay out of reach (`git commit` fails to lock HEAD).
    Paddock commits the turn on the host, from the real index."""
    overlay = home / ".paddock-git"
    # The HOME is the sandbox's: written through no link it may have left (safefs).
    safefs.makedirs(home, ".paddock-git/objects")
    index = tree.git_dir / "index"
    if index.exists():
        safefs.copy_in(index, home, ".paddock-git/index")
    common = (tree.git_dir / (tree.git_dir / "commondir").read_text().strip()).resolve()
    return {
        "GIT_INDEX_FILE": str(overlay / "index"),
        "GIT_OBJECT_DIRECTORY": str(overlay / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(common / "objects"),
    }


def relayed(socket: Path | None, provider: Provider) -> Channel | None:
    """The turn's channel as its CLI reaches it: through the relay, run by Paddock's own
    Python, which a container does not have (its image's instead)."""
    if socket is None:
        return None
    if provider is Provider.container:
        return Channel(socket, IMAGE_PYTHON)
    return Channel(socket)


def channel_env(channel: Path | None) -> dict[str, str]:
    """Where the turn's channel is, for a command that is no MCP-speaking CLI (a script)."""
    return {CHANNEL_ENV: str(channel)} if channel is not None else {}


class AgentTurns:
    def __init__(self, ctx: Context, processes: ProcessService, agents: AgentService) -> None:
        self.ctx = ctx
        self.processes = processes
        self.agents = agents
        self.channels = AgentChannels(ctx)

    def home(self, attempt: Attempt) -> Path:
        """The attempt's own HOME for agent CLIs: runs of other attempts never share state,
        and the CLI finds its session again for a follow-up."""
        return self.ctx.settings.storage.data_dir / "agent-homes" / attempt.id

    async def run(
        self,
        attempt: Attempt,
        prompt: str,
        reason: RunReason,
        agent: AgentSpec | None = None,
        *,
        started: Callable[[Process], None] | None = None,
        head: str | None = None,
        process_id: str | None = None,
        repo: str | None = None,
        recorded: Awaitable[object] | None = None,
    ) -> Process:
        """One turn of the attempt's agent, or of `agent` (a workflow step's) when given.
        `started` is called once its process runs; `head` is the worktree's commit when the
        caller knows it (a worktree just made), else it is read; `process_id` names the
        turn's process (else a new id); `repo`, the project's repository when the caller has
        it at hand (else it is loaded); `recorded`, what must be stored before the turn's
        process is (its attempt's record, being written while the turn gets ready).

        The attempt's channel to Paddock (agent_channel.py) is open while the turn runs."""
        async with self.channels.open(attempt) as channel:
            return await self._run(
                attempt, prompt, reason, agent, started, head, process_id, repo, recorded, channel
            )

    async def _run(
        self,
        attempt: Attempt,
        prompt: str,
        reason: RunReason,
        agent: AgentSpec | None,
        started: Callable[[Process], None] | None,
        head: str | None,
        process_id: str | None,
        repo: str | None,
        recorded: Awaitable[object] | None,
        channel: Path | None,
    ) -> Process:
        spec = agent or attempt.agent
        resume, rewound = None, False
        if reason is RunReason.follow_up:
            program = self.agents.registry.resolve(spec)[0].adapter.program
            resume, rewound = await self.ctx.db.run(lambda s: _resume_point(s, attempt.id, program))
        worktree = Path(attempt.worktree_path)
        # The CLI's session may still remember turns a rewind undid: say so in the prompt it
        # gets (the conversation shows the user's own words).
        told = f"{REWOUND_NOTE}\n\n{prompt}" if resume and rewound else prompt
        provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
        profile, turn = self.agents.turn(
            spec,
            prompt=told,
            worktree=worktree,
            home=self.home(attempt),
            resume=resume,
            channel=relayed(channel, provider),
        )
        if channel is not None and profile.adapter.speaks_mcp() and self.channels.warm_up:
            self.channels.warm_up()
        # Without the repository at hand, the project is loaded for it first.
        known = None if repo is not None else await attempt_worktree(self.ctx, attempt)
        sandboxed = provider is not Provider.none

        def prepare() -> tuple[git.Worktree, dict[str, str]]:
            tree = known
            if tree is None:
                assert repo is not None
                tree = worktrees.linked(repo, attempt.worktree_path)
            turn.home.mkdir(parents=True, exist_ok=True)
            return tree, home_overlay(tree)

        def home_overlay(tree: git.Worktree) -> dict[str, str]:
            if not sandboxed:
                profile.adapter.prepare_home(turn)
                return {}
            # The HOME was the last turn's sandbox's: no link it left there may lead the
            # server's writes elsewhere (between turns no sandbox can write there).
            self.ctx.sandboxes.clear_links(turn.home)
            profile.adapter.prepare_home(turn)
            overlay = git_overlay(turn.home, tree)
            self.ctx.sandboxes.hand_over(turn.home)
            return overlay

        # One trip to a thread: the worktree's git dir, then the HOME made ready.
        tree, overlay = await anyio.to_thread.run_sync(prepare)
        run = profile.adapter.command(turn, spec.command)
        before = head or await git.rev_parse(tree, "HEAD")
        request = ProcessRequest(
            reason,
            run.argv,
            # the attempt's (or step's) own win
            env={**run.env, **overlay, **channel_env(channel), **spec.env},
            stdin=run.stdin,
            secret_env=spec.secret_env,
            commit_before=before,
            interrupt=profile.adapter.interrupt,
            writable=[turn.home],
            # The CLI itself, wherever it is installed (its prefix: npm's lib/ comes along).
            readable=[
                self.ctx.settings.agents.clis,
                Path(turn.executable).resolve().parent.parent,
                # The attempt's channel dir: its socket, for this sandbox alone.
                *([channel.parent] if channel is not None else []),
            ],
            process_id=process_id,
        )
        entries = ProcessObservers(
            normaliser=profile.adapter.normaliser(),
            opening=[text_entry(EntryKind.user_message, prompt)],
            started=started,
        )
        proc = await self.processes.run(attempt, request, entries, after=recorded)
        return await self._record_commit(attempt, tree, proc, prompt, reason)

    async def _record_commit(
        self, attempt: Attempt, tree: git.Worktree, proc: Process, prompt: str, reason: RunReason
    ) -> Process:
        def load(session: Session) -> tuple[bool, str | None]:
            project = project_store.get_project(session, attempt.project_id)
            summary = entry_store.last_text(session, proc.id, EntryKind.assistant_message)
            return project.auto_commit, summary

        auto_commit, summary = await self.ctx.db.run(load)
        if await anyio.to_thread.run_sync(worktrees.restore_link, tree):
            log.warning("attempt %s: %s replaced the worktree .git; restored", attempt.id, proc.id)
        left_out: list[LeftOut] = []
        try:
            # Mid-rebase the files are the conflict's resolution: the rebase commits them.
            if auto_commit and not rebase_in_progress(tree):
                limit = limit_bytes(self.ctx.settings.git.autocommit_max_file_mb)
                message = commit_message(summary, prompt, reason)
                left_out = (await staging.commit_all(tree, message, max_file_bytes=limit)).left_out
            after: str | None = await git.rev_parse(tree, "HEAD")
        except PaddockError as exc:  # the turn's own result stands; say why nothing was committed
            log.warning("attempt %s: auto-commit after %s failed: %s", attempt.id, proc.id, exc)
            after = None
        if left_out:
            log.info(
                "attempt %s: %s left %d file(s) over the size limit out of its commit",
                attempt.id,
                proc.id,
                len(left_out),
            )
        # A warning past `worktree_warn_mb`, not a quota (docs/security.md).
        used = await anyio.to_thread.run_sync(worktrees.disk_usage, tree.path)

        def record(session: Session) -> Process:
            attempt_store.update_attempt(session, attempt.id, worktree_bytes=used)
            return process_store.set_commit_after(session, proc.id, after, left_out)

        proc = await self.ctx.db.run(record)
        self.ctx.publish(EventType.process_updated, attempt.project_id, proc)
        return proc
