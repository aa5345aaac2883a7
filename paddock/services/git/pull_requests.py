"""Pull requests for attempts: pushed, opened on the remote's forge, recorded, and polled.

The forge and repository come from the remote's URL (github.com → GitHub, a host naming gitlab
→ GitLab, any other → Gitea/Forgejo) unless the request names them. The forge's CLI is used
when it is installed and signed in (`gh`, `glab`), else its REST API with the token from
settings. Title and body come from the task and the agent's last summary. Open pull requests
are looked at every `pr_poll_seconds`; one that was merged moves its task to Done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Project, Task
from paddock.domain.entries import EntryKind
from paddock.domain.errors import InvalidInput, PaddockError, Unavailable
from paddock.domain.events import EventType
from paddock.domain.pull_request import (
    Forge,
    PullRequest,
    PullRequestStatus,
    check_repo,
    forge_of_host,
    parse_remote,
)
from paddock.domain.states import RunReason
from paddock.runtime import git
from paddock.runtime.git import forges
from paddock.services.context import Context
from paddock.services.git.merges import MergeService
from paddock.services.git.remotes import RemoteService
from paddock.store import attempts as attempt_store
from paddock.store import entries as entry_store
from paddock.store import processes as process_store
from paddock.store import projects as project_store
from paddock.store import pull_requests as store
from paddock.store import tasks as task_store

log = logging.getLogger("paddock.pull_requests")


class PullRequestService:
    def __init__(self, ctx: Context, remotes: RemoteService, merges: MergeService) -> None:
        self.ctx = ctx
        self.remotes = remotes
        self.merges = merges
        self._loop: asyncio.Task[None] | None = None

    async def open(
        self,
        attempt_id: str,
        *,
        remote: str = "origin",
        forge: Forge | None = None,
        repo: str | None = None,
        title: str | None = None,
        body: str | None = None,
    ) -> PullRequest:
        attempt, project, task, summary = await self._load(attempt_id)
        found = parse_remote(await self._remote_url(project, remote))
        if forge is None or repo is None:
            if found is None:
                raise InvalidInput(
                    f"remote {remote!r} is no forge URL: say which forge and repository",
                    code="forge_unknown",
                )
            forge = forge or forge_of_host(found[0])
            repo = repo or found[1]
        check_repo(repo)
        await self.remotes.push(attempt_id, remote)  # the branch must be on the remote
        title = title or task.title
        body = body if body is not None else _body(task, summary, attempt)
        tool = await forges.signed_in_cli(forge)
        if tool is not None:
            opened = await forges.open_with_cli(
                tool, repo, attempt.branch, attempt.base_branch, title, body
            )
        else:
            api = self._api(forge, found[0] if found else None)
            opened = await forges.open_with_api(
                api, repo, attempt.branch, attempt.base_branch, title, body
            )
        pull = await self.ctx.db.run(
            lambda s: store.record(
                s,
                attempt_id=attempt.id,
                forge=forge,
                repo=repo,
                number=opened.number,
                url=opened.url,
                via=tool or "api",
            )
        )
        self.ctx.publish(EventType.pull_request_created, attempt.project_id, pull)
        return pull

    async def list_for_attempt(self, attempt_id: str) -> list[PullRequest]:
        await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        return await self.ctx.db.run(lambda s: store.list_for_attempt(s, attempt_id))

    async def refresh(self, pull_request_id: str) -> PullRequest:
        """Ask the forge for the pull request's state; a merge moves the task to Done."""
        pull = await self.ctx.db.run(lambda s: store.get(s, pull_request_id))
        if pull.via in ("gh", "glab"):
            status = await forges.status_with_cli(pull.via, pull.repo, pull.number)
        else:
            _, project, _, _ = await self._load(pull.attempt_id)
            found = parse_remote(await self._remote_url(project, "origin"))
            api = self._api(pull.forge, found[0] if found else None)
            status = await forges.status_with_api(api, pull.repo, pull.number)
        if status is pull.status:
            return pull
        pull = await self.ctx.db.run(lambda s: store.set_status(s, pull.id, status))
        _, project, task, _ = await self._load(pull.attempt_id)
        self.ctx.publish(EventType.pull_request_updated, project.id, pull)
        if status is PullRequestStatus.merged:
            await self.merges.to_done(project, task, f"pull request {pull.url} merged")
        return pull

    def start_loop(self) -> None:
        self._loop = asyncio.create_task(self._poll())

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.ctx.settings.git.pr_poll_seconds)
            for pull in await self.ctx.db.run(store.list_open):
                try:
                    await self.refresh(pull.id)
                except PaddockError as exc:
                    log.info("pull request %s: could not look: %s", pull.url, exc)

    def _api(self, forge: Forge, host: str | None) -> forges.Api:
        settings = self.ctx.settings
        token, url = {
            Forge.github: (settings.git.github_token, settings.git.github_api_url),
            Forge.gitlab: (settings.git.gitlab_token, settings.git.gitlab_api_url),
            Forge.gitea: (settings.git.gitea_token, settings.git.gitea_api_url),
        }[forge]
        if token is None:
            raise Unavailable(
                f"no {forge.value} access: sign in its CLI, or set {forge.value}_token",
                code="no_forge_access",
            )
        if url is None:
            if host is None:
                raise InvalidInput(f"set {forge.value}_api_url", code="forge_unknown")
            url = f"https://{host}/api/{'v4' if forge is Forge.gitlab else 'v1'}"
        return forges.Api(forge, url, token.get_secret_value())

    async def _remote_url(self, project: Project, remote: str) -> str:
        result = await git.run_git(
            Path(project.repo_path), "remote", "get-url", remote, check=False
        )
        if result.returncode != 0:
            raise InvalidInput(f"the project has no remote {remote!r}", code="unknown_remote")
        return result.stdout.strip()

    async def _load(self, attempt_id: str) -> tuple[Attempt, Project, Task, str | None]:
        def load(session: Session) -> tuple[Attempt, Project, Task, str | None]:
            attempt = attempt_store.get_attempt(session, attempt_id)
            project = project_store.get_project(session, attempt.project_id)
            task = task_store.get_task(session, attempt.task_id)
            summary = None
            for proc in reversed(process_store.list_processes(session, attempt.id)):
                if proc.reason in (RunReason.agent, RunReason.follow_up):
                    summary = entry_store.last_text(session, proc.id, EntryKind.assistant_message)
                    break
            return attempt, project, task, summary

        return await self.ctx.db.run(load)


def _body(task: Task, summary: str | None, attempt: Attempt) -> str:
    parts = [task.description.strip(), (summary or "").strip()]
    text = "\n\n".join(p for p in parts if p)
    return f"{text}\n\n---\nOpened by Paddock from attempt {attempt.id[:8]}.".lstrip()
