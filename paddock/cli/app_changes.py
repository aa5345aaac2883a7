"""`paddock app change | park | resume | readiness`: iterating on an app, pausing it, and asking
whether a version is ready to ship (docs/builder.md).

`app change` talks a change through as the page does: the planner's questions (answered with
`--answer`, else asked on a terminal, else left blank), the clarified change and what it
touches, then the founder's yes (`--yes`, or asked on a terminal): an iteration whose build is
followed like any other. The tier's last iteration needs `--last` (or a second yes).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from paddock.cli.apps import (
    AppArg,
    WaitOption,
    api_failure,
    app_app,
    follow_build,
    parse_answer_options,
    prompt_answers,
    resolve_app,
    say,
)
from paddock.cli.client import ApiError, Client
from paddock.cli.connection import UrlOption, connect

_LAST = "last_iteration_unconfirmed"


@app_app.command("change")
def app_change(
    ref: AppArg,
    description: Annotated[str, typer.Argument(help="The change, in your words")],
    answer: Annotated[
        list[str] | None, typer.Option(help="ID=TEXT, once per question (repeatable)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Build it without asking")] = False,
    last: Annotated[
        bool, typer.Option("--last", help="Yes, use the tier's last iteration")
    ] = False,
    wait: WaitOption = True,
    url: UrlOption = None,
) -> None:
    """Ask for a change: its questions, the clarified change, then its build (an iteration)."""
    interactive = sys.stdin.isatty()
    client = connect(url)
    try:
        if not (yes or interactive):
            raise ApiError(0, "confirmation_needed", "confirm the change with --yes")
        found = resolve_app(client, ref)
        change = client.request(
            "POST", f"/api/apps/{found['id']}/changes", json={"description": description}
        )
        answers = parse_answer_options(answer or [])
        if not answers and interactive:
            answers = prompt_answers(change["questions"])
        clarified = client.request(
            "POST", f"/api/changes/{change['id']}/answers", json={"answers": answers}
        )
        describe(client, found, clarified)
        if not yes and not typer.confirm("Build it?", default=True):
            client.request("POST", f"/api/changes/{change['id']}/discard")
            say("the change was dropped")
            return
        confirmed = confirm(client, change["id"], last=last, interactive=interactive)
        build = client.request("GET", f"/api/builds/{confirmed['build_id']}")
        say(f"iteration {confirmed['iteration']}: build #{build['number']} {build['id']} queued")
        if wait:
            raise typer.Exit(follow_build(client, build))
    except ApiError as exc:
        raise api_failure(exc) from None


def describe(client: Client, app: dict[str, Any], change: dict[str, Any]) -> None:
    say(f"the change, clarified:\n{change['clarified']}")
    if change["features"]:
        say("it touches: " + ", ".join(change["features"]))
    else:
        say("it is a new capability (none of the brief's features)")
    for non_goal in change["against_non_goals"]:
        say(f"careful: your brief says {non_goal!r}")
    iterations = client.request("GET", f"/api/apps/{app['id']}/iterations")
    say(f"{iterations['label']}; this would be iteration {iterations['used'] + 1}")


def confirm(client: Client, change_id: str, *, last: bool, interactive: bool) -> Any:
    """Confirm the change; the tier's last iteration asks again on a terminal."""
    path = f"/api/changes/{change_id}/confirm"
    try:
        return client.request("POST", path, json={"confirm_last": last})
    except ApiError as exc:
        if exc.code != _LAST or not interactive or not typer.confirm(f"{exc.message} Use it?"):
            raise
        return client.request("POST", path, json={"confirm_last": True})


@app_app.command("park")
def app_park(ref: AppArg, url: UrlOption = None) -> None:
    """Pause the app: its previews stop and builds wait; nothing is lost."""
    _app_action(ref, "park", url, "{name} is parked: `paddock app resume {slug}` picks it up")


@app_app.command("resume")
def app_resume(ref: AppArg, url: UrlOption = None) -> None:
    """Pick a parked app back up."""
    _app_action(ref, "resume", url, "{name} is back")


def _app_action(ref: str, action: str, url: str | None, said: str) -> None:
    client = connect(url)
    try:
        found = resolve_app(client, ref)
        done = client.request("POST", f"/api/apps/{found['id']}/{action}")
    except ApiError as exc:
        raise api_failure(exc) from None
    say(said.format(name=done["name"], slug=done["slug"]))


@app_app.command("readiness")
def app_readiness(
    ref: AppArg,
    version: Annotated[str | None, typer.Option(help="A version (default: the latest)")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Run the checks again")] = False,
    url: UrlOption = None,
) -> None:
    """Is a version ready to deploy: each check, the blocking ones first with their fix, and
    the recommended way to deploy it. Exit 1 when the light is red."""
    client = connect(url)
    try:
        found = resolve_app(client, ref)
        params: dict[str, Any] = {"fresh": fresh}
        if version:
            params["version"] = version
        report = client.request("GET", f"/api/apps/{found['id']}/deploy-readiness", params=params)
    except ApiError as exc:
        raise api_failure(exc) from None
    say(f"{report['version']}: {report['light']}")
    for check in report["checks"]:
        say(f"  [{check['status']}] {check['title']}: {check['message']}")
        if check["fix"]:
            say(f"      fix: {check['fix']}")
    path = next(p for p in report["paths"] if p["id"] == report["recommended"])
    say(f"recommended: {path['name']} ({report['why_recommended']})")
    raise typer.Exit(1 if report["light"] == "red" else 0)
