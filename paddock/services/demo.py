"""The demo project a first start creates, so a newcomer sees an attempt run with no API key."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from paddock.domain.entities import AgentSpec, Attempt, Project, Scripts
from paddock.services.attempts.attempts import AttemptService
from paddock.services.projects import ProjectService
from paddock.services.tasks import TaskService

DEMO_NAME = "hello-paddock"
DEMO_TASK = "Change the greeting on the home page"
DEMO_TASK_DESCRIPTION = (
    "The page and the API say 'Hello, world'. Make them greet Paddock users instead, and let "
    "the API greet someone by name. (This task is worked by the demo agent, a script that "
    "calls no model.)"
)
# Standard library only: the demo runs offline, with nothing to install. The unit tests write
# JUnit ($JUNIT_OUTPUT) for the Tests tab; the openapi script feeds the API tab.
DEMO_SCRIPTS = Scripts(
    dev="python3 app.py",
    unit_test="python3 run_tests.py",
    openapi='python3 app.py --openapi "$OPENAPI_OUTPUT"',
)


def demo_path(data_dir: Path) -> Path:
    """Where a first start creates the demo repository."""
    return data_dir / "demo" / DEMO_NAME


def is_demo(project: Project, data_dir: Path) -> bool:
    """Whether `project` is the demo a first start created (its repository is where that puts
    it): the board and the workspace then show a first-run hint."""
    return Path(project.repo_path).resolve() == demo_path(data_dir).resolve()


def _asset_files(root: Traversable, prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in root.iterdir():
        if entry.name == "__pycache__" or entry.name.endswith(".pyc"):
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
