"""What the CLI prints, with rich: tables, and API errors on stderr. rich is imported on first
output, not with the CLI: `paddock serve` runs from the CLI too, and a server that imported rich
would keep ~2 MB it never uses."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import typer

from paddock.cli.client import ApiError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


@cache
def console(stderr: bool = False) -> Console:
    from rich.console import Console  # on first output (see the module docstring)

    return Console(stderr=stderr)


def new_table(*headers: str) -> Table:
    from rich.table import Table  # see console

    return Table(*headers)


def fail(exc: ApiError) -> typer.Exit:
    suffix = f" (debug id {exc.debug_id})" if exc.debug_id else ""
    console(stderr=True).print(f"[red]error[/red] [bold]{exc.code}[/bold]: {exc.message}{suffix}")
    return typer.Exit(1)
