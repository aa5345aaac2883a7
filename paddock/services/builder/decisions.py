"""The decision gate after a preview, and parking: iterate, ship or park (domain/builder/
gates.py). A gate opens when the founder has seen the preview of a version no gate asked about
yet; parking stops the app's previews and refuses builds until the app is resumed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from paddock.domain.builder.apps import App
from paddock.domain.builder.gates import (
    MAX_REASON,
    Gate,
    GateChoice,
    decision_message,
)
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.errors import Conflict
from paddock.services.builder.build_parts import BuildParts
from paddock.store import builds as build_store
from paddock.store import decisions as store


class DecisionService:
    def __init__(self, parts: BuildParts) -> None:
        self.parts = parts
        self.ctx = parts.ctx

    async def preview_seen(self, app_id: str) -> Gate | None:
        """The founder saw the latest version's preview: the pending gate (opened now when no
        gate asked about that version yet); None when there is nothing to decide (no version
        yet, a parked app, or this version's gate was decided)."""
        app = await self.parts.apps.get(app_id)
        versions = await self.ctx.db.run(lambda s: build_store.list_versions(s, app.id))
        if not versions or app.parked:
            return None
        latest = versions[0].name

        gate, opened = await self.ctx.db.run(lambda s: _open(s, app.id, latest))
        if opened:
            assert gate is not None
            await self.parts.timeline.add(
                app,
                TimelineKind.gate_opened,
                f"You saw {latest}: time to decide what's next",
                data={"gate_id": gate.id, "version": latest},
            )
        return gate

    async def pending(self, app_id: str) -> Gate | None:
        app = await self.parts.apps.get(app_id)
        return await self.ctx.db.run(lambda s: store.pending_gate(s, app.id))

    async def list_for_app(self, app_id: str) -> list[Gate]:
        app = await self.parts.apps.get(app_id)
        return await self.ctx.db.run(lambda s: store.list_gates(s, app.id))

    async def resolve(self, gate_id: str, choice: GateChoice, reason: str = "") -> Gate:
        """Decide the gate (once: `gate_resolved` after). Park parks the app too."""
        reason = reason.strip()[:MAX_REASON]
        gate = await self.ctx.db.run(lambda s: store.get_gate(s, gate_id))
        app = await self.parts.apps.get(gate.app_id)
        gate = await self.ctx.db.run(lambda s: store.resolve_gate(s, gate_id, choice, reason))
        await self.parts.timeline.add(
            app,
            TimelineKind.decision,
            decision_message(choice, gate.version, reason),
            data={"gate_id": gate.id, "choice": choice.value, "version": gate.version},
        )
        if choice is GateChoice.park:
            await self.park(app.id)
        return gate

    async def park(self, app_id: str) -> App:
        """Pause the app: its previews stop, builds are refused; everything is kept."""
        app = await self.parts.apps.get(app_id)
        if app.parked:
            return app
        running = await self.ctx.db.run(lambda s: build_store.open_build(s, app.id))
        if running is not None:
            raise Conflict(
                f"build {running.number} is {running.status.value}: wait for it or cancel it "
                "before parking the app",
                code="build_in_progress",
                build_id=running.id,
            )
        if app.attempt_id is not None:
            await self._stop_previews(app)
        app = await self.parts.apps.set_parked(app, datetime.now(UTC))
        await self.parts.timeline.add(
            app, TimelineKind.parked, "The app is parked: its preview is stopped, nothing is lost"
        )
        return app

    async def resume(self, app_id: str) -> App:
        app = await self.parts.apps.get(app_id)
        if not app.parked:
            return app
        app = await self.parts.apps.set_parked(app, None)
        await self.parts.timeline.add(app, TimelineKind.resumed, "The app is back: build on")
        return app

    async def _stop_previews(self, app: App) -> None:
        """Every preview of the app's task: the latest version's and older versions'."""
        assert app.task_id is not None
        for attempt in await self.parts.attempts.list_for_task(app.task_id):
            await self.parts.previews.stop_for_attempt(attempt.id)


def _open(session: Session, app_id: str, latest: str) -> tuple[Gate | None, bool]:
    """The pending gate, else one opened for `latest` unless a gate asked about it already."""
    pending = store.pending_gate(session, app_id)
    if pending is not None:
        return pending, False
    if any(g.version == latest for g in store.list_gates(session, app_id)):
        return None, False
    return store.open_gate(session, app_id, latest)
