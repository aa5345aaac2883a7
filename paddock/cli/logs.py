"""`paddock logs`: a process's log, printed from the store or followed live."""

from __future__ import annotations

from collections.abc import Iterator
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
        path = f"/api/processes/{process_id}/logs/stream"
        for event, data in client.events(path, params={"batch": "true"}):
            if event == "lines":
                for line in batch_lines(data):
                    print_line(line)
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


def batch_lines(batch: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The lines of a `lines` event, each as its `log` event would have carried it."""
    texts = iter(batch["texts"])
    seq = batch["first_seq"]
    for run in batch["runs"]:
        for _ in range(run["count"]):
            yield {
                "seq": seq,
                "ts": run["ts"],
                "stream": run["stream"],
                "text": next(texts),
                "continued": run["continued"],
            }
            seq += 1


def print_line(line: dict[str, Any]) -> None:
    style = {"stderr": "red", "system": "dim"}.get(line["stream"])
    console().print(line["text"], style=style, markup=False, highlight=False, soft_wrap=True)
