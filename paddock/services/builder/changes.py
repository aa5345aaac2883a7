"""Change requests: a change in the founder's words, clarified in conversation (the planner's
questions, their answers), related to the brief and scored for alignment, then confirmed as an
iteration whose build patches the latest version (domain/builder/changes.py, alignment.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from paddock.domain.builder.alignment import Alignment, align, relate
from paddock.domain.builder.apps import App
from paddock.domain.builder.brief import Answer, Brief
from paddock.domain.builder.builds import BuildStatus
from paddock.domain.builder.changes import (
    ChangeRequest,
    ChangeStatus,
    IterationBudget,
    check_description,
    iterations_used,
)
from paddock.domain.builder.gates import GateChoice
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.names import new_id
from paddock.planners import PlannerFailed
from paddock.services.builder.build_parts import BuildParts
from paddock.services.builder.builds import BuildService
from paddock.services.builder.decisions import DecisionService
from paddock.services.builder.versions import VersionService
from paddock.services.context import log
from paddock.store import builds as build_store
from paddock.store import decisions as store


class ChangeService:
    def __init__(
        self,
        parts: BuildParts,
        builds: BuildService,
        decisions: DecisionService,
        versions: VersionService,
    ) -> None:
        self.parts = parts
        self.ctx = parts.ctx
        self.builds = builds
        self.decisions = decisions
        self.versions = versions

    # -- the conversation -----------------------------------------------------------------

    async def create(self, app_id: str, description: str) -> ChangeRequest:
        """A change of the latest version, in the founder's words, with the planner's
        clarifying questions. Refused when there is nothing to change yet, the app is parked,
        another change is being talked through, or no iteration is left."""
        description = check_description(description)
        app = await self.parts.apps.get(app_id)
        version = (await self.versions.named(app.id, None)).name
        if app.parked:
            raise Conflict("the app is parked: resume it first", code="app_parked")
        changes = await self._changes(app.id)
        open_one = next((c for c in changes if c.status.open), None)
        if open_one is not None:
            raise Conflict(
                "another change is being talked through: confirm or discard it first",
                code="change_in_progress",
                change_id=open_one.id,
            )
        budget = await self._budget(app, changes)
        if budget.exhausted:
            budget.check_next(confirmed_last=True)  # raises the plain cap message
        _n, brief = await self.parts.apps.brief(app.id)
        questions = await self.parts.apps.planner().change_questions(brief, description)
        now = datetime.now(UTC)
        change = ChangeRequest(
            id=new_id(),
            app_id=app.id,
            description=description,
            version=version,
            status=ChangeStatus.draft,
            created_at=now,
            updated_at=now,
            questions=tuple(questions),
        )
        change = await self.ctx.db.run(lambda s: store.add_change(s, change))
        await self.parts.timeline.add(
            app,
            TimelineKind.change_requested,
            f"You asked for a change to {version}: {description}"[:300],
            data={"change_id": change.id},
        )
        return change

    async def answer(self, change_id: str, answers: dict[str, str]) -> ChangeRequest:
        """The founder's answers: the clarified description, and how it relates to the brief
        (which features, or a new capability; a non-goal it goes against). Answering again
        clarifies again."""
        change = await self.get(change_id)
        if not change.status.open:
            raise Conflict(
                f"this change is {change.status.value}: it can no longer be clarified",
                code="change_closed",
            )
        unknown = set(answers) - {q.id for q in change.questions}
        if unknown:
            raise InvalidInput(
                f"no question {', '.join(sorted(unknown))} was asked", code="unknown_question"
            )
        given = [Answer(question_id=q.id, text=answers.get(q.id, "")) for q in change.questions]
        _n, brief = await self.parts.apps.brief(change.app_id)
        planner = self.parts.apps.planner()
        clarified = await planner.clarify_change(
            brief, change.description, list(change.questions), given
        )
        match = relate(brief, clarified, change.id)
        change = await self._save(
            replace(
                change,
                status=ChangeStatus.clarified,
                answers=tuple(given),
                clarified=clarified,
                features=match.features,
                new_capability=match.new_capability,
                against_non_goals=match.against_non_goals,
            )
        )
        app = await self.parts.apps.get(change.app_id)
        related = ", ".join(change.features) if change.features else "a new capability"
        await self.parts.timeline.add(
            app,
            TimelineKind.change_clarified,
            f"The change is clear: it touches {related}",
            data={"change_id": change.id},
        )
        return change

    async def confirm(self, change_id: str, *, confirm_last: bool = False) -> ChangeRequest:
        """The founder's yes: an iteration. Its number and the tier's limit, the app's
        alignment with it counted (and a model's judgement beside it, when there is a model),
        and its build queued. A pending decision gate is decided: iterate."""
        change = await self.get(change_id)
        if change.status is not ChangeStatus.clarified:
            raise Conflict(
                "answer the change's questions first"
                if change.status is ChangeStatus.draft
                else f"this change is {change.status.value} already",
                code="change_not_clarified"
                if change.status is ChangeStatus.draft
                else "change_closed",
            )
        app = await self.parts.apps.get(change.app_id)
        if app.parked:
            raise Conflict("the app is parked: resume it first", code="app_parked")
        changes = await self._changes(app.id)
        budget = await self._budget(app, changes)
        iteration = budget.check_next(confirmed_last=confirm_last)
        _n, brief = await self.parts.apps.brief(app.id)
        counted = [c for c in changes if c.status is ChangeStatus.confirmed] + [change]
        alignment = align(brief, [(c.id, c.prompt) for c in counted])
        model_score, model_reason = await self._judgement(brief, [c.prompt for c in counted])
        build = await self.builds.start(app.id, change=change.prompt)
        change = await self._save(
            replace(
                change,
                status=ChangeStatus.confirmed,
                iteration=iteration,
                tier=budget.tier,
                tier_limit=budget.limit,
                alignment_score=alignment.score,
                model_score=model_score,
                model_reason=model_reason,
                build_id=build.id,
            )
        )
        await self.parts.timeline.add(
            app,
            TimelineKind.change_confirmed,
            f"Iteration {iteration} of {budget.limit}: build {build.number} queued "
            f"({alignment.score}% aligned with the brief)",
            build_id=build.id,
            data={"change_id": change.id, "alignment": alignment.score},
        )
        pending = await self.decisions.pending(app.id)
        if pending is not None:
            await self.decisions.resolve(pending.id, GateChoice.iterate, "a change request")
        return change

    async def discard(self, change_id: str) -> ChangeRequest:
        change = await self.get(change_id)
        if not change.status.open:
            raise Conflict(f"this change is {change.status.value}", code="change_closed")
        change = await self._save(replace(change, status=ChangeStatus.discarded))
        app = await self.parts.apps.get(change.app_id)
        await self.parts.timeline.add(
            app,
            TimelineKind.change_discarded,
            "You dropped the change",
            data={"change_id": change.id},
        )
        return change

    # -- reading --------------------------------------------------------------------------

    async def get(self, change_id: str) -> ChangeRequest:
        return await self.ctx.db.run(lambda s: store.get_change(s, change_id))

    async def list_for_app(self, app_id: str) -> list[ChangeRequest]:
        app = await self.parts.apps.get(app_id)
        return await self._changes(app.id)

    async def budget(self, app_id: str) -> IterationBudget:
        app = await self.parts.apps.get(app_id)
        return await self._budget(app, await self._changes(app.id))

    async def alignment(self, app_id: str) -> Alignment:
        """The app's alignment: its confirmed changes against the brief (100 with none)."""
        app = await self.parts.apps.get(app_id)
        _n, brief = await self.parts.apps.brief(app.id)
        confirmed = [c for c in await self._changes(app.id) if c.status is ChangeStatus.confirmed]
        alignment = align(brief, [(c.id, c.prompt) for c in confirmed])
        if confirmed and confirmed[-1].model_score is not None:
            last = confirmed[-1]
            alignment = replace(
                alignment, model_score=last.model_score, model_reason=last.model_reason
            )
        return alignment

    # -- helpers --------------------------------------------------------------------------

    async def _changes(self, app_id: str) -> list[ChangeRequest]:
        return await self.ctx.db.run(lambda s: store.list_changes(s, app_id))

    async def _budget(self, app: App, changes: list[ChangeRequest]) -> IterationBudget:
        builds = await self.ctx.db.run(lambda s: build_store.list_builds(s, app.id))
        cancelled = {b.id for b in builds if b.status is BuildStatus.cancelled}
        settings = self.ctx.settings.builder
        return IterationBudget(
            used=iterations_used(changes, cancelled),
            limit=settings.iteration_limit,
            tier=settings.tier,
        )

    async def _judgement(self, brief: Brief, changes: list[str]) -> tuple[int | None, str]:
        """A model's score beside the lexical one; none offline, and none (logged) when the
        model fails: it informs, it never blocks a change."""
        try:
            judged = await self.parts.apps.planner().judge_alignment(brief, changes)
        except PlannerFailed as exc:
            log.warning("alignment judgement failed: %s (%s)", exc.message, exc.detail)
            return None, ""
        return (judged.score, judged.reason) if judged else (None, "")

    async def _save(self, change: ChangeRequest) -> ChangeRequest:
        return await self.ctx.db.run(lambda s: store.save_change(s, change))
