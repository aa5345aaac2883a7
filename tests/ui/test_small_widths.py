"""Phone and small widths: every page of the UI at 390x844 (and at 1440x900) without
sideways scrolling, and the board one column at a time with a step picker.

The pages are listed from the UI's routes: a new page fails `test_every_page_is_visited` until
it is added to PAGES, so it cannot escape the check."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Locator, Page, expect
from starlette.responses import HTMLResponse

import paddock.web.ui
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import PREVIEW_ENV
from tests.e2e.test_test_runs import CALC, PYTEST, TESTS
from tests.ui.test_board import WATCH_STREAMS, add_task, new_project
from tests.ui.test_tests_tab import API_APP

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
LONG_TITLE = "Rename_the_configuration_loader_module_to_something_without_any_space_in_it"

# What overflows sideways: the page's own width, and each element reaching past the viewport's
# right edge (or wider than it) that no scrolling or clipping container holds.
OVERFLOW = """() => {
  const width = window.innerWidth;
  // Whether a scrolling or clipping ancestor holds `el`: for a positioned element, only one
  // at or above its containing block does (an absolute child escapes a static scroller).
  const held = (el) => {
    let position = getComputedStyle(el).position;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (position === "fixed") return false;
      const style = getComputedStyle(p);
      if (position === "absolute" && style.position === "static") continue;
      if (style.overflowX !== "visible") return true;
      position = style.position;
    }
    return false;
  };
  const name = (el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/) : [];
    const id = el.id ? "#" + el.id : "";
    return el.tagName.toLowerCase() + id + classes.map((c) => "." + c).join("");
  };
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if (box.right <= width + 0.5 && box.width <= width + 0.5) continue;
    if (held(el)) continue;
    wide.push(`${name(el)} ${Math.round(box.left)}..${Math.round(box.right)}`);
  }
  return { scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 15) };
}"""


def page_routes() -> set[str]:
    """The paths of the UI's pages: its GET routes answering HTML, but for the /ui/ fragments."""
    paths = {"/api/docs"}  # Paddock's own API docs, served by the app itself
    for module in pkgutil.iter_modules(paddock.web.ui.__path__):
        router = getattr(importlib.import_module(f"paddock.web.ui.{module.name}"), "router", None)
        for route in getattr(router, "routes", []):
            if not isinstance(route, APIRoute) or "GET" not in route.methods:
                continue
            if route.response_class is HTMLResponse and not route.path.startswith("/ui/"):
                paths.add(route.path)
    return paths


@dataclass
class Sample:
    """A project with tasks (one with a long unbroken title), an attempt that ran, a failed
    unit-test run, a spec and a running preview: every page has something to show."""

    project: dict[str, Any]
    task: dict[str, Any]
    attempt: dict[str, Any]
    app: dict[str, Any] = field(default_factory=lambda: {"id": "app"})  # the builder face's


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


@pytest.fixture
def sample(server: ServerProcess, tmp_path: Path) -> Sample:
    files = {"calc.py": CALC, "test_calc.py": TESTS, "app.py": API_APP}
    repo = make_repo(tmp_path / "a-repository-with-a-rather-long-folder-name", files)
    project = new_project(server, repo, name="phone-check")
    scripts = {"unit_test": PYTEST, "dev": "python3 app.py"}
    server.api("PATCH", f"/api/projects/{project['id']}", json={"scripts": scripts})
    for title in ("Add a dark theme", LONG_TITLE):
        add_task(server, project, title)
    add_task(server, project, "Set up continuous integration", column="Done")
    task = add_task(server, project, "Bump the app to v2", column="In progress")
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": "echo hello; echo v2 > app.txt"}},
    )
    url = f"/api/attempts/{attempt['id']}"
    wait_for(lambda: server.api("GET", url)["status"] == "awaiting_review", 60)
    server.api(
        "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit", "wait": True}
    )
    server.api("POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True})
    server.api("POST", f"/api/attempts/{attempt['id']}/openapi")
    idea = "A booking page for my yoga studio"
    app = server.api("POST", "/api/apps", json={"idea": idea})  # its questions' page
    return Sample(project, task, attempt, app)


def address_of(sample: Sample) -> dict[str, str]:
    project, attempt = sample.project["id"], sample.attempt["id"]
    return {
        "/": "/",
        "/login": "/login",
        "/settings": "/settings",
        "/api/docs": "/api/docs",
        "/projects/{project_id}": f"/projects/{project}",
        "/projects/{project_id}/settings": f"/projects/{project}/settings",
        "/projects/{project_id}/workflow": f"/projects/{project}/workflow",
        "/attempts/{attempt_id}": f"/attempts/{attempt}",
        "/attempts/{attempt_id}/api": f"/attempts/{attempt}/api",
        "/apps/new": "/apps/new",
        "/apps/{app_id}": f"/apps/{sample.app['id']}",
    }


def overflow(page: Page, where: str) -> list[str]:
    """No sideways scrolling: the document is no wider than the window, and nothing sticks out
    of it unless a scrolling container holds it. What does, on the page shown."""
    page.wait_for_load_state("networkidle")
    found = page.evaluate(OVERFLOW)
    if found["scrollWidth"] <= found["width"] and not found["wide"]:
        return []
    return [f"{where}: {found}"]


def live(page: Page, server: ServerProcess, path: str) -> None:
    """Open a page; a live one (board, workspace) once its stream is connected."""
    page.add_init_script(WATCH_STREAMS)
    server.open(page, path)
    if page.locator("[sse-connect]").count():
        page.wait_for_function("window.__liveStreams > 0")


def every_tab(page: Page, workspace: Locator, where: str) -> list[str]:
    """A workspace's tabs, one after the other, and a test run's detail: what overflows."""
    problems: list[str] = []
    for tab in workspace.get_by_role("tab").all():
        tab.click()
        problems += overflow(page, f"its {tab.inner_text()} tab, {where}")
    workspace.get_by_role("tab", name="Tests", exact=True).click()
    workspace.locator("#test-runs .test-run-row").first.click()
    expect(workspace.locator("#test-cases")).to_be_visible()
    return problems + overflow(page, f"a test run's detail, {where}")


def visit_every_page(
    browser: Browser, server: ServerProcess, sample: Sample, size: dict[str, int]
) -> list[str]:
    """Every page, the board's panels and the workspace's tabs at `size`: what overflows."""
    context = browser.new_context(viewport=size)
    page = context.new_page()
    page.set_default_timeout(15_000)
    label = f"{size['width']}px"
    problems: list[str] = []
    try:
        for route, path in address_of(sample).items():
            if route == "/login":
                continue  # signed out, below
            live(page, server, path)
            problems += overflow(page, f"{path} at {label}")
            if route == "/projects/{project_id}":
                page.get_by_role("button", name="New task").click()
                problems += overflow(page, f"the new-task form at {label}")
                page.locator(f"#card-{sample.task['id']}").click()
                expect(page.locator("#panel")).to_be_visible()
                problems += overflow(page, f"the task panel at {label}")
                # The attempt beside the board, each of its tabs.
                live(page, server, f"{path}?attempt={sample.attempt['id']}")
                panel = page.locator("#panel")
                expect(panel.locator(".workspace")).to_be_visible()
                problems += every_tab(page, panel, f"the attempt panel at {label}")
            if route == "/attempts/{attempt_id}":
                problems += every_tab(page, page.locator("main"), f"{path} at {label}")
        signed_out = browser.new_context(viewport=size)
        try:
            login = signed_out.new_page()
            login.goto(f"{server.url}/login")
            expect(login.get_by_role("button", name="Sign in")).to_be_visible()
            problems += overflow(login, f"/login at {label}")
        finally:
            signed_out.close()
    finally:
        context.close()
    return problems


# --- tests ---------------------------------------------------------------------------------


def test_every_page_is_visited() -> None:
    """Each page of the UI has an address below; a new one must be added to be checked."""
    assert page_routes() == set(address_of(Sample({"id": "p"}, {"id": "t"}, {"id": "a"})))


def test_no_page_scrolls_sideways_at_phone_width(
    browser: Browser, server: ServerProcess, sample: Sample
) -> None:
    problems = visit_every_page(browser, server, sample, PHONE)
    assert not problems, "\n".join(problems)


def test_no_page_scrolls_sideways_at_desktop_width(
    browser: Browser, server: ServerProcess, sample: Sample
) -> None:
    problems = visit_every_page(browser, server, sample, DESKTOP)
    assert not problems, "\n".join(problems)


def columns_in_view(page: Page) -> list[str]:
    """The board's columns that are wholly on the screen, by name."""
    names: list[str] = page.evaluate(
        """() => [...document.querySelectorAll(".column")].filter((c) => {
             const box = c.getBoundingClientRect();
             return box.width > 0 && box.left >= -1 && box.right <= window.innerWidth + 1;
           }).map((c) => c.querySelector("h2").textContent.trim())"""
    )
    return names


def test_the_board_at_phone_width_shows_one_column_and_a_step_picker(
    browser: Browser, server: ServerProcess, repo: Path
) -> None:
    project = new_project(server, repo)
    add_task(server, project, "Write the README")
    done = add_task(server, project, "Ship it", column="Done")
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    try:
        live(page, server, f"/projects/{project['id']}")
        picker = page.get_by_role("navigation", name="Steps")
        expect(picker.get_by_role("button")).to_have_text(
            ["To do", "In progress", "In review", "Done", "Cancelled"]
        )
        expect(picker.get_by_role("button", name="To do")).to_have_attribute("aria-current", "true")
        assert columns_in_view(page) == ["To do"]

        picker.get_by_role("button", name="Done").click()
        expect(page.locator(f"#card-{done['id']}")).to_be_in_viewport()
        page.wait_for_function("document.getElementById('board').scrollLeft > 0")
        expect(picker.get_by_role("button", name="Done")).to_have_attribute("aria-current", "true")
        expect(picker.get_by_role("button", name="To do")).not_to_have_attribute(
            "aria-current", "true"
        )
        assert columns_in_view(page) == ["Done"]

        # A swipe (the board scrolled sideways by a finger) moves the picker along.
        page.locator("#board").evaluate("board => board.scrollBy({ left: -board.clientWidth })")
        expect(picker.get_by_role("button", name="In review")).to_have_attribute(
            "aria-current", "true"
        )
        assert columns_in_view(page) == ["In review"]
    finally:
        context.close()


def test_a_long_column_loads_its_next_page_as_the_phone_scrolls(
    browser: Browser, server: ServerProcess, repo: Path
) -> None:
    """At a phone's width the page scrolls, not the column: its end still loads more."""
    project = new_project(server, repo)
    for i in range(60):
        add_task(server, project, f"Task {i:02}")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        live(page, server, f"/projects/{project['id']}")
        column = page.locator(f"#cards-{project['steps']['To do']} > .card")
        expect(column).to_have_count(50)
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        expect(column).to_have_count(60)
        expect(column.locator(".card-title")).to_have_text([f"Task {i:02}" for i in range(60)])
    finally:
        context.close()


def test_the_board_at_desktop_width_shows_every_column(
    browser: Browser, server: ServerProcess, repo: Path
) -> None:
    project = new_project(server, repo)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        live(page, server, f"/projects/{project['id']}")
        expect(page.get_by_role("navigation", name="Steps")).to_be_hidden()
        assert columns_in_view(page) == ["To do", "In progress", "In review", "Done", "Cancelled"]
    finally:
        context.close()
