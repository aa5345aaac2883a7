"""What a build's stages use (the engine's services, in one bundle), how a stage says it
failed, and the summary a ready build shows before its preview link."""

from __future__ import annotations

from dataclasses import dataclass

from paddock.domain.builder.brief import Brief
from paddock.domain.builder.builds import BuildSummary
from paddock.domain.builder.templates import AppTemplate
from paddock.runtime import git
from paddock.services.attempts.attempts import AttemptService
from paddock.services.builder.apps import AppService
from paddock.services.builder.timeline import Timeline
from paddock.services.context import Context
from paddock.services.previews.previews import PreviewService
from paddock.services.processes.logs import LogService
from paddock.services.processes.processes import ProcessService
from paddock.services.tasks import TaskService
from paddock.services.testing.test_runs import TestRunService

# How much of a build's patch is searched for the brief's feature names.
MAX_PATCH_CHARS = 2_000_000
MAX_FILES_LISTED = 200


class StageFailed(Exception):
    """A stage could not do its part; `detail` is for "Show details" (the founder reads the
    stage's plain sentence first)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class BuildParts:
    ctx: Context
    apps: AppService
    tasks: TaskService
    attempts: AttemptService
    processes: ProcessService
    previews: PreviewService
    test_runs: TestRunService
    logs: LogService
    timeline: Timeline


async def build_summary(
    tree: git.Worktree,
    base: str,
    brief: Brief,
    template: AppTemplate,
    checks: tuple[str, ...],
) -> BuildSummary:
    """Files changed from `base` to HEAD (with line counts), the brief's features whose names
    the change mentions, the template's stack, and the checks that ran."""
    numstat = await git.run_git(tree, "diff", "--numstat", "--no-renames", base, "HEAD")
    files: list[str] = []
    insertions = deletions = 0
    for line in numstat.stdout.splitlines():
        added, removed, path = line.split("\t", 2)
        files.append(path)
        insertions += int(added) if added.isdigit() else 0
        deletions += int(removed) if removed.isdigit() else 0
    patch = await git.run_git(tree, "diff", "--no-color", "--no-ext-diff", base, "HEAD")
    text = patch.stdout[:MAX_PATCH_CHARS].casefold()
    touched = [f.name for f in brief.features if f.name.casefold() in text]
    return BuildSummary(
        files_changed=tuple(sorted(files)[:MAX_FILES_LISTED]),
        insertions=insertions,
        deletions=deletions,
        features=tuple(touched),
        stack=template.stack,
        checks=checks,
    )
