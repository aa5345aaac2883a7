"""`paddock` on the command line. Everything but `serve` and `doctor` talks to the server.

This module runs `paddock serve` too: what it imports stays light (rich, httpx and uvicorn are
imported by the commands that use them). The command groups are modules of paddock/cli/.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from paddock.cli import app_changes  # noqa: F401  (registers `app change` and others)
from paddock.cli.agents import agents_app
from paddock.cli.apps import app_app
from paddock.cli.attempts import attempt_app
from paddock.cli.client import server_url
from paddock.cli.console import console, new_table
from paddock.cli.logs import logs
from paddock.cli.mcp import mcp
from paddock.cli.projects import project_app
from paddock.cli.runner import runner
from paddock.cli.tasks import task_app
from paddock.config import Settings

app = typer.Typer(no_args_is_help=True, help="Paddock: coding agents on a kanban board.")


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
    from uvicorn.config import LOGGING_CONFIG

    from paddock.cli.serving import LazyWebSockets, run_server
    from paddock.cli.sign_in import announce
    from paddock.config import LogFormat
    from paddock.runtime.server_log import configure_logging
    from paddock.web.app import create_app

    overrides: dict[str, Any] = {}
    # Only options actually given override the settings (PADDOCK_* env vars, paddock.toml).
    for key, value in (("host", host), ("port", port), ("data_dir", data_dir), ("demo", demo)):
        if value is not None:
            overrides[key] = value
    settings = Settings(**overrides)
    as_json = settings.server.log_format is LogFormat.json
    configure_logging(settings.server.log_level, as_json=as_json)
    announce(settings)
    # uvicorn.run, with a stop that always ends (cli/serving.py).
    run_server(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.server.log_level,
        # JSON logs: uvicorn's own lines go through the root logger's JSON handler too.
        log_config=None if as_json else LOGGING_CONFIG,
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

    table = new_table("check", "", "detail")
    failed = False
    for check in run_checks(Settings()):
        mark = (
            "[green]ok[/green]"
            if check.ok
            else ("[red]missing[/red]" if check.required else "[yellow]absent[/yellow]")
        )
        failed |= check.required and not check.ok
        table.add_row(check.name, mark, check.detail)
    console().print(table)
    if failed:
        raise typer.Exit(1)


app.command()(logs)
app.command()(mcp)
app.command()(runner)
app.add_typer(project_app, name="project")
app.add_typer(task_app, name="task")
app.add_typer(attempt_app, name="attempt")
app.add_typer(agents_app, name="agents")
app.add_typer(app_app, name="app")
