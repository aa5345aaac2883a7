"""Previews: an attempt's dev services, each behind the proxy at a stable host of its own.

`start` prepares the attempt's previews (all its services, or one), reserves their ports (so
each service is told the others' URLs), and runs each (see preview_run.py); readiness is
waited for in the background unless the caller asks to wait. A preview idle longer than
`preview_idle_minutes` is stopped; deleting its attempt stops it; at start-up previews left
active by a server that is gone are marked stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections import defaultdict
from dataclasses import replace
from functools import partial

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Project
from paddock.domain.errors import Conflict, InvalidInput, NotFound, PaddockError
from paddock.domain.events import EventType
from paddock.domain.preview import (
    Preview,
    PreviewPath,
    PreviewStatus,
    PreviewView,
    Service,
    host_label,
)
from paddock.services import counters
from paddock.services.context import Context
from paddock.services.previews.preview_access import (
    EMBED_PARAM,
    TICKET_PARAM,
    PreviewAccess,
    new_token,
)
from paddock.services.previews.preview_database import (
    attempt_data_dir,
    drop_schema,
)
from paddock.services.previews.preview_plane import PreviewPlane
from paddock.services.previews.preview_plans import Planner, dev_services, preview_url, preview_view
from paddock.services.previews.preview_run import ServiceRun, reserve_port
from paddock.services.processes.processes import ProcessService
from paddock.store import attempts as attempt_store
from paddock.store import previews as store
from paddock.store import projects as project_store
from paddock.store.tables.base import utcnow

log = logging.getLogger("paddock.previews")

TOUCH_SECONDS = 5.0  # how often the proxy's last-access times are written


class PreviewService:
    def __init__(self, ctx: Context, processes: ProcessService) -> None:
        self.ctx = ctx
        self.processes = processes
        self.access = PreviewAccess(ctx.settings, ctx.db)
        self._runs: dict[str, ServiceRun] = {}  # preview id → its current run
        self._hosts: dict[str, str] = {}  # host label → preview id, while running
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._starting: set[asyncio.Task[Preview]] = set()
        self._touched: set[str] = set()
        self._loop: asyncio.Task[None] | None = None
        self.planner = Planner(ctx)
        self.plane = PreviewPlane(ctx.settings)
        self._warming: asyncio.Task[None] | None = None

    # -- what a preview is ---------------------------------------------------------------------

    def url(self, preview: Preview) -> str:
        return preview_url(self.ctx.settings, preview)

    def view(self, preview: Preview) -> PreviewView:
        return preview_view(self.ctx.settings, preview)

    async def services(self, attempt: Attempt, project: Project) -> list[Service]:
        return await dev_services(attempt, project)

    # -- start, stop -----------------------------------------------------------------------------

    async def start(
        self, attempt_id: str, service: str | None = None, *, wait: bool = False
    ) -> list[Preview]:
        """Start the attempt's previews (all its services, or `service`); already running ones
        are left as they are. With `wait`, return once each answers or failed."""
        attempt, project = await self._attempt(attempt_id)
        services = await self.services(attempt, project)
        if not services:
            raise InvalidInput(
                "the project has no dev script and no services: set one in its settings",
                code="no_dev_script",
            )
        chosen = [s for s in services if service is None or s.name == service]
        if not chosen:
            names = ", ".join(s.name for s in services)
            raise NotFound(f"no service {service!r} (there are: {names})", code="unknown_service")
        async with self._locks[attempt.id]:
            previews = [await self._prepare(attempt, s, only=len(services) == 1) for s in chosen]
            fresh = [p for p in previews if p.id not in self._runs]
            try:
                ports = {p.id: await reserve_port(self.ctx, p.id) for p in fresh}
                env = await self.planner.env(attempt, project, services, ports)
                connect = partial(self._connect_service, attempt.id)
                plans = [
                    await self.planner.plan(attempt, p, env, ports[p.id], connect) for p in fresh
                ]
            except PaddockError as exc:
                for preview in fresh:  # none of them starts: say why on each
                    await self._fail_unstarted(preview, exc.message)
                raise
            tasks = []
            for preview, plan in zip(fresh, plans, strict=True):
                run = ServiceRun(self.ctx, self.processes, preview, plan, self._changed)
                self._runs[preview.id] = run
                tasks.append(self._spawn_start(run))
            counters.PREVIEWS_STARTED.inc(amount=len(fresh))
        if wait and tasks:
            await asyncio.wait(tasks)
        return [await self.get(p.id) for p in previews]

    async def _fail_unstarted(self, preview: Preview, reason: str) -> None:
        failed = await self.ctx.db.run(
            lambda s: store.update_preview(s, preview.id, status=PreviewStatus.failed, error=reason)
        )
        await self._changed(failed)

    def _spawn_start(self, run: ServiceRun) -> asyncio.Task[Preview]:
        task = asyncio.create_task(run.start())
        self._starting.add(task)

        def done(finished: asyncio.Task[Preview]) -> None:
            self._starting.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("preview %s did not start", run.preview.id, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def _prepare(self, attempt: Attempt, service: Service, *, only: bool) -> Preview:
        current = await self.ctx.db.run(
            lambda s: store.find_for_service(s, attempt.id, service.name)
        )
        if current is not None and current.id in self._runs:
            return current
        _, token_hash = new_token()
        host = host_label(attempt.id, service.name, only_service=only)
        if current is not None:
            host = current.host  # stable for the attempt's life
        preview = await self.ctx.db.run(
            lambda s: store.prepare(
                s,
                attempt_id=attempt.id,
                project_id=attempt.project_id,
                service=service.name,
                command=service.command,
                host=host,
                token_hash=token_hash,
            )
        )
        await self._changed(preview)
        return preview

    async def stop(self, preview_id: str) -> Preview:
        preview = await self.get(preview_id)
        run = self._runs.get(preview_id)
        if run is not None:
            await run.stop()
            return run.preview
        if preview.status.active:  # left by a server that is gone
            preview = await self.ctx.db.run(
                lambda s: store.update_preview(s, preview_id, status=PreviewStatus.stopped)
            )
            await self._changed(preview)
        return preview

    async def restart(self, preview_id: str, *, wait: bool = False) -> Preview:
        preview = await self.stop(preview_id)
        started = await self.start(preview.attempt_id, preview.service, wait=wait)
        return started[0]

    async def stop_for_attempt(self, attempt_id: str) -> None:
        previews = await self.ctx.db.run(lambda s: store.list_for_attempt(s, attempt_id))
        await asyncio.gather(*(self.stop(p.id) for p in previews if p.status.active))

    async def forget_attempt(self, attempt: Attempt) -> None:
        """The attempt goes: stop its previews, drop its database and data dir."""
        await self.stop_for_attempt(attempt.id)
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        if project.database == "postgres":
            with contextlib.suppress(Exception):
                await asyncio.to_thread(drop_schema, self.ctx.settings, attempt.id)
        data_dir = attempt_data_dir(self.ctx.settings, attempt.id)
        if data_dir.exists():
            await asyncio.to_thread(shutil.rmtree, data_dir, True)

    async def stop_all(self) -> None:
        await asyncio.gather(*(run.stop() for run in list(self._runs.values())))

    # -- reading ---------------------------------------------------------------------------------

    async def get(self, preview_id: str) -> Preview:
        run = self._runs.get(preview_id)
        if run is not None:
            return run.preview
        return await self.ctx.db.run(lambda s: store.get_preview(s, preview_id))

    async def find(self, preview_id: str) -> Preview | None:
        try:
            return await self.get(preview_id)
        except NotFound:
            return None

    async def find_by_host(self, host: str) -> Preview | None:
        return await self.ctx.db.run(lambda s: store.find_by_host(s, host))

    async def list_for_attempt(self, attempt_id: str) -> list[Preview]:
        await self._attempt(attempt_id)  # 404 for an unknown attempt
        previews = await self.ctx.db.run(lambda s: store.list_for_attempt(s, attempt_id))
        return [self._runs[p.id].preview if p.id in self._runs else p for p in previews]

    async def open_link(
        self, preview_id: str, *, embed: bool = False, path: str = "/"
    ) -> dict[str, str]:
        """A URL with a one-time ticket (for a browser; `embed`: for an iframe in Paddock's
        own page), at `path` inside the preview (its host stays the preview's), and the key
        for other clients."""
        place = PreviewPath.of(path)
        preview = await self.get(preview_id)
        if preview.status is not PreviewStatus.running:
            raise Conflict(
                f"the preview of {preview.service} is {preview.status.value}: start it first",
                code="preview_not_running",
            )
        ticket = await self.access.issue_ticket(preview)
        params = [(TICKET_PARAM, ticket), *([(EMBED_PARAM, "1")] if embed else [])]
        return {
            "url": place.link(self.url(preview), *params),
            "key": self.access.key(preview),
        }

    # -- what the proxy asks ----------------------------------------------------------------------

    def route(self, host: str) -> ServiceRun | None:
        """The running preview served at host label `host`, if any."""
        preview_id = self._hosts.get(host)
        run = self._runs.get(preview_id) if preview_id is not None else None
        if run is None or run.upstream is None:
            return None
        return run

    async def _connect_service(
        self, attempt_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the attempt's running service at (reserved) `port`, for another of
        its services that cannot reach it itself (its own network)."""
        for run in list(self._runs.values()):
            if run.plan.attempt.id == attempt_id and run.port == port and run.upstream:
                return await run.upstream.open()
        raise ConnectionRefusedError(f"no running service of attempt {attempt_id} on {port}")

    def run_of(self, preview_id: str) -> ServiceRun | None:
        run = self._runs.get(preview_id)
        return run if run is not None and run.upstream is not None else None

    def touch(self, preview_id: str) -> None:
        """A request was proxied (written in batches)."""
        self._touched.add(preview_id)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def reconcile(self) -> list[str]:
        """At start-up: previews a server that is gone left active are stopped (their dev
        servers went with it)."""
        active = await self.ctx.db.run(partial(store.list_active, runner_id=self.ctx.runner_id))
        for preview in active:
            if preview.id in self._runs:
                continue
            updated = await self.ctx.db.run(partial(_mark_stopped, preview_id=preview.id))
            await self._changed(updated)
        return [p.id for p in active]

    async def open(self) -> None:
        """Bind the previews' port (before anything can link to it)."""
        await self.plane.open()

    def start_loop(self) -> None:
        self._loop = asyncio.create_task(self._housekeeping())

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        await self.stop_all()
        if self._warming is not None:
            await asyncio.gather(self._warming, return_exceptions=True)
        await self.plane.close()
        await self._write_touches()
        self.planner.close()

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(TOUCH_SECONDS)
            try:
                for preview_id in await self.plane.recently_used(TOUCH_SECONDS):
                    self.touch(preview_id)
                await self._write_touches()
                await self.stop_idle()
                await self.access.forget_expired()
            except Exception:
                log.exception("preview housekeeping failed")

    async def _write_touches(self) -> None:
        touched, self._touched = list(self._touched), set()
        if touched:
            now = utcnow()
            await self.ctx.db.run(lambda s: store.touch(s, touched, now))
            # A running preview is read from its run (stop_idle too): it must know as well.
            for preview_id in touched:
                run = self._runs.get(preview_id)
                if run is not None:
                    run.preview = replace(run.preview, last_access_at=now)

    async def stop_idle(self) -> list[str]:
        """Stop the running previews nobody requested for `preview_idle_minutes`."""
        minutes = self.ctx.settings.previews.idle_minutes
        if minutes <= 0:
            return []
        now = utcnow()
        stopped = []
        for run in list(self._runs.values()):
            preview = await self.get(run.preview.id)
            if preview.status is not PreviewStatus.running:
                continue
            since = preview.last_access_at or preview.updated_at
            if (now - since).total_seconds() >= minutes * 60:
                log.info("preview %s idle for %g min: stopping it", preview.id, minutes)
                await run.stop(notice=f"stopped after {minutes:g} min without requests")
                stopped.append(preview.id)
        return stopped

    # -- internals ---------------------------------------------------------------------------------

    async def _attempt(self, attempt_id: str) -> tuple[Attempt, Project]:
        def load(session: Session) -> tuple[Attempt, Project]:
            attempt = attempt_store.get_attempt(session, attempt_id)
            return attempt, project_store.get_project(session, attempt.project_id)

        return await self.ctx.db.run(load)

    async def _changed(self, preview: Preview) -> None:
        run = self._runs.get(preview.id)
        if preview.status is PreviewStatus.running:
            self._hosts[preview.host] = preview.id
            if run is not None and run.upstream is not None:
                await self.plane.publish(preview, self.access.key(preview), run.upstream)
        elif preview.status is PreviewStatus.starting:
            self._warm_plane()
        else:
            self._hosts.pop(preview.host, None)
            await self.plane.withdraw(preview.id)
            if run is not None and run.preview.status == preview.status:
                del self._runs[preview.id]
        view = preview_view(self.ctx.settings, preview)
        self.ctx.publish(EventType.preview_updated, preview.project_id, view)

    def _warm_plane(self) -> None:
        """Start the data plane while the dev server starts (once)."""
        if self._warming is None:
            self._warming = asyncio.create_task(self.plane.warm())


def _mark_stopped(session: Session, preview_id: str) -> Preview:
    return store.update_preview(
        session, preview_id, status=PreviewStatus.stopped, notice="stopped: the server restarted"
    )
