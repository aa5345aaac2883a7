"""`paddock project`: register a git repository, list the projects."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from paddock.cli.client import ApiError, Client
from paddock.cli.connection import UrlOption, connect
from paddock.cli.console import console, fail, new_table

project_app = typer.Typer(no_args_is_help=True, help="Projects (git repositories).")


def resolve_project(client: Client, ref: str) -> dict[str, Any]:
    projects: list[dict[str, Any]] = client.request("GET", "/api/projects")
    for project in projects:
        if ref in (project["id"], project["name"]) or project["id"].startswith(ref):
            return project
    raise ApiError(404, "project_not_found", f"no project named or with id {ref!r}")


@project_app.command("add")
def project_add(
    path: str,
    name: Annotated[str | None, typer.Option(help="Defaults to the folder name")] = None,
    create: Annotated[bool, typer.Option(help="Create a new repository at PATH")] = False,
    setup: Annotated[str, typer.Option(help="Setup script")] = "",
    dev: Annotated[str, typer.Option(help="Dev server script")] = "",
    cleanup: Annotated[str, typer.Option(help="Cleanup script")] = "",
    url: UrlOption = None,
) -> None:
    """Register a git repository (or create one with --create)."""
    import os

    body = {
        "path": os.path.abspath(path),
        "name": name,
        "create": create,
        "scripts": {"setup": setup, "dev": dev, "cleanup": cleanup},
    }
    try:
        project = connect(url).request("POST", "/api/projects", json=body)
    except ApiError as exc:
        raise fail(exc) from None
    console().print(
        f"project [bold]{project['name']}[/bold] {project['id']} "
        f"({project['repo_path']}, base {project['default_branch']})"
    )


@project_app.command("list")
def project_list(url: UrlOption = None) -> None:
    try:
        projects = connect(url).request("GET", "/api/projects")
    except ApiError as exc:
        raise fail(exc) from None
    table = new_table("id", "name", "repository", "branch")
    for p in projects:
        table.add_row(p["id"][:8], p["name"], p["repo_path"], p["default_branch"])
    console().print(table)
