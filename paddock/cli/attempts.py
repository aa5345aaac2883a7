"""`paddock attempt`: start one (and follow its agent's log), list, stop, delete."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from paddock.cli.client import ApiError, Client
from paddock.cli.connection import UrlOption, connect
from paddock.cli.console import console, fail, new_table
from paddock.cli.logs import print_log

attempt_app = typer.Typer(no_args_is_help=True, help="Attempts (a branch + worktree + agent).")


@attempt_app.command("start")
def attempt_start(
    task: Annotated[str, typer.Argument(help="Task id")],
    agent: Annotated[str, typer.Option(help="Agent profile")] = "script",
    variant: Annotated[
        str, typer.Option(help="The profile's variant (`paddock agents list` shows them)")
    ] = "default",
    command: Annotated[str, typer.Option(help="Shell command for the script agent")] = "",
    prompt: Annotated[str | None, typer.Option(help="Defaults to the task's text")] = None,
    base: Annotated[str | None, typer.Option(help="Base branch")] = None,
    follow: Annotated[bool, typer.Option(help="Stream the agent's log")] = False,
    url: UrlOption = None,
) -> None:
    """Start an attempt: a branch, a worktree, setup, then the agent."""
    client = connect(url)
    body = {
        "agent": {"profile": agent, "variant": variant, "command": command},
        "prompt": prompt,
        "base_branch": base,
    }
    try:
        with console().status("creating the branch and worktree"):
            attempt = client.request("POST", f"/api/tasks/{task}/attempts", json=body)
        console().print(
            f"attempt {attempt['id']} on [bold]{attempt['branch']}[/bold] "
            f"in {attempt['worktree_path']}"
        )
        if follow:
            _follow_attempt(client, attempt)
    except ApiError as exc:
        raise fail(exc) from None


# Statuses that end the wait: nothing runs any more (or nothing can).
_SETTLED = ("awaiting_review", "stopped", "failed", "merged", "conflicted", "vanished")


def _follow_attempt(client: Client, attempt: dict[str, Any]) -> None:
    """Stream each process of the attempt as it starts, until the attempt settles.

    Polls the attempt's state rather than waiting for `process.created` events: a fast process
    may be created, and even finish, before an event stream opened now would be subscribed.
    """
    import time

    seen: set[str] = set()
    path = f"/api/attempts/{attempt['id']}"
    with console().status("waiting for the agent") as status:
        while True:
            # The status first, then the processes: once it is settled, the list is complete.
            current = client.request("GET", path)
            new = [p for p in client.request("GET", f"{path}/processes") if p["id"] not in seen]
            for proc in new:
                seen.add(proc["id"])
                status.stop()
                print_log(client, proc["id"], follow=True)
                status.start()
            if new:
                continue
            if current["status"] in _SETTLED:
                console().print(
                    f"attempt {current['status'].replace('_', ' ')}"
                    + (f": {current['error']}" if current.get("error") else "")
                )
                return
            time.sleep(0.2)


@attempt_app.command("list")
def attempt_list(
    task: Annotated[str, typer.Argument(help="Task id")], url: UrlOption = None
) -> None:
    """A task's attempts and each one's processes (ids for `paddock logs`)."""
    client = connect(url)
    try:
        attempts = client.request("GET", f"/api/tasks/{task}/attempts")
        table = new_table("attempt / process", "status", "branch / reason", "detail")
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
        raise fail(exc) from None
    console().print(table)


@attempt_app.command("stop")
def attempt_stop(attempt: str, url: UrlOption = None) -> None:
    try:
        result = connect(url).request("POST", f"/api/attempts/{attempt}/stop")
    except ApiError as exc:
        raise fail(exc) from None
    console().print(f"attempt {result['id']} {result['status']}")


@attempt_app.command("delete")
def attempt_delete(attempt: str, delete_branch: bool = False, url: UrlOption = None) -> None:
    """Stop it, run the cleanup script, remove its worktree (and branch)."""
    try:
        connect(url).request(
            "DELETE", f"/api/attempts/{attempt}", params={"delete_branch": delete_branch}
        )
    except ApiError as exc:
        raise fail(exc) from None
    console().print(f"attempt {attempt} deleted")
