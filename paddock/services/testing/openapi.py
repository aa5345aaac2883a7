"""API docs per attempt: its OpenAPI spec, made by the project's openapi script or fetched
from its running preview, validated, kept as an artifact, and compared with the base branch's.

The script writes the spec to `OPENAPI_OUTPUT` (JSON or YAML). Without a script, the spec is
asked of the attempt's web preview at the usual paths. The base branch's spec comes from the
script run in a clean checkout of the merge-base (setup script first), kept per commit.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from paddock.agents.script import shell_argv
from paddock.domain.artifact import SPEC_OUTPUT, Artifact, ArtifactKind
from paddock.domain.entities import Attempt
from paddock.domain.errors import Conflict, InvalidInput, NotFound, RunFailure
from paddock.domain.events import EventType, OpenApiUpdated
from paddock.domain.names import new_debug_id, new_id
from paddock.domain.openapi_diff import SpecDiff, diff_specs
from paddock.domain.openapi_spec import SpecError, SpecTooLarge, load_spec
from paddock.domain.preview import main_running
from paddock.domain.reports import (
    DEFAULT_LIMITS,
    REPORT_TOO_LARGE,
    ReportLimits,
    file_too_large,
    over_limit,
)
from paddock.domain.states import ProcessStatus, RunReason
from paddock.runtime import git
from paddock.runtime.git import worktrees
from paddock.runtime.git.diff import merge_base
from paddock.runtime.readiness import fetch
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context
from paddock.services.previews.previews import PreviewService
from paddock.services.processes.process_request import ProcessRequest
from paddock.services.processes.processes import ProcessService
from paddock.services.testing.artifacts import ArtifactService
from paddock.services.testing.parsing import Parser, report_limits
from paddock.store import attempts as attempt_store
from paddock.store import projects as project_store

SPEC_NAME = "openapi.json"  # the attempt's validated spec, as an artifact
SPEC_PATHS = ("/openapi.json", "/swagger.json", "/v3/api-docs", "/api-docs")


@dataclass(frozen=True, slots=True)
class AttemptSpec:
    """An attempt's latest validated spec."""

    artifact: Artifact
    source: str  # "script" or "preview"
    title: str
    version: str
    endpoints: int


@dataclass(frozen=True, slots=True)
class SpecComparison:
    base_commit: str
    head_artifact_id: str
    diff: SpecDiff


def external_refs(node: Any, found: list[str] | None = None) -> list[str]:
    """`$ref`s that leave the document: a validator would fetch them (files, URLs)."""
    found = [] if found is None else found
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            found.append(ref)
        for value in node.values():
            external_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            external_refs(value, found)
    return found


def check_spec(data: bytes, source: str, limits: ReportLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Blocking: the spec, parsed and validated; InvalidInput `spec_invalid` says why not, or
    `report_too_large` when it is past a limit."""
    # Imported on first use: the validator and its JSON Schema stack cost the server ~190 ms
    # of start-up and several MB that most servers never need.
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        spec = load_spec(data, source, limits)
    except SpecTooLarge as exc:
        raise InvalidInput(str(exc), code=REPORT_TOO_LARGE) from None
    except SpecError as exc:
        raise InvalidInput(str(exc), code="spec_invalid") from None
    outside = external_refs(spec)
    if outside:
        raise InvalidInput(
            f"{source}: refers outside itself ({outside[0]}); only local $refs are allowed",
            code="spec_invalid",
        )
    try:
        validate(spec)
    except OpenAPIValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(top level)"
        raise InvalidInput(
            f"{source} is not a valid OpenAPI document: {exc.message} (at {where})",
            code="spec_invalid",
        ) from None
    except RecursionError:  # the depth limit keeps well below this: a last guard
        raise InvalidInput(
            f"{source} is nested too deeply to validate", code="spec_invalid"
        ) from None
    return spec


def _checked_and_pretty(
    data: bytes, source: str, limits: ReportLimits
) -> tuple[dict[str, Any], bytes]:
    """Blocking: `check_spec`, and the spec as it is kept (indented JSON)."""
    spec = check_spec(data, source, limits)
    return spec, json.dumps(spec, indent=2, sort_keys=False).encode()


def _endpoint_count(spec: dict[str, Any]) -> int:
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    paths = spec.get("paths") or {}
    return sum(
        1
        for item in paths.values()
        if isinstance(item, dict)
        for method in item
        if method in methods
    )


class OpenApiService:
    def __init__(
        self,
        ctx: Context,
        processes: ProcessService,
        previews: PreviewService,
        artifacts: ArtifactService,
    ) -> None:
        self.ctx = ctx
        self.processes = processes
        self.previews = previews
        self.artifacts = artifacts
        self._base_locks: dict[str, asyncio.Lock] = {}
        self._checkouts = ctx.settings.storage.worktrees / "openapi-base"
        # Specs are parsed, validated, dumped and compared off the event loop, one at a time.
        self._parser = Parser()

    async def generate(self, attempt_id: str) -> AttemptSpec:
        """Make the attempt's spec now (script, else preview), validate it and keep it."""
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        if attempt.scripts.openapi.strip():
            data, process_id = await self._run_script(attempt, attempt)
            source = "script"
        else:
            data, process_id = await self._fetch_from_preview(attempt), None
            source = "preview"
        limits = report_limits(self.ctx.settings)
        spec, pretty = await self._parser.run(
            lambda _: _checked_and_pretty(data, SPEC_NAME, limits)
        )
        artifact = await self.artifacts.add(
            attempt.id, SPEC_NAME, pretty, ArtifactKind.openapi, process_id
        )
        self.ctx.publish(EventType.openapi_updated, attempt.project_id, OpenApiUpdated(attempt.id))
        return self._describe(artifact, spec, source)

    def _describe(self, artifact: Artifact, spec: dict[str, Any], source: str) -> AttemptSpec:
        info = spec.get("info") or {}
        return AttemptSpec(
            artifact=artifact,
            source=source,
            title=str(info.get("title", "")),
            version=str(info.get("version", "")),
            endpoints=_endpoint_count(spec),
        )

    async def _run_script(
        self, attempt: Attempt, where: Attempt, setup: str = ""
    ) -> tuple[bytes, str]:
        """Run the openapi script in `where` (the attempt, or a checkout of its base)."""
        process_id = new_id()
        output = self.artifacts.folder(process_id) / SPEC_OUTPUT
        command = attempt.scripts.openapi if not setup else f"{setup}\n{attempt.scripts.openapi}"
        proc = await self.processes.run(
            where,
            ProcessRequest(
                RunReason.openapi,
                shell_argv(command),
                env={"OPENAPI_OUTPUT": str(output)},
                process_id=process_id,
            ),
        )
        if proc.status is not ProcessStatus.succeeded:
            raise RunFailure(
                f"the openapi script {proc.error or proc.status.value}; its log has the details",
                code="openapi_script_failed",
                debug_id=proc.debug_id or new_debug_id(),
                process_id=proc.id,
            )
        found = await self.artifacts.by_name(process_id, SPEC_OUTPUT)
        if found is None:
            raise InvalidInput(
                "the openapi script wrote nothing to $OPENAPI_OUTPUT", code="spec_missing"
            )
        limits = report_limits(self.ctx.settings)
        if found.size > limits.file_bytes:  # never read into memory
            raise InvalidInput(
                file_too_large(SPEC_OUTPUT, found.size, limits), code=REPORT_TOO_LARGE
            )
        return await self.artifacts.read(found), process_id

    async def _fetch_from_preview(self, attempt: Attempt) -> bytes:
        previews = await self.previews.list_for_attempt(attempt.id)
        chosen = main_running(previews)
        run = self.previews.run_of(chosen.id) if chosen else None
        if run is None or run.upstream is None:
            raise Conflict(
                "no openapi script, and no running preview to ask for its spec: start the "
                "preview or set the project's openapi script",
                code="preview_not_running",
            )
        tried = []
        limits = report_limits(self.ctx.settings)
        for path in SPEC_PATHS:
            try:
                status, data = await fetch(run.upstream, path, limit=limits.file_bytes)
            except ValueError:  # read no further than the limit
                answer = f"the preview's answer to {path}"
                raise InvalidInput(over_limit(answer, limits), code=REPORT_TOO_LARGE) from None
            if status == 200:
                return data
            tried.append(f"{path} ({status or 'no answer'})")
        raise NotFound(f"the preview serves no spec at {', '.join(tried)}", code="spec_not_found")

    # -- reading ----------------------------------------------------------------------------------

    async def latest(self, attempt_id: str) -> AttemptSpec:
        artifact = await self._latest_artifact(attempt_id)
        data = await self.artifacts.read(artifact)
        spec = await self._parser.run(lambda _: json.loads(data))
        return self._describe(artifact, spec, "script" if artifact.process_id else "preview")

    async def latest_document(self, attempt_id: str) -> bytes:
        return await self.artifacts.read(await self._latest_artifact(attempt_id))

    async def _latest_artifact(self, attempt_id: str) -> Artifact:
        await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        specs = await self.artifacts.list_for_attempt(attempt_id, ArtifactKind.openapi)
        latest = next((a for a in specs if a.name == SPEC_NAME), None)
        if latest is None:
            raise NotFound(
                "this attempt has no API spec yet: make one (POST …/openapi)",
                code="spec_not_found",
            )
        return latest

    # -- the base branch's spec ---------------------------------------------------------------

    async def diff(self, attempt_id: str) -> SpecComparison:
        """The latest spec against the base branch's spec at the merge-base."""
        head_artifact = await self._latest_artifact(attempt_id)
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        tree = await attempt_worktree(self.ctx, attempt)
        base_commit = await merge_base(tree, attempt.base_branch)
        base = await self._base_spec(attempt, base_commit)
        data = await self.artifacts.read(head_artifact)
        diff = await self._parser.run(lambda _: diff_specs(base, json.loads(data)))
        return SpecComparison(base_commit, head_artifact.id, diff)

    async def _base_spec(self, attempt: Attempt, commit: str) -> dict[str, Any]:
        if not attempt.scripts.openapi.strip():
            raise Conflict(
                "the base branch's spec is made by the project's openapi script, and this "
                "project has none",
                code="no_base_spec",
            )
        name = f"base-{commit}.json"
        lock = self._base_locks.setdefault(f"{attempt.id}:{commit}", asyncio.Lock())
        async with lock:
            kept = await self.artifacts.list_for_attempt(attempt.id, ArtifactKind.openapi)
            cached = next((a for a in kept if a.name == name), None)
            if cached is not None:
                kept_data = await self.artifacts.read(cached)
                return dict(await self._parser.run(lambda _: json.loads(kept_data)))
            data, process_id = await self._in_base_checkout(attempt, commit)
            source, limits = f"the base spec ({commit[:10]})", report_limits(self.ctx.settings)
            spec = await self._parser.run(lambda _: check_spec(data, source, limits))
            await self.artifacts.add(
                attempt.id, name, json.dumps(spec).encode(), ArtifactKind.openapi, process_id
            )
            return spec

    def clear_checkouts(self) -> None:
        """Blocking, at start-up: base checkouts a stopped server left (git prunes their
        records once the folders are gone)."""
        shutil.rmtree(self._checkouts, ignore_errors=True)

    async def _in_base_checkout(self, attempt: Attempt, commit: str) -> tuple[bytes, str]:
        """Run setup and the openapi script in a throwaway worktree at `commit`."""
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        repo = Path(project.repo_path)
        checkout = self._checkouts / f"{attempt.id[:8]}-{commit[:12]}"
        checkout.parent.mkdir(parents=True, exist_ok=True)
        async with git.repo_lock(repo):
            await git.run_git(repo, "worktree", "add", "--detach", str(checkout), commit)
        try:
            if attempt.sandbox.provider not in (None, "none"):
                await asyncio.to_thread(self.ctx.sandboxes.hand_over, checkout)
            where = replace(attempt, worktree_path=str(checkout))
            return await self._run_script(attempt, where, setup=attempt.scripts.setup.strip())
        finally:
            async with git.repo_lock(repo):
                await worktrees.remove_worktree(repo, checkout)
            await asyncio.to_thread(shutil.rmtree, checkout, True)
