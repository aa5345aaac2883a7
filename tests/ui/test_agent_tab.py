"""The attempt workspace's Agent tab in a real browser: the real Claude Code CLI, run by the real
server against the fake model of tests/agents, its conversation shown live; follow-ups sent,
queued and cancelled; stop; rewind."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from paddock.agents import claude_code
from paddock.web.ui.present import money
from tests.agents.conftest import AGENTS_CACHE, installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect
from tests.agents.fake_model import Conversation, FakeModel, Reply, Say, WriteFile
from tests.e2e.server import ServerProcess, wait_for
from tests.ui.conftest import screenshot

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
TITLE = "Say hello in a file"
API_KEY = "sk-ant-test-0123456789"
SLOW = 180_000  # ms: a real CLI turn on a small machine (no timing is asserted)

# The page's live streams are connected, so what happens from now on reaches it.
WATCH_STREAMS = """
window.__liveStreams = 0;
document.addEventListener("htmx:sseOpen", () => { window.__liveStreams += 1; });
"""


class Model:
    """The fake model's script (each test sets its own), with the worktree's path (known once
    the attempt exists) and gates a test opens to let a request be answered."""

    def __init__(self) -> None:
        self.script: Callable[[Conversation, Model], Reply] = lambda _c, _m: Say("Done")
        self.worktree: Path | None = None
        self.known = threading.Event()
        self.gates: dict[str, threading.Event] = {}

    def gate(self, name: str) -> threading.Event:
        return self.gates.setdefault(name, threading.Event())

    def wait(self, name: str) -> None:
        self.gate(name).wait(120)

    def write(self, name: str, content: str) -> WriteFile:
        self.known.wait(30)
        assert self.worktree is not None
        return WriteFile(str(self.worktree / name), content)

    def __call__(self, conversation: Conversation) -> Reply:
        return self.script(conversation, self)

    def open_all(self) -> None:
        for gate in self.gates.values():
            gate.set()


@dataclass
class Claude:
    server: ServerProcess
    model: Model

    def start(self, repo: Path) -> dict[str, Any]:
        """A task and an attempt of Claude Code at it."""
        server = self.server
        project = server.api("POST", "/api/projects", json={"path": str(repo)})
        task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": TITLE})
        attempt: dict[str, Any] = server.api(
            "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"profile": "claude-code"}}
        )
        self.model.worktree = Path(attempt["worktree_path"])
        self.model.known.set()
        return attempt


@pytest.fixture
def claude(tmp_path: Path) -> Iterator[Claude]:
    """The server with Claude Code pointed at the fake model. Comes before `page` in a test's
    arguments, so the page is closed before the server stops."""
    installed_cli(claude_code.ADAPTER)
    model = Model()
    with FakeModel(model, [AnthropicDialect()]) as fake:
        env = {
            "PADDOCK_AGENTS_DIR": str(AGENTS_CACHE),
            "PADDOCK_ANTHROPIC_BASE_URL": fake.url,
            "PADDOCK_ANTHROPIC_API_KEY": API_KEY,
            # The sandboxed CLI must reach the fake model on the host's loopback, which the
            # default network ("private") never reaches.
            "PADDOCK_SANDBOX_NETWORK": "host",
        }
        server = ServerProcess(tmp_path / "data", env=env).start()
        try:
            yield Claude(server, model)
        finally:
            model.open_all()  # no request of the CLI stays blocked
            server.stop()


def open_workspace(page: Page, server: ServerProcess, attempt: dict) -> None:
    page.add_init_script(WATCH_STREAMS)
    server.open(page, f"/attempts/{attempt['id']}")
    page.wait_for_function("window.__liveStreams > 0")


def turns(page: Page) -> Locator:
    return page.locator("#turns > .turn")


def visible_turns(page: Page) -> Locator:
    return page.locator("#turns > .turn:visible")


def settled(server: ServerProcess, attempt: dict) -> dict[str, Any]:
    return wait_for(
        lambda: (
            (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"]
            in ("awaiting_review", "failed")
            and a
        ),
        timeout=180,
    )


def expect_the_write_call(turn: Locator) -> None:
    """The turn's tool call: collapsed, naming its tool, action and file; opened, its input
    and result."""
    call = turn.locator("details.tool-call")
    expect(call.locator("summary")).to_contain_text("Write", timeout=SLOW)
    expect(call.locator(".action")).to_have_text("write")
    expect(call.locator(".tool-path")).to_have_text("hello.txt")  # relative to the worktree
    expect(call.locator(".call-state")).to_have_text("ok", timeout=SLOW)
    expect(call.locator(".tool-body")).to_be_hidden()  # collapsed until opened
    call.locator("summary").click()
    expect(call.locator(".tool-input")).to_contain_text("hi from claude")
    expect(call.locator(".tool-result")).to_contain_text("Result")
    call.locator("summary").click()


def test_a_turn_shows_live_then_a_follow_up_runs(claude: Claude, repo: Path, page: Page):
    def script(conversation: Conversation, model: Model) -> Reply:
        if conversation.last_user_text.startswith("Now say goodbye"):
            return Say("Nothing else to change", input_tokens=200, output_tokens=10)
        if conversation.tool_results == 0:
            model.wait("write")  # the page is open: the tool call must arrive live
            return model.write("hello.txt", "hi from claude\n")
        return Say("Wrote hello.txt\n\nIt greets whoever reads it.")

    model = claude.model
    model.script = script
    server = claude.server
    attempt = claude.start(repo)
    open_workspace(page, server, attempt)
    # A real agent's attempt opens on its conversation.
    expect(page.get_by_role("tab", name="Agent")).to_have_attribute("aria-selected", "true")
    first = turns(page).first
    expect(first.locator(".entry-user_message")).to_contain_text(TITLE)
    expect(first.locator(".turn-head .badge").first).to_have_text("running", timeout=SLOW)
    expect(page.locator("#agent-stop")).to_be_visible()

    model.gate("write").set()
    expect_the_write_call(first)

    said = first.locator(".entry-assistant_message").last
    expect(said).to_contain_text("Wrote hello.txt", timeout=SLOW)
    expect(said).to_contain_text("It greets whoever reads it.")
    expect(first.locator(".turn-head .badge").first).to_have_text("succeeded", timeout=SLOW)
    expect(first.locator(".turn-usage")).to_contain_text(re.compile(r"\d+ in · \d+ out"))
    expect(page.locator("#attempt-usage")).to_contain_text(re.compile(r"\d+ in · \d+ out"))
    expect(page.locator("#attempt-usage")).to_contain_text("over 1 turn")
    expect(first.locator(".session")).to_contain_text("session ")
    expect(page.locator("#agent-stop")).to_have_count(0)
    assert (Path(attempt["worktree_path"]) / "hello.txt").read_text() == "hi from claude\n"

    # A follow-up typed in the box runs as a new turn, below the first.
    box = page.get_by_label("Follow-up for the agent")
    box.fill("Now say goodbye")
    box.press("Control+Enter")
    expect(box).to_have_value("")
    expect(turns(page)).to_have_count(2)
    second = turns(page).nth(1)
    expect(second.locator(".entry-user_message")).to_contain_text("Now say goodbye")
    expect(second.locator("h3")).to_contain_text("Follow-up")
    expect(second.locator(".entry-assistant_message")).to_contain_text(
        "Nothing else to change", timeout=SLOW
    )
    expect(second.locator(".turn-head .badge").first).to_have_text("succeeded", timeout=SLOW)
    expect(page.locator("#attempt-usage")).to_contain_text("over 2 turns", timeout=SLOW)
    # The follow-up is marked done once its turn is over, auto-commit included: just after
    # the process's end the page shows (CI at 7817f1f read it in between: "running").
    follow_ups = f"/api/attempts/{attempt['id']}/follow-ups"
    wait_for(lambda: [f["status"] for f in server.api("GET", follow_ups)] != ["running"], 30)
    assert [f["status"] for f in server.api("GET", follow_ups)] == ["done"]

    # The Logs tab now shows the follow-up's log first.
    page.get_by_role("tab", name="Logs").click()
    expect(page.locator(".process-pick[aria-pressed=true]")).to_have_attribute(
        "data-reason", "follow_up"
    )
    page.get_by_role("tab", name="Agent").click()
    path = screenshot(page, "workspace-agent")
    if os.environ.get("PADDOCK_UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / "agent-tab.png")


def test_a_follow_up_queued_while_the_agent_works_can_be_cancelled(
    claude: Claude, repo: Path, page: Page
):
    def script(conversation: Conversation, model: Model) -> Reply:
        if conversation.last_user_text.startswith("Second"):
            return Say("Second done")
        model.wait("first")  # the first turn works until the test lets it answer
        return Say("First done")

    model = claude.model
    model.script = script
    server = claude.server
    attempt = claude.start(repo)
    open_workspace(page, server, attempt)
    expect(turns(page).first.locator(".turn-head .badge").first).to_have_text(
        "running", timeout=SLOW
    )
    box = page.get_by_label("Follow-up for the agent")
    for prompt in ("Second, please", "Third, please"):
        box.fill(prompt)
        page.get_by_role("button", name="Send follow-up").click()
        expect(box).to_have_value("")
    queue = page.locator("#follow-ups")
    expect(queue.locator("li")).to_have_count(2)
    expect(queue.locator("li").first).to_contain_text("Second, please")
    expect(queue.locator("li").first.locator(".badge")).to_have_text("queued")

    queue.get_by_role("button", name="Cancel the follow-up Third, please").click()
    expect(queue.locator("li")).to_have_count(1)
    third = [
        f
        for f in server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups")
        if f["prompt"] == "Third, please"
    ]
    assert third[0]["status"] == "cancelled"

    model.gate("first").set()  # the first turn ends; the second prompt runs, not the third
    expect(turns(page)).to_have_count(2, timeout=SLOW)
    expect(turns(page).nth(1).locator(".entry-assistant_message")).to_contain_text(
        "Second done", timeout=SLOW
    )
    expect(queue).to_be_hidden()
    assert settled(server, attempt)["status"] == "awaiting_review"
    expect(turns(page)).to_have_count(2)


def test_stop_ends_the_running_turn(claude: Claude, repo: Path, page: Page):
    def script(conversation: Conversation, model: Model) -> Reply:
        model.wait("never")  # the model never answers: only a stop ends this turn
        return Say("too late")

    model = claude.model
    model.script = script
    server = claude.server
    attempt = claude.start(repo)
    open_workspace(page, server, attempt)
    head = turns(page).first.locator(".turn-head")
    expect(head.locator(".badge").first).to_have_text("running", timeout=SLOW)
    page.get_by_role("button", name="Stop the agent").click()
    # A stop is not a failure: the turn and the attempt say "stopped", with no exit as an error.
    expect(head.locator(".badge").first).to_have_text("stopped", timeout=SLOW)
    expect(head.locator(".error-text")).to_have_count(0)
    expect(page.locator("#attempt-status")).to_have_text("stopped")
    expect(page.locator("#attempt-header .error-text")).to_have_count(0)
    expect(page.locator("#attempt-header")).not_to_contain_text("exited with code")
    expect(page.locator("#agent-stop")).to_have_count(0)


def test_rewind_drops_the_turn_and_restores_the_file(claude: Claude, repo: Path, page: Page):
    def script(conversation: Conversation, model: Model) -> Reply:
        second = conversation.last_user_text.startswith("Make it louder")
        if conversation.tool_results == 0:
            return model.write("hello.txt", "HELLO\n" if second else "hello\n")
        return Say("Made it louder" if second else "Wrote hello.txt")

    model = claude.model
    model.script = script
    server = claude.server
    attempt = claude.start(repo)
    assert settled(server, attempt)["status"] == "awaiting_review"
    server.api(
        "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "Make it louder"}
    )
    wait_for(
        lambda: (
            server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups")[0]["status"] == "done"
        ),
        timeout=180,
    )
    settled(server, attempt)
    hello = Path(attempt["worktree_path"]) / "hello.txt"
    assert hello.read_text() == "HELLO\n"

    open_workspace(page, server, attempt)
    expect(visible_turns(page)).to_have_count(2)
    second = turns(page).nth(1)
    page.once("dialog", lambda dialog: dialog.accept())
    second.get_by_role("button", name="Rewind to before turn 2").click()

    # The dropped turn goes out of sight; the file is as the first turn left it.
    expect(visible_turns(page)).to_have_count(1)
    expect(page.locator("#dropped-count")).to_have_text("1 dropped turn")
    assert hello.read_text() == "hello\n"
    kept = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert len(kept) == 1
    page.get_by_label("Show dropped turns").check()
    expect(visible_turns(page)).to_have_count(2)
    expect(second.locator(".badge.dropped")).to_have_text("dropped")
    expect(second.locator(".entry-user_message")).to_contain_text("Make it louder")
    expect(second.get_by_role("button", name="Rewind to before turn 2")).to_have_count(0)
    page.get_by_label("Show dropped turns").uncheck()
    expect(visible_turns(page)).to_have_count(1)

    # The board's card tells what the task's turns cost so far (dropped ones were paid too).
    spent = server.api("GET", f"/api/projects/{attempt['project_id']}/usage")["total"]
    assert spent["cost_usd"] and spent["turns"] == 2
    server.open(page, f"/projects/{attempt['project_id']}")
    expect(page.locator(f"#card-{attempt['task_id']} .card-cost")).to_have_text(
        money(spent["cost_usd"])
    )
