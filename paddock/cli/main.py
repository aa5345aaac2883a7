"""`paddock` on the command line. Everything but `serve` and `doctor` talks to the server."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paddock.cli.client import ApiError, Client, server_url
from paddock.config import Settings

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="Paddock: coding agents on a kanban board.")
project_app = typer.Typer(no_args_is_help=True, help="Projects (git repositories).")
task_app = typer.Typer(no_args_is_help=True, help="Tasks (cards on the board).")
attempt_app = typer.Typer(no_args_is_help=True, help="Attempts (a branch + worktree + agent).")
app.add_typer(project_app, name="project")
app.add_typer(task_app, name="task")
app.add_typer(attempt_app, name="attempt")
agents_app = typer.Typer(no_args_is_help=True, help="Agent CLIs: which are installed; install one.")
app.add_typer(agents_app, name="agents")


@cache
def _console(stderr: bool = False) -> Console:
    # rich is imported on first output, not with this module: `paddock serve` runs from this
    # module too, and a server that imported rich would keep ~2 MB it never uses.
    from rich.console import Console

    return Console(stderr=stderr)


def _table(*headers: str) -> Table:
    from rich.table import Table  # see _console

    return Table(*headers)


UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="PADDOCK_URL", help="Server URL (default from settings)"),
]


def _client(url: str | None) -> Client:
    from paddock.services.server_access import WeakTokenError, load_token

    settings = Settings()
    try:
        token = load_token(settings, create=False)
    except PermissionError:
        _console(stderr=True).print(
            f"[red]error[/red] cannot read the API token in {settings.data_dir}: run as the "
            "user that runs `paddock serve`, or set PADDOCK_TOKEN"
        )
        raise typer.Exit(1) from None
    except WeakTokenError as exc:
        _console(stderr=True).print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
    return Client(server_url(settings, url), token)


def _fail(exc: ApiError) -> typer.Exit:
    suffix = f" (debug id {exc.debug_id})" if exc.debug_id else ""
    _console(stderr=True).print(f"[red]error[/red] [bold]{exc.code}[/bold]: {exc.message}{suffix}")
    return typer.Exit(1)


def _resolve_project(client: Client, ref: str) -> dict[str, Any]:
    projects: list[dict[str, Any]] = client.request("GET", "/api/projects")
    for project in projects:
        if ref in (project["id"], project["name"]) or project["id"].startswith(ref):
            return project
    raise ApiError(404, "project_not_found", f"no project named or with id {ref!r}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Where Paddock keeps its data")] = None,
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="Create the demo project on a first start (default: PADDOCK_DEMO, else yes)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the server (API, event streams, API docs)."""
    import logging

    from paddock.cli.serving import run_server
    from paddock.cli.sign_in import announce
    from paddock.web.app import create_app

    overrides: dict[str, Any] = {}
    # Only options actually given override the settings (PADDOCK_* env vars, paddock.toml).
    for key, value in (("host", host), ("port", port), ("data_dir", data_dir), ("demo", demo)):
        if value is not None:
            overrides[key] = value
    settings = Settings(**overrides)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    announce(settings)
    # uvicorn.run, with a stop that always ends (cli/serving.py).
    run_server(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # The standard loop, not uvloop: it spawns children with posix_spawn/vfork instead of
        # fork and pumps pipes faster here (docs/decisions/004-standard-asyncio-loop.md).
        loop="asyncio",
        # WebSockets are for previews only (the proxy relays their HMR sockets); Paddock's own
        # live updates are server-sent events. Imported on the first upgrade: ~3 MB.
        ws=LazyWebSockets,
        # The client address must be the socket's peer: the sandbox guard looks up who owns
        # it. uvicorn would otherwise take X-Forwarded-For from any local client (a sandbox
        # sharing the host's network included) as the client.
        proxy_headers=False,
        access_log=False,  # a line per request (previews' included) costs more than it tells
        timeout_graceful_shutdown=10,
    )


@app.command()
def token(
    data_dir: Annotated[str | None, typer.Option(help="Where Paddock keeps its data")] = None,
) -> None:
    """Print the API token and the link that signs a browser in."""
    from paddock.services.server_access import load_token

    overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    settings = Settings(**overrides)
    value = load_token(settings)
    typer.echo(value)
    typer.echo(f"{server_url(settings, None)}/?token={value}", err=True)


@app.command()
def doctor() -> None:
    """What is installed and what is missing."""
    from paddock.services.doctor import run_checks

    table = _table("check", "", "detail")
    failed = False
    for check in run_checks(Settings()):
        mark = (
            "[green]ok[/green]"
            if check.ok
            else ("[red]missing[/red]" if check.required else "[yellow]absent[/yellow]")
        )
        failed |= check.required and not check.ok
        table.add_row(check.name, mark, check.detail)
    _console().print(table)
    if failed:
        raise typer.Exit(1)


@agents_app.command("list")
def agents_list() -> None:
    """Every agent profile: installed or not, its version and variants."""
    from paddock.services.agents import AgentService

    table = _table("profile", "installed", "version", "variants", "executable")
    for agent in AgentService(Settings()).list_with_versions():
        table.add_row(
            agent.name,
            "yes" if agent.installed else "no",
            agent.version or "",
            ", ".join(v.name for v in agent.variants),
            agent.executable or f"({agent.program} not found)",
        )
    _console().print(table)


@agents_app.command("install")
def agents_install(name: str) -> None:
    """Install an agent CLI from its registry into Paddock's agents dir (no server needed)."""
    from paddock.domain.errors import PaddockError
    from paddock.services.agents import AgentService

    service = AgentService(Settings())
    try:
        profile = service.registry.get(name)
        if profile.adapter.package is not None:
            package = profile.adapter.package
            _console().print(f"installing {package.spec} into {service.installs.root} …")
        executable = service.installs.install(profile.adapter)
    except PaddockError as exc:
        _console(stderr=True).print(f"[red]error[/red] [bold]{exc.code}[/bold]: {exc.message}")
        raise typer.Exit(1) from exc
    version = service.installs.version(executable) or "version unknown"
    _console().print(f"[green]installed[/green] {name} {version}: {executable}")


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
        project = _client(url).request("POST", "/api/projects", json=body)
    except ApiError as exc:
        raise _fail(exc) from None
    _console().print(
        f"project [bold]{project['name']}[/bold] {project['id']} "
        f"({project['repo_path']}, base {project['default_branch']})"
    )


@project_app.command("list")
def project_list(url: UrlOption = None) -> None:
    try:
        projects = _client(url).request("GET", "/api/projects")
    except ApiError as exc:
        raise _fail(exc) from None
    table = _table("id", "name", "repository", "branch")
    for p in projects:
        table.add_row(p["id"][:8], p["name"], p["repo_path"], p["default_branch"])
    _console().print(table)


@task_app.command("add")
def task_add(
    project: Annotated[str, typer.Argument(help="Project name or id")],
    title: str,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    url: UrlOption = None,
) -> None:
    """Add a task to a project's first column."""
    client = _client(url)
    try:
        project_id = _resolve_project(client, project)["id"]
        task = client.request(
            "POST",
            f"/api/projects/{project_id}/tasks",
            json={"title": title, "description": description},
        )
    except ApiError as exc:
        raise _fail(exc) from None
    _console().print(f"task {task['id']} [bold]{task['title']}[/bold]")


@task_app.command("list")
def task_list(
    project: Annotated[str, typer.Argument(help="Project name or id")], url: UrlOption = None
) -> None:
    client = _client(url)
    try:
        project_id = _resolve_project(client, project)["id"]
        steps = {
            s["id"]: s["name"] for s in client.request("GET", f"/api/projects/{project_id}/steps")
        }
        tasks = client.request("GET", f"/api/projects/{project_id}/tasks")
    except ApiError as exc:
        raise _fail(exc) from None
    table = _table("id", "step", "title")
    for t in tasks:
        table.add_row(t["id"], steps.get(t["step_id"], "?"), t["title"])
    _console().print(table)


@attempt_app.command("start")
def attempt_start(
    task: Annotated[str, typer.Argument(help="Task id")],
    agent: Annotated[str, typer.Option(help="Agent profile")] = "script",
    command: Annotated[str, typer.Option(help="Shell command for the script agent")] = "",
    prompt: Annotated[str | None, typer.Option(help="Defaults to the task's text")] = None,
    base: Annotated[str | None, typer.Option(help="Base branch")] = None,
    follow: Annotated[bool, typer.Option(help="Stream the agent's log")] = False,
    url: UrlOption = None,
) -> None:
    """Start an attempt: a branch, a worktree, setup, then the agent."""
    client = _client(url)
    body = {"agent": {"profile": agent, "command": command}, "prompt": prompt, "base_branch": base}
    try:
        with _console().status("creating the branch and worktree"):
            attempt = client.request("POST", f"/api/tasks/{task}/attempts", json=body)
        _console().print(
            f"attempt {attempt['id']} on [bold]{attempt['branch']}[/bold] "
            f"in {attempt['worktree_path']}"
        )
        if follow:
            _follow_attempt(client, attempt)
    except ApiError as exc:
        raise _fail(exc) from None


_SETTLED = ("idle", "failed", "vanished")


def _follow_attempt(client: Client, attempt: dict[str, Any]) -> None:
    """Stream each process of the attempt as it starts, until the attempt settles.

    Polls the attempt's state rather than waiting for `process.created` events: a fast process
    may be created, and even finish, before an event stream opened now would be subscribed.
    """
    import time

    seen: set[str] = set()
    path = f"/api/attempts/{attempt['id']}"
    with _console().status("waiting for the agent") as status:
        while True:
            # The status first, then the processes: once it is settled, the list is complete.
            current = client.request("GET", path)
            new = [p for p in client.request("GET", f"{path}/processes") if p["id"] not in seen]
            for proc in new:
                seen.add(proc["id"])
                status.stop()
                _print_log(client, proc["id"], follow=True)
                status.start()
            if new:
                continue
            if current["status"] in _SETTLED:
                _console().print(
                    f"attempt {current['status']}"
                    + (f": {current['error']}" if current.get("error") else "")
                )
                return
            time.sleep(0.2)


def _print_log(client: Client, process_id: str, *, follow: bool) -> None:
    if follow:
        for event, data in client.events(f"/api/processes/{process_id}/logs/stream"):
            if event == "log":
                _print_line(data)
            elif event == "end":
                _console().print(f"[dim]-- {data['status']} (exit {data['exit_code']})[/dim]")
                return
        return
    after = 0
    while True:
        page = client.request(
            "GET", f"/api/processes/{process_id}/logs", params={"after": after, "limit": 5000}
        )
        for line in page["lines"]:
            _print_line(line)
        if not page["lines"]:
            return
        after = page["next_after"]


def _print_line(line: dict[str, Any]) -> None:
    style = {"stderr": "red", "system": "dim"}.get(line["stream"])
    _console().print(line["text"], style=style, markup=False, highlight=False, soft_wrap=True)


@attempt_app.command("list")
def attempt_list(
    task: Annotated[str, typer.Argument(help="Task id")], url: UrlOption = None
) -> None:
    """A task's attempts and each one's processes (ids for `paddock logs`)."""
    client = _client(url)
    try:
        attempts = client.request("GET", f"/api/tasks/{task}/attempts")
        table = _table("attempt / process", "status", "branch / reason", "detail")
        for attempt in attempts:
            table.add_row(
                attempt["id"],
                attempt["status"],
                attempt["branch"],
                attempt["error"] or attempt["worktree_path"],
            )
            for proc in client.request("GET", f"/api/attempts/{attempt['id']}/processes"):
                exit_code = proc["exit_code"]
                table.add_row(
                    f"  {proc['id']}",
                    proc["status"],
                    f"  {proc['reason']}",
                    proc["error"] or ("" if exit_code is None else f"exit {exit_code}"),
                )
    except ApiError as exc:
        raise _fail(exc) from None
    _console().print(table)


@attempt_app.command("stop")
def attempt_stop(attempt: str, url: UrlOption = None) -> None:
    try:
        result = _client(url).request("POST", f"/api/attempts/{attempt}/stop")
    except ApiError as exc:
        raise _fail(exc) from None
    _console().print(f"attempt {result['id']} {result['status']}")


@attempt_app.command("delete")
def attempt_delete(attempt: str, delete_branch: bool = False, url: UrlOption = None) -> None:
    """Stop it, run the cleanup script, remove its worktree (and branch)."""
    try:
        _client(url).request(
            "DELETE", f"/api/attempts/{attempt}", params={"delete_branch": delete_branch}
        )
    except ApiError as exc:
        raise _fail(exc) from None
    _console().print(f"attempt {attempt} deleted")


@app.command()
def logs(
    process: Annotated[str, typer.Argument(help="Process id")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming")] = False,
    url: UrlOption = None,
) -> None:
    """Print a process's log."""
    try:
        _print_log(_client(url), process, follow=follow)
    except ApiError as exc:
        raise _fail(exc) from None


class LazyWebSockets(asyncio.Protocol):
    """uvicorn's WebSocket protocol (websockets' sans-I/O one), imported when a connection
    first asks to upgrade: a server whose previews never use WebSockets never loads it."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

        return WebSocketsSansIOProtocol(*args, **kwargs)
