"""`paddock task`: add a task to a project's board, list its tasks."""

from __future__ import annotations

from typing import Annotated

import typer

from paddock.cli.client import ApiError
from paddock.cli.connection import UrlOption, connect
from paddock.cli.console import console, fail, new_table
from paddock.cli.projects import resolve_project

task_app = typer.Typer(no_args_is_help=True, help="Tasks (cards on the board).")


@task_app.command("add")
def task_add(
    project: Annotated[str, typer.Argument(help="Project name or id")],
    title: str,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    url: UrlOption = None,
) -> None:
    """Add a task to a project's first column."""
    client = connect(url)
    try:
        project_id = resolve_project(client, project)["id"]
        task = client.request(
            "POST",
            f"/api/projects/{project_id}/tasks",
            json={"title": title, "description": description},
        )
    except ApiError as exc:
        raise fail(exc) from None
    console().print(f"task {task['id']} [bold]{task['title']}[/bold]")


@task_app.command("list")
def task_list(
    project: Annotated[str, typer.Argument(help="Project name or id")], url: UrlOption = None
) -> None:
    client = connect(url)
    try:
        project_id = resolve_project(client, project)["id"]
        steps = {
            s["id"]: s["name"] for s in client.request("GET", f"/api/projects/{project_id}/steps")
        }
        tasks = client.request("GET", f"/api/projects/{project_id}/tasks")
    except ApiError as exc:
        raise fail(exc) from None
    table = new_table("id", "step", "title")
    for t in tasks:
        table.add_row(t["id"], steps.get(t["step_id"], "?"), t["title"])
    console().print(table)
