"""The attempt workspace as it is assembled: the services its parts come from (`Workspace`),
which events concern an attempt (`concerns`), and how they become patches of an open page
(`WorkspacePatches`). The routes are in web/ui/attempts.py."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from paddock.config import Settings
from paddock.domain.autocommit import MB, over_warning
from paddock.domain.entities import Attempt, Event, Process
from paddock.domain.errors import NotFound
from paddock.domain.events import EventType, Resource
from paddock.services.agents import AgentService
from paddock.services.attempts.attempts import AttemptService
from paddock.services.demo import is_demo
from paddock.services.processes.entries import EntryService
from paddock.services.processes.processes import ProcessService
from paddock.services.projects import ProjectService
from paddock.services.sandbox.sandbox_service import SandboxService
from paddock.services.sandbox.usage import UsageService
from paddock.services.tasks import TaskService
from paddock.web.deps import (
    AgentsDep,
    AttemptsDep,
    EntriesDep,
    ProcessesDep,
    ProjectsDep,
    SandboxesDep,
    SettingsDep,
    TasksDep,
    UsageDep,
)
from paddock.web.ui.attempt_header import HeaderActions, HeaderActionsDep, actions_changed
from paddock.web.ui.conversation import TURN_REASONS, load_turns
from paddock.web.ui.diff_views import DiffTab, DiffTabDep, diff_changed
from paddock.web.ui.previews import PreviewTab, PreviewTabDep, previews_changed
from paddock.web.ui.sandbox_views import latest_usage, summary, usage_events
from paddock.web.ui.templating import render_fragment
from paddock.web.ui.test_views import TAB_EVENTS, RunTabs, RunTabsDep

# The attempt's own events, which carry its id as `id`.
OWN_EVENTS = EventType.for_resource(Resource.attempt)
# Events about an attempt's parts, which carry its id as `attempt_id` (resource use included).
ATTEMPT_EVENTS = (
    EventType.for_resource(
        Resource.process, Resource.follow_up, Resource.preview, Resource.pull_request
    )
    | TAB_EVENTS
)
# Events the header, the process list and the Agent tab are rendered again for; the others
# patch their own tab (or, resource use, its figures).
PART_EVENTS = EventType.for_resource(Resource.process, Resource.follow_up)
WHOLE_EVENTS = (OWN_EVENTS | PART_EVENTS) - {
    EventType.attempt_diff_changed,
    EventType.resource_usage,
}
# What the attempt's state shows in, and what its Agent tab's bar does.
STATUS_FRAGMENTS = (
    "attempts/_header.html",
    "attempts/_process_list.html",
    "attempts/_process_table.html",
)
AGENT_FRAGMENTS = ("attempts/_agent_bar.html", "attempts/_follow_ups.html")
# The workspace's tabs, in order: (name in the address's ?tab=, label).
TABS = (
    ("agent", "Agent"),
    ("logs", "Logs"),
    ("processes", "Processes"),
    ("preview", "Preview"),
    ("diff", "Diff"),
    ("tests", "Tests"),
    ("api", "API"),
    ("artifacts", "Artifacts"),
)
TAB_NAMES = frozenset(name for name, _label in TABS)


def concerns(attempt_id: str, event: Event) -> bool:
    """Whether an open workspace of `attempt_id` follows `event`."""
    if event.type in OWN_EVENTS:
        return bool(event.data.get("id") == attempt_id)
    if event.type in ATTEMPT_EVENTS:
        return bool(event.data.get("attempt_id") == attempt_id)
    return False


def worktree_warning(settings: Settings, attempt: Attempt) -> int | None:
    """The warning threshold (bytes) when the attempt's worktree passed it, else None."""
    if over_warning(attempt.worktree_bytes, settings.git.worktree_warn_mb):
        return int(settings.git.worktree_warn_mb * MB)
    return None


def default_process(processes: list[Process]) -> Process | None:
    """The log shown first: the newest agent turn (first prompt or follow-up), else the newest
    process."""
    turns = [p for p in processes if p.reason in TURN_REASONS]
    return (turns or processes)[-1] if processes else None


def new_turns(events: list[Event]) -> set[str]:
    """The agent turns (processes) that `events` created."""
    return {
        e.data["id"]
        for e in events
        if e.type == EventType.process_created and e.data.get("reason") in TURN_REASONS
    }


@dataclass(frozen=True, slots=True)
class Workspace:
    """The services an attempt's workspace is rendered from, part by part."""

    settings: Settings
    attempts: AttemptService
    tasks: TaskService
    projects: ProjectService
    processes: ProcessService
    entries: EntryService
    usage: UsageService
    agents: AgentService
    sandboxes: SandboxService
    previews: PreviewTab
    diff: DiffTab
    runs: RunTabs
    header: HeaderActions

    async def page(self, attempt: Attempt, tab: str = "") -> dict[str, Any]:
        """Everything the page shows, with `tab` (a name of TABS; else the default) shown."""
        default = "agent" if self.agent_first(attempt) else "logs"
        status = await self.status(attempt)
        return {
            **status,
            "demo": is_demo(status["project"], self.settings.storage.data_dir),  # its hint
            **await self.agent(attempt),
            **await self.previews.parts(attempt),
            **await self.diff.parts(attempt),
            **await self.runs.parts(attempt),
            "tabs": TABS,
            "tab": tab if tab in TAB_NAMES else default,
            "default_tab": default,
        }

    async def status(self, attempt: Attempt) -> dict[str, Any]:
        """The attempt's state: its task and project, processes, sandbox, resource use."""
        processes = await self.processes.list_for_attempt(attempt.id)
        return {
            "attempt": attempt,
            "task": await self.tasks.get(attempt.task_id),
            "project": await self.projects.get(attempt.project_id),
            "processes": processes,
            "selected": default_process(processes),
            "sandbox": summary(self.settings, self.sandboxes, attempt.sandbox),
            "resources": await latest_usage(self.sandboxes, processes),
            "worktree_warning": worktree_warning(self.settings, attempt),
            **await self.header.parts(attempt),
        }

    async def agent(
        self, attempt: Attempt, *, whole: Collection[str] | None = None
    ) -> dict[str, Any]:
        """What the Agent tab shows: every turn (dropped ones too; those in `whole`, or all,
        with their entries), the attempt's usage, its follow-ups."""
        every = await self.processes.list_for_attempt(attempt.id, include_dropped=True)
        turns = await load_turns(self.entries, attempt, every, whole=whole)
        return {
            "turns": turns,
            "dropped_count": sum(1 for t in turns if t.process.dropped),
            "usage": await self.usage.for_attempt(attempt.id),
            "follow_ups": await self.attempts.list_follow_ups(attempt.id),
        }

    def agent_first(self, attempt: Attempt) -> bool:
        """Whether the Agent tab is the one shown first: for agents that report a conversation
        (the CLIs Paddock installs), not for shell scripts whose log is their whole record."""
        info = next((a for a in self.agents.list_quick() if a.name == attempt.agent.profile), None)
        return info is not None and info.installable


async def workspace(
    settings: SettingsDep,
    attempts: AttemptsDep,
    tasks: TasksDep,
    projects: ProjectsDep,
    processes: ProcessesDep,
    entries: EntriesDep,
    usage: UsageDep,
    agents: AgentsDep,
    sandboxes: SandboxesDep,
    previews: PreviewTabDep,
    diff: DiffTabDep,
    runs: RunTabsDep,
    header: HeaderActionsDep,
) -> Workspace:
    return Workspace(
        settings,
        attempts,
        tasks,
        projects,
        processes,
        entries,
        usage,
        agents,
        sandboxes,
        previews,
        diff,
        runs,
        header,
    )


WorkspaceDep = Annotated[Workspace, Depends(workspace)]


class WorkspacePatches:
    """How the events about one attempt become out-of-band swaps of its open workspace: the
    renderer of its fragment stream."""

    def __init__(self, workspace: Workspace, attempt: Attempt, panel: bool = False) -> None:
        self.workspace = workspace
        self.attempt = attempt
        self.panel = panel  # the workspace is beside the board (its header's heading level)

    async def render(self, events: list[Event] | None) -> str:
        """What changed in `events`; None (after a gap): every part."""
        if await self._deleted(events):
            return render_fragment("attempts/_deleted.html")
        if events is None:
            return await self._state(None) + await self._tabs(None)
        tabs = await self._tabs(events)
        changes = [e for e in events if e.type in WHOLE_EVENTS]
        if changes:  # the state's render shows the latest stored samples too
            return await self._state(changes) + tabs
        if actions_changed(events):  # a preview or a pull request: the header's buttons
            tabs += await self.workspace.header.patch(self.attempt)
        return self._resources(events) + tabs

    async def _deleted(self, events: list[Event] | None) -> bool:
        """Whether the attempt was deleted (from this page or elsewhere): then the page says
        so, and no part of it is rendered again."""
        if events is not None:
            return any(e.type == EventType.attempt_deleted for e in events)
        try:
            await self.workspace.attempts.get(self.attempt.id)
        except NotFound:
            return True
        return False

    async def _tabs(self, events: list[Event] | None) -> str:
        """The Preview, Diff, Tests, API and Artifacts tabs, each rendered again only for its
        own events."""
        ws, attempt = self.workspace, self.attempt
        html = (
            await ws.previews.patch(attempt) if events is None or previews_changed(events) else ""
        )
        html += await ws.runs.patch(attempt, events)
        if events is None or diff_changed(events):
            html += await ws.diff.patch(attempt.id)
        return html

    def _resources(self, events: list[Event]) -> str:
        """Resource use alone (about once a second per running process) patches its figures
        only: no database read, no other part rendered again."""
        usage = usage_events(events)
        if not usage:
            return ""
        return render_fragment("attempts/_resources_patch.html", updates=usage)

    async def _state(self, events: list[Event] | None) -> str:
        """The header, the process list and the Agent tab as the attempt is now: after a gap
        every turn again, whole; else new turns whole (their first entries and their live
        stream) and the others' heads."""
        ws = self.workspace
        current = await ws.attempts.get(self.attempt.id)
        context = {**await ws.status(current), "panel": self.panel}
        created = None if events is None else new_turns(events)
        agent = await ws.agent(current, whole=created)
        parts = [render_fragment(name, **context, oob=True) for name in STATUS_FRAGMENTS]
        parts += [render_fragment(name, **context, **agent, oob=True) for name in AGENT_FRAGMENTS]
        return "".join(parts) + _turns(context, agent, created)


def _turns(context: dict[str, Any], agent: dict[str, Any], created: set[str] | None) -> str:
    """The Agent tab's turns: all of them again (None), or the `created` ones inserted and
    every turn's head."""
    if created is None:
        return render_fragment("attempts/_turns.html", **context, **agent, oob=True)
    parts: list[str] = []
    for turn in agent["turns"]:
        if turn.id in created:
            parts.append(render_fragment("attempts/_turn_insert.html", turn=turn, **context))
        # Also for a new turn: a page loaded just after the turn was created has it already
        # and skips the insert, but its head must still move on (queued → running).
        parts.append(render_fragment("attempts/_turn_head.html", turn=turn, oob=True))
    return "".join(parts)
