"""Apps: from an idea to a brief and a plan. An app is a Paddock project (a repository in the
data dir, or one the founder brought) with the answers, the brief (versioned) and the plan
options; its builds are services/builder/builds.py's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from paddock.domain.builder.apps import App, AppStage
from paddock.domain.builder.brief import Answer, Brief, app_name
from paddock.domain.builder.templates import AppTemplate
from paddock.domain.builder.timeline import TimelineEntry, TimelineKind
from paddock.domain.entities import AgentSpec, Project
from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.events import EventType
from paddock.domain.names import new_id, slugify
from paddock.planners import Planner
from paddock.services.agents import AgentService
from paddock.services.builder.templates import get_template, load_templates
from paddock.services.builder.timeline import Timeline
from paddock.services.context import Context
from paddock.services.projects import ProjectService
from paddock.store import apps as store
from paddock.store import builds as build_store
from paddock.store import projects as project_store

MAX_IDEA = 4000
# Only the app's name may end where the project's does: a number makes it unique.
_NAME_TRIES = 50


def apps_dir(data_dir: Path) -> Path:
    """Where the repositories Paddock makes for apps live."""
    return data_dir / "apps"


class AppService:
    def __init__(
        self,
        ctx: Context,
        projects: ProjectService,
        agents: AgentService,
        timeline: Timeline,
        planner: Callable[[], Planner],
    ) -> None:
        self.ctx = ctx
        self.projects = projects
        self.agents = agents
        self.timeline = timeline
        self.planner = planner  # the settings' planner, asked for each time (keys may change)

    # -- idea -----------------------------------------------------------------------------

    async def create(
        self, idea: str, *, repo_path: str | None = None, agent: AgentSpec | None = None
    ) -> App:
        """An app from `idea`: its clarifying questions asked first (a planner that fails
        leaves nothing behind), then its repository: a new one under the data dir, or
        `repo_path`, an existing repository (whose own tags are kept clear of the app's)."""
        idea = idea.strip()
        if not idea:
            raise InvalidInput("describe what you want to build", code="empty_idea")
        if len(idea) > MAX_IDEA:
            raise InvalidInput(f"an idea is at most {MAX_IDEA} characters", code="idea_too_long")
        agent = agent or AgentSpec(profile=self.ctx.settings.builder.agent)
        self.agents.check(agent)
        planner = self.planner()
        questions = await planner.questions(idea)
        name, slug = await self._free_name(app_name(idea))
        project = await self._project(name, slug, idea, repo_path)
        app = App(
            id=new_id(),
            name=name,
            slug=slug,
            idea=idea,
            stage=AppStage.idea,
            project_id=project.id,
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
            questions=tuple(questions),
            agent=agent,
            tag_prefix=f"{slug}/" if repo_path else "",
            planner=planner.name,
        )
        app = await self.ctx.db.run(lambda s: store.create_app(s, app))
        self.ctx.publish(EventType.app_created, app.project_id, app)
        await self.timeline.add(app, TimelineKind.idea, f"You described the idea: {idea[:200]}")
        return app

    async def _free_name(self, wanted: str) -> tuple[str, str]:
        """A project name and slug no project or app has yet."""

        def find(session: Session) -> tuple[str, str]:
            taken = {a.slug for a in store.list_apps(session)}
            for n in range(1, _NAME_TRIES + 1):
                name = wanted if n == 1 else f"{wanted} {n}"
                slug = slugify(name, max_length=50)
                if slug not in taken and not project_store.find_project(session, name=name):
                    return name, slug
            raise Conflict(f"too many apps are named {wanted!r}", code="app_name_taken")

        return await self.ctx.db.run(find)

    async def _project(self, name: str, slug: str, idea: str, repo_path: str | None) -> Project:
        if repo_path is not None:
            return await self.projects.register(repo_path, name=name)
        path = apps_dir(self.ctx.settings.storage.data_dir) / slug
        readme = f"# {name}\n\n{idea}\n\nMade with Paddock's builder.\n"
        return await self.projects.create_repository(
            str(path), name=name, files={"README.md": readme}
        )

    # -- brief ----------------------------------------------------------------------------

    async def answer(self, app_id: str, answers: dict[str, str]) -> tuple[App, int, Brief]:
        """The founder's answers, and the brief the planner makes of them (its version 1, or
        the next: answering again makes a new brief)."""
        app = await self.get(app_id)
        unknown = set(answers) - {q.id for q in app.questions}
        if unknown:
            raise InvalidInput(
                f"no question {', '.join(sorted(unknown))} was asked", code="unknown_question"
            )
        given = [Answer(question_id=q.id, text=answers.get(q.id, "")) for q in app.questions]
        brief = await self.planner().brief(app.idea, list(app.questions), given)
        version = await self.ctx.db.run(lambda s: store.add_brief(s, app.id, brief, app.planner))
        app = await self._update(app, answers=given, stage=_later(app.stage, AppStage.brief))
        await self.timeline.add(
            app, TimelineKind.brief, f"The brief was written: {len(brief.features)} features"
        )
        return app, version, brief

    async def edit_brief(self, app_id: str, brief: Brief) -> tuple[App, int]:
        """The founder's edit: a new version of the brief (the older ones are kept)."""
        app = await self.get(app_id)
        await self._brief(app)  # there is one to edit
        version = await self.ctx.db.run(lambda s: store.add_brief(s, app.id, brief, "founder"))
        app = await self._update(app, name=brief.name)
        await self.timeline.add(
            app, TimelineKind.brief, f"You edited the brief (version {version})"
        )
        return app, version

    async def brief(self, app_id: str) -> tuple[int, Brief]:
        return await self._brief(await self.get(app_id))

    async def _brief(self, app: App) -> tuple[int, Brief]:
        found = await self.ctx.db.run(lambda s: store.current_brief(s, app.id))
        if found is None:
            raise Conflict("the app has no brief yet: answer its questions", code="no_brief")
        return found

    # -- plan -----------------------------------------------------------------------------

    async def make_plan(self, app_id: str) -> App:
        """2 or 3 ways to build the app, each a template Paddock ships, one recommended."""
        app = await self.get(app_id)
        _version, brief = await self._brief(app)
        options = await self.planner().plan(brief, load_templates())
        app = await self._update(app, plan=options, stage=_later(app.stage, AppStage.plan))
        titles = ", ".join(o.title for o in options)
        await self.timeline.add(
            app, TimelineKind.plan, f"{len(options)} ways to build it: {titles}"
        )
        return app

    async def choose(self, app_id: str, template_name: str) -> App:
        """Build the app with `template_name` (one of its plan's options): the project gets
        the template's scripts. Once a build started, the template stays."""
        app = await self.get(app_id)
        if template_name not in {o.template for o in app.plan}:
            raise InvalidInput(
                f"{template_name!r} is not one of the app's plan options", code="not_in_plan"
            )
        if app.template is not None and app.template != template_name:
            built = await self.ctx.db.run(lambda s: build_store.list_builds(s, app.id))
            if built:
                raise Conflict(
                    "the app was built with another template already", code="template_fixed"
                )
        template = get_template(template_name)
        await self.projects.update(app.project_id, scripts=asdict(template.scripts))
        app = await self._update(
            app, template=template_name, stage=_later(app.stage, AppStage.building)
        )
        await self.timeline.add(
            app,
            TimelineKind.plan_chosen,
            f"You chose: {template.label}",
            data={"template": template_name},
        )
        return app

    def templates(self) -> list[AppTemplate]:
        return load_templates()

    # -- reading --------------------------------------------------------------------------

    async def get(self, app_id: str) -> App:
        return await self.ctx.db.run(lambda s: store.get_app(s, app_id))

    async def list_all(self) -> list[App]:
        return await self.ctx.db.run(store.list_apps)

    async def for_project(self, project_id: str) -> App | None:
        return await self.ctx.db.run(lambda s: store.app_for_project(s, project_id))

    async def timeline_entries(self, app_id: str, *, after: int = 0) -> list[TimelineEntry]:
        await self.get(app_id)
        return await self.timeline.entries(app_id, after=after)

    async def _update(self, app: App, **changes: object) -> App:
        app = await self.ctx.db.run(lambda s: store.update_app(s, app.id, **changes))
        self.ctx.publish(EventType.app_updated, app.project_id, app)
        return app

    async def set_stage(self, app: App, stage: AppStage) -> App:
        return await self._update(app, stage=stage)

    async def set_parked(self, app: App, at: datetime | None) -> App:
        return await self._update(app, parked_at=at)

    async def link_attempt(self, app: App, task_id: str, attempt_id: str) -> App:
        return await self._update(app, task_id=task_id, attempt_id=attempt_id)


def _later(current: AppStage, reached: AppStage) -> AppStage:
    """The app's stage once it reached `reached`: never back (a new brief after the MVP)."""
    order = list(AppStage)
    return current if order.index(current) >= order.index(reached) else reached
