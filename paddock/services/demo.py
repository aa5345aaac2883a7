"""The demo project a first start creates, so a newcomer sees an attempt run with no API key."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from paddock.domain.entities import AgentSpec, Attempt, Project, Scripts
from paddock.services.attempts.attempts import AttemptService
from paddock.services.projects import ProjectService
from paddock.services.tasks import TaskService

DEMO_NAME = "hello-paddock"
DEMO_TASK = "Change the greeting on the home page"
DEMO_TASK_DESCRIPTION = (
    "The page says 'Hello, world'. Make it greet Paddock users instead. "
    "(This task is worked by the demo agent, a script that calls no model.)"
)
DEMO_SCRIPTS = Scripts(dev="python3 app.py", unit_test="python3 -m unittest -v")


def _asset_files(root: Traversable, prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in root.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found.update(_asset_files(entry, f"{prefix}{entry.name}/"))
        else:
            found[prefix + entry.name] = entry.read_text()
    return found


async def create_demo(
    projects: ProjectService, tasks: TaskService, attempts: AttemptService, path: str
) -> tuple[Project, Attempt]:
    """Create the demo repository and project, add its task and start the demo agent on it."""
    project = await projects.create_repository(
        path,
        name=DEMO_NAME,
        scripts=DEMO_SCRIPTS,
        files=_asset_files(files("paddock.demo").joinpath("assets")),
    )
    task = await tasks.create(project.id, title=DEMO_TASK, description=DEMO_TASK_DESCRIPTION)
    attempt = await attempts.start(task.id, agent=AgentSpec(profile="demo"))
    return project, attempt
