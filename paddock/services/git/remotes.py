"""Pushing an attempt's branch to a remote of its project.

Any git URL works: credentials are git's own (credential helpers, the SSH agent); prompts are
off, so a push that would ask for a password fails with git's message instead of hanging. A
push that is not a fast-forward is refused unless `force` is given, and then it is
`--force-with-lease` (it still refuses to drop commits someone else pushed meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paddock.domain.errors import Conflict, InvalidInput
from paddock.runtime import git
from paddock.services.context import Context
from paddock.store import attempts as attempt_store
from paddock.store import projects as project_store


@dataclass(frozen=True, slots=True)
class Pushed:
    remote: str
    branch: str
    commit: str
    forced: bool


class RemoteService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def remotes(self, project_id: str) -> list[str]:
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, project_id))
        result = await git.run_git(Path(project.repo_path), "remote")
        return result.stdout.split()

    async def push(self, attempt_id: str, remote: str = "origin", *, force: bool = False) -> Pushed:
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        return await self.push_ref(
            attempt.project_id, f"refs/heads/{attempt.branch}", remote, attempt.branch, force=force
        )

    async def push_ref(
        self, project_id: str, ref: str, remote: str, branch: str, *, force: bool = False
    ) -> Pushed:
        """Push the commit `ref` names to `branch` of the project's `remote`."""
        known = await self.remotes(project_id)
        if remote not in known:
            raise InvalidInput(
                f"the project has no remote {remote!r} (it has: {', '.join(known) or 'none'})",
                code="unknown_remote",
            )
        git.check_branch_name(branch)
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, project_id))
        repo = Path(project.repo_path)
        commit = await git.rev_parse(repo, f"{ref}^{{commit}}")
        target = f"refs/heads/{branch}"
        args = ["push", "--porcelain", remote, f"{commit}:{target}"]
        if force:
            args.insert(1, f"--force-with-lease={target}")
        done = await git.run_git(repo, *args, check=False)
        if done.returncode != 0:
            rejected = "rejected" in done.stdout or "rejected" in done.stderr
            if rejected and not force:
                raise Conflict(
                    f"{remote} has commits on {branch} that this push does not: "
                    "push with force to replace them (as --force-with-lease)",
                    code="push_rejected",
                )
            raise Conflict(
                f"git push to {remote} failed: {(done.stderr or done.stdout).strip()[-500:]}",
                code="push_failed",
            )
        return Pushed(remote, branch, commit, force)
