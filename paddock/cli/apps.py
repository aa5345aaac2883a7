"""`paddock app`: the builder face on the command line — an app from an idea, its builds and
versions (docs/builder.md).

`app new` walks the same path as the web page: the idea, the planner's questions and the
founder's answers (from a file, `--answer` options, or prompts on a terminal), the plan and its
template, then the first build. `app build` queues the first build and, by default, follows it
stage by stage until it is ready (exit 0) or failed/cancelled (exit 1); later builds are change
requests (`app change`, app_changes.py). An API error (an unknown app, a
build already running, ...) prints the API's `code` and `message` on stderr and exits 2, so a
script can tell "the build failed" from "the command was wrong".
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from paddock.cli.client import ApiError, Client
from paddock.cli.connection import UrlOption, connect
from paddock.cli.console import console, fail, new_table

app_app = typer.Typer(no_args_is_help=True, help="Apps of the builder face (idea → builds).")

# How often a followed build is polled: a stage is seldom shorter, and stage_times lists even
# the ones that started and ended between two polls.
_POLL_SECONDS = 0.5
_FINISHED = ("ready", "failed", "cancelled")

AppArg = Annotated[str, typer.Argument(help="The app's id (or its start), slug or name")]
BuildArg = Annotated[str, typer.Argument(help="The build's id")]
WaitOption = Annotated[
    bool, typer.Option("--wait/--no-wait", help="Follow the build's stages until it ends")
]


def api_failure(exc: ApiError) -> typer.Exit:
    """Print the API's error the way every command does; exit 2 (1 is a failed build)."""
    fail(exc)
    return typer.Exit(2)


def say(text: str) -> None:
    # markup off: ideas, feature names and change requests may hold "[...]".
    console().print(text, markup=False, highlight=False)


def resolve_app(client: Client, ref: str) -> dict[str, Any]:
    """The app whose id, slug or name is `ref` (an id's start is enough, as for projects)."""
    apps: list[dict[str, Any]] = client.request("GET", "/api/apps")
    wanted = ref.strip().lower()
    for found in apps:
        if wanted in (found["id"].lower(), found["slug"].lower(), found["name"].lower()):
            return found
    prefixed = [a for a in apps if a["id"].startswith(ref)] if len(ref) >= 4 else []
    if len(prefixed) == 1:
        return prefixed[0]
    raise ApiError(404, "app_not_found", f"no app with id, slug or name {ref!r}")


# --- app new ---------------------------------------------------------------------------------


def parse_answer_options(values: list[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise ApiError(0, "bad_answer", f"--answer takes ID=TEXT, not {value!r}")
        answers[key.strip()] = text
    return answers


def read_answers_file(path: Path) -> dict[str, str]:
    """A JSON object: question id -> answer (a feature list answer keeps its newlines)."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ApiError(0, "bad_answers_file", f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        raise ApiError(0, "bad_answers_file", f"{path}: expected a JSON object of id -> text")
    return {str(k): v for k, v in loaded.items()}


def prompt_answers(questions: list[dict[str, Any]]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for question in questions:
        hint = f" ({question['hint']})" if question.get("hint") else ""
        answers[question["id"]] = typer.prompt(f"{question['text']}{hint}", default="")
    return answers


def gather_answers(
    questions: list[dict[str, Any]], answers_file: Path | None, answer: list[str]
) -> dict[str, str]:
    """The answers from the file and the options; prompts only when nothing was given and
    someone sits at the terminal."""
    answers = read_answers_file(answers_file) if answers_file else {}
    answers.update(parse_answer_options(answer))
    if answers:
        return answers
    if sys.stdin.isatty():
        return prompt_answers(questions)
    ids = ", ".join(q["id"] for q in questions)
    raise ApiError(
        0, "answers_needed", f"answer the questions with --answers-file or --answer ID=TEXT ({ids})"
    )


def chosen_template(planned: dict[str, Any], template: str | None) -> tuple[str, bool]:
    """The template to build on, and whether it is the plan's recommendation."""
    recommended = next((o["template"] for o in planned["plan"] if o["recommended"]), None)
    name = template or recommended or planned["plan"][0]["template"]
    return name, name == recommended


@app_app.command("new")
def app_new(
    idea: Annotated[str, typer.Argument(help="What the app is for, in your words")],
    repo: Annotated[
        Path | None, typer.Option(help="An existing git repository to build in")
    ] = None,
    answers_file: Annotated[
        Path | None, typer.Option(help="A JSON object: question id -> answer")
    ] = None,
    answer: Annotated[
        list[str] | None, typer.Option(help="ID=TEXT, once per question (repeatable)")
    ] = None,
    template: Annotated[
        str | None, typer.Option(help="The plan's template (default: the recommended one)")
    ] = None,
    build: Annotated[bool, typer.Option("--build/--no-build", help="Start the first build")] = True,
    wait: WaitOption = True,
    url: UrlOption = None,
) -> None:
    """Create an app: answer its questions, make the plan, pick a template, start a build."""
    client = connect(url)
    try:
        body: dict[str, Any] = {"idea": idea}
        if repo is not None:
            body["repo_path"] = str(repo.resolve())
        created = client.request("POST", "/api/apps", json=body)
        say(f"app {created['name']} {created['id']} (slug {created['slug']})")
        answers = gather_answers(created["questions"], answers_file, answer or [])
        brief = client.request(
            "POST", f"/api/apps/{created['id']}/answers", json={"answers": answers}
        )
        features = ", ".join(f["name"] for f in brief["features"]) or "none yet"
        say(f"answered {len(answers)} questions; the brief's features: {features}")
        planned = client.request("POST", f"/api/apps/{created['id']}/plan")
        name, recommended = chosen_template(planned, template)
        client.request("PUT", f"/api/apps/{created['id']}/plan/choice", json={"template": name})
        why = "the recommended one" if recommended else "your choice"
        say(f"made a plan of {len(planned['plan'])} options; building on {name} ({why})")
        if not build:
            say(f"no build started: `paddock app build {created['slug']}` starts one")
            return
        queued = client.request("POST", f"/api/apps/{created['id']}/builds", json={})
        say(f"build #{queued['number']} {queued['id']} queued")
        if wait:
            raise typer.Exit(follow_build(client, queued))
    except ApiError as exc:
        raise api_failure(exc) from None


# --- following a build -----------------------------------------------------------------------


def follow_build(client: Client, build: dict[str, Any]) -> int:
    """Print each stage's label as it starts, then the outcome; the exit code (0 = ready).

    Polls GET /api/builds/{id}: its stage_times name every stage that started, so a stage that
    began and ended between two polls is still printed, in order.
    """
    from paddock.domain.builder.builds import BuildStatus

    printed = 0
    while True:
        build = client.request("GET", f"/api/builds/{build['id']}")
        for stage in build["stage_times"][printed:]:
            say(f"  {BuildStatus(stage['stage']).label}")
        printed = len(build["stage_times"])
        if build["status"] in _FINISHED:
            return report_outcome(client, build)
        time.sleep(_POLL_SECONDS)


def report_outcome(client: Client, build: dict[str, Any]) -> int:
    if build["status"] == "ready":
        say(f"{build['version']} is ready")
        if build.get("preview_id"):
            link = client.request("POST", f"/api/previews/{build['preview_id']}/open")
            say(f"open it: {link['url']}")
        return 0
    if build["status"] == "cancelled":
        say(f"build #{build['number']} was cancelled")
        return 1
    say(build["label"])
    if build.get("debug_id"):
        say(f"debug id: {build['debug_id']}")
    if build.get("error"):
        say(build["error"])
    if build.get("detail"):
        say(build["detail"])
    say(f"retry it with `paddock app retry {build['id']}`")
    return 1


# --- the other commands ----------------------------------------------------------------------


@app_app.command("list")
def app_list(url: UrlOption = None) -> None:
    """Every app: its stage and template."""
    try:
        apps = connect(url).request("GET", "/api/apps")
    except ApiError as exc:
        raise api_failure(exc) from None
    table = new_table("id", "name", "slug", "stage", "template")
    for found in apps:
        table.add_row(
            found["id"][:8], found["name"], found["slug"], found["stage_label"],
            found["template"] or "",
        )  # fmt: skip
    console().print(table)


@app_app.command("show")
def app_show(ref: AppArg, url: UrlOption = None) -> None:
    """An app's stage, its brief's features, its last build and its versions."""
    client = connect(url)
    try:
        found = resolve_app(client, ref)
        say(f"{found['name']} {found['id']} (slug {found['slug']})")
        say(f"idea: {found['idea']}")
        say(f"stage: {found['stage_label']}; template: {found['template'] or 'not chosen'}")
        show_features(client, found["id"])
        builds = client.request("GET", f"/api/apps/{found['id']}/builds")
        if builds:
            last = max(builds, key=lambda b: b["number"])
            version = f", {last['version']}" if last["version"] else ""
            say(f"last build: #{last['number']} {last['id']} {last['label']}{version}")
        versions = client.request("GET", f"/api/apps/{found['id']}/versions")
        say("versions: " + (", ".join(v["name"] for v in versions) or "none yet"))
    except ApiError as exc:
        raise api_failure(exc) from None


def show_features(client: Client, app_id: str) -> None:
    try:
        brief = client.request("GET", f"/api/apps/{app_id}/brief")
    except ApiError as exc:
        if exc.status != 404:
            raise
        say("brief: none yet (the questions are not answered)")
        return
    say(f"brief v{brief['version']}, features:")
    for feature in brief["features"]:
        description = f": {feature['description']}" if feature["description"] else ""
        say(f"  - {feature['name']}{description}")


@app_app.command("build")
def app_build(ref: AppArg, wait: WaitOption = True, url: UrlOption = None) -> None:
    """Queue the app's first build; follow it by default (later ones: `paddock app change`)."""
    client = connect(url)
    try:
        found = resolve_app(client, ref)
        queued = client.request("POST", f"/api/apps/{found['id']}/builds", json={})
        say(f"build #{queued['number']} {queued['id']} queued for {found['name']}")
        if wait:
            raise typer.Exit(follow_build(client, queued))
    except ApiError as exc:
        raise api_failure(exc) from None


@app_app.command("versions")
def app_versions(ref: AppArg, url: UrlOption = None) -> None:
    """An app's versions, newest first."""
    client = connect(url)
    try:
        versions = client.request("GET", f"/api/apps/{resolve_app(client, ref)['id']}/versions")
    except ApiError as exc:
        raise api_failure(exc) from None
    table = new_table("version", "commit", "build", "note", "created")
    for version in versions:
        note = f"rollback to {version['rolled_back_to']}" if version["rolled_back_to"] else ""
        table.add_row(
            version["name"], version["commit"][:10], version["build_id"] or "", note,
            version["created_at"][:19].replace("T", " "),
        )  # fmt: skip
    console().print(table)


@app_app.command("rollback")
def app_rollback(
    ref: AppArg,
    version: Annotated[str, typer.Argument(help="The version whose files come back, e.g. v0.1")],
    url: UrlOption = None,
) -> None:
    """A new version with an earlier version's files (nothing is rewritten)."""
    client = connect(url)
    try:
        found = resolve_app(client, ref)
        made = client.request("POST", f"/api/apps/{found['id']}/versions/{version}/rollback")
    except ApiError as exc:
        raise api_failure(exc) from None
    say(f"{made['name']} has the files of {made['rolled_back_to']}")


@app_app.command("retry")
def app_retry(build: BuildArg, wait: WaitOption = True, url: UrlOption = None) -> None:
    """Queue a failed build again, from the stage that failed."""
    client = connect(url)
    try:
        queued = client.request("POST", f"/api/builds/{build}/retry")
        say(f"build #{queued['number']} {queued['id']} queued again from {queued['start_stage']}")
        if wait:
            raise typer.Exit(follow_build(client, queued))
    except ApiError as exc:
        raise api_failure(exc) from None


@app_app.command("cancel")
def app_cancel(build: BuildArg, url: UrlOption = None) -> None:
    """Stop a build; the app goes back to its last version."""
    try:
        stopped = connect(url).request("POST", f"/api/builds/{build}/cancel")
    except ApiError as exc:
        raise api_failure(exc) from None
    say(f"build #{stopped['number']} {stopped['id']} {stopped['status']}")
