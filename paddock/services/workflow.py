"""Workflow steps: a project's board columns, their order, and what each runs or requires."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from paddock.domain.entities import AgentSpec, WorkflowStep
from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.events import EventType, StepsUpdated
from paddock.domain.states import Automation, StepRole
from paddock.domain.workflow import check_color, check_gate_kinds, check_step_name, check_template
from paddock.services.agents import AgentService
from paddock.services.context import Context
from paddock.store import projects as project_store
from paddock.store import steps as store
from paddock.store import tasks as task_store

DEFAULT_COLOR = "#64748b"


class WorkflowService:
    def __init__(self, ctx: Context, agents: AgentService) -> None:
        self.ctx = ctx
        self.agents = agents

    async def steps(self, project_id: str) -> list[WorkflowStep]:
        def load(session: Session) -> list[WorkflowStep]:
            project_store.get_project(session, project_id)
            return store.list_steps(session, project_id)

        return await self.ctx.db.run(load)

    async def get(self, step_id: str) -> WorkflowStep:
        return await self.ctx.db.run(lambda s: store.get_step(s, step_id))

    async def create(
        self,
        project_id: str,
        *,
        name: str,
        color: str = DEFAULT_COLOR,
        position: int | None = None,
        agent: AgentSpec | None = None,
        prompt_template: str = "",
        automation: Automation | None = None,
        gate: list[str] | None = None,
        role: StepRole | None = None,
    ) -> WorkflowStep:
        name, color = check_step_name(name), check_color(color)
        prompt_template = check_template(prompt_template)
        kinds = check_gate_kinds(gate or [])
        if agent is not None:
            self.agents.check(agent)

        def create(session: Session) -> WorkflowStep:
            project_store.get_project(session, project_id)
            return store.create_step(
                session,
                project_id=project_id,
                name=name,
                color=color,
                position=position,
                agent=agent,
                prompt_template=prompt_template,
                automation=automation,
                gate=kinds,
                role=role,
            )

        step = await self.ctx.db.run(create)
        await self._changed(project_id)
        return step

    async def update(self, step_id: str, **changes: Any) -> WorkflowStep:
        """Change what is given: name, color, agent (None: the attempt's), prompt_template,
        automation (None: nothing), gate (test kinds), role (None: none; taken from the step
        that had it)."""
        checks = {
            "name": check_step_name,
            "color": check_color,
            "prompt_template": check_template,
            "gate": check_gate_kinds,
        }
        for field, check in checks.items():
            if field in changes:
                changes[field] = check(changes[field])
        if changes.get("agent") is not None:
            self.agents.check(changes["agent"])
        step = await self.ctx.db.run(lambda s: store.update_step(s, step_id, **changes))
        await self._changed(step.project_id)
        return step

    async def reorder(self, project_id: str, step_ids: list[str]) -> list[WorkflowStep]:
        def reorder(session: Session) -> list[WorkflowStep]:
            current = {step.id for step in store.list_steps(session, project_id)}
            if not current:
                project_store.get_project(session, project_id)
            if len(step_ids) != len(set(step_ids)) or set(step_ids) != current:
                # The project's steps as they are now decide: a stale list is a conflict.
                raise Conflict(
                    "a reorder names every step of the project exactly once",
                    code="bad_step_order",
                )
            return store.reorder_steps(session, project_id, step_ids)

        steps = await self.ctx.db.run(reorder)
        await self._changed(project_id)
        return steps

    async def delete(self, step_id: str, *, move_tasks_to: str | None = None) -> int:
        """Delete the step; its tasks go to `move_tasks_to` (needed when it holds any).
        Returns how many tasks moved."""

        def delete(session: Session) -> tuple[str, int]:
            step = store.get_step(session, step_id)
            steps = store.list_steps(session, step.project_id)
            if len(steps) == 1:
                raise Conflict("a project keeps at least one step", code="last_step")
            moved = 0
            if store.count_tasks(session, step_id):
                if move_tasks_to is None:
                    raise Conflict(
                        f"step {step.name!r} holds tasks: say which step they move to "
                        "(move_tasks_to)",
                        code="step_has_tasks",
                        tasks=store.count_tasks(session, step_id),
                    )
                target = store.get_step(session, move_tasks_to)
                if target.project_id != step.project_id or target.id == step.id:
                    raise InvalidInput(
                        "the tasks move to another step of the same project",
                        code="bad_target_step",
                    )
                moved = store.move_all_tasks(session, step_id, target.id)
            store.delete_step(session, step_id)
            return step.project_id, moved

        project_id, moved = await self.ctx.db.run(delete)
        await self._changed(project_id)
        return moved

    async def task_prompts(self, task_id: str) -> dict[str, str]:
        def load(session: Session) -> dict[str, str]:
            task_store.get_task(session, task_id)
            return store.task_prompts(session, task_id)

        return await self.ctx.db.run(load)

    async def set_task_prompt(self, task_id: str, step_id: str, prompt: str | None) -> None:
        """A task's own prompt for a step (template variables allowed); None: the step's."""
        if prompt is not None:
            prompt = check_template(prompt)

        def save(session: Session) -> None:
            task = task_store.get_task(session, task_id)
            step = store.get_step(session, step_id)
            if step.project_id != task.project_id:
                raise InvalidInput(
                    "that step belongs to another project", code="step_not_in_project"
                )
            store.set_task_prompt(session, task_id, step_id, prompt)

        await self.ctx.db.run(save)

    async def _changed(self, project_id: str) -> None:
        steps = await self.ctx.db.run(lambda s: store.list_steps(s, project_id))
        self.ctx.publish(EventType.steps_updated, project_id, StepsUpdated(project_id, steps))
