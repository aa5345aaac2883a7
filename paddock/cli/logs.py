"""`paddock logs`: a process's log, printed from the store or followed live."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from paddock.cli.client import ApiError, Client
from paddock.cli.connection import UrlOption, connect
from paddock.cli.console import console, fail


def logs(
    process: Annotated[str, typer.Argument(help="Process id")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming")] = False,
    url: UrlOption = None,
) -> None:
    """Print a process's log."""
    try:
        print_log(connect(url), process, follow=follow)
    except ApiError as exc:
        raise fail(exc) from None


def print_log(client: Client, process_id: str, *, follow: bool) -> None:
    if follow:
        for event, data in client.events(f"/api/processes/{process_id}/logs/stream"):
            if event == "log":
                print_line(data)
            elif event == "end":
                console().print(f"[dim]-- {data['status']} (exit {data['exit_code']})[/dim]")
                return
        return
    after = 0
    while True:
        page = client.request(
            "GET", f"/api/processes/{process_id}/logs", params={"after": after, "limit": 5000}
        )
        for line in page["lines"]:
            print_line(line)
        if not page["lines"]:
            return
        after = page["next_after"]


def print_line(line: dict[str, Any]) -> None:
    style = {"stderr": "red", "system": "dim"}.get(line["stream"])
    console().print(line["text"], style=style, markup=False, highlight=False, soft_wrap=True)
