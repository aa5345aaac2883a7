"""Reaching the running server from the CLI: its URL (`--url`, PADDOCK_URL, else the settings)
and the API token of the user that runs it."""

from __future__ import annotations

from typing import Annotated

import typer

from paddock.cli.client import Client, server_url
from paddock.cli.console import console
from paddock.config import Settings

UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="PADDOCK_URL", help="Server URL (default from settings)"),
]


def connect(url: str | None) -> Client:
    return Client(*credentials(url))


def credentials(url: str | None) -> tuple[str, str | None]:
    """The server's URL and the user's API token (None: no server made one yet)."""
    from paddock.services.server_access import WeakTokenError, load_token

    settings = Settings()
    try:
        token = load_token(settings, create=False)
    except PermissionError:
        console(stderr=True).print(
            f"[red]error[/red] cannot read the API token in {settings.storage.data_dir}: run as "
            "the user that runs `paddock serve`, or set PADDOCK_TOKEN"
        )
        raise typer.Exit(1) from None
    except WeakTokenError as exc:
        console(stderr=True).print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
    return server_url(settings, url), token
