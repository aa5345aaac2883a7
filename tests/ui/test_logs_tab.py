"""The attempt workspace's Logs tab (js/logview.js) in a real browser against the real server."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, Request, Route, expect

from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_attempt_flow import agent_process
from tests.ui.conftest import screenshot

# Rows the virtual list may hold at once: the window plus its overscan, never the whole log.
MAX_ROWS = 300


def start_attempt(server: ServerProcess, repo: Path, command: str) -> dict:
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api(
        "POST", f"/api/projects/{project['id']}/tasks", json={"title": "Watch the log"}
    )
    return server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": command}}
    )


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


def row_text(page: Page, text: str):
    """The rendered log line whose whole text is `text` (the seq gutter is not part of it)."""
    return page.locator("#logview .log-text").filter(has_text=exactly(text))


def row_of(page: Page, text: str):
    """The row (with its stream class) of the line whose whole text is `text`."""
    return page.locator("#logview .log-row").filter(
        has=page.locator(".log-text").filter(has_text=exactly(text))
    )


def gated(repo: Path) -> None:
    """Gate files live in the worktree (a sandbox sees nothing else), ignored by git."""
    (repo / ".git" / "info" / "exclude").write_text("*GO\n")


def test_lines_stream_in_live(server: ServerProcess, repo: Path, page: Page):
    gated(repo)
    command = (
        "echo first line; echo second line; "
        "while [ ! -f GO ]; do sleep 0.05; done; "
        "echo after the gate; echo last line"
    )
    attempt = start_attempt(server, repo, command)
    gate = Path(attempt["worktree_path"]) / "GO"
    proc = agent_process(server, attempt["id"])

    server.open(page, f"/attempts/{attempt['id']}")
    view = page.locator("#logview")
    expect(view).to_have_attribute("data-process-id", proc["id"])
    expect(row_text(page, "second line")).to_be_visible()
    expect(page.locator("#log-status")).to_contain_text("running")
    expect(row_text(page, "after the gate")).to_have_count(0)
    expect(page.locator(f'.process-pick[data-process-id="{proc["id"]}"]')).to_have_attribute(
        "aria-pressed", "true"
    )

    gate.touch()
    expect(row_text(page, "last line")).to_be_visible()
    expect(row_text(page, "after the gate")).to_be_visible()
    expect(page.locator("#log-status")).to_have_text(re.compile(r"^\d+ lines · exited 0$"))
    expect(page.locator(".log-system .log-text").last).to_have_text("exited with code 0")
    # Every line exactly once, in order, even though the page and the stream raced.
    texts = page.locator("#logview .log-text").all_inner_texts()
    program = [t for t in texts if not t.startswith("$ ") and not t.startswith("exited")]
    assert program == ["first line", "second line", "after the gate", "last line"]
    # The process list was re-rendered live (its status changed): the selection survived.
    expect(page.locator(f'.process-pick[data-process-id="{proc["id"]}"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    screenshot(page, "workspace-logs")


def test_a_hundred_thousand_lines(server: ServerProcess, repo: Path, page: Page):
    attempt = start_attempt(server, repo, "seq 1 100000")
    proc = agent_process(server, attempt["id"])
    server.open(page, f"/attempts/{attempt['id']}")
    status = page.locator("#log-status")
    expect(status).to_have_text(re.compile(r"^100,0\d\d lines · exited 0$"), timeout=60_000)
    expect(status).to_have_text(re.compile(r"^100,0\d\d lines"))

    rows = page.locator("#logview .log-row")
    assert 0 < rows.count() <= MAX_ROWS
    # It followed the end: the last program line and Paddock's exit line are in view.
    expect(row_text(page, "100000")).to_be_in_viewport()
    expect(row_text(page, "exited with code 0")).to_be_in_viewport()

    view = page.locator("#logview")
    view.focus()
    page.keyboard.press("Home")
    expect(row_text(page, "1")).to_be_in_viewport()
    expect(row_text(page, "100000")).to_have_count(0)
    expect(page.locator("#log-autoscroll")).not_to_be_checked()  # scrolling up stops following
    page.keyboard.press("PageDown")
    expect(row_text(page, "1")).not_to_be_in_viewport()
    page.keyboard.press("End")
    expect(row_text(page, "100000")).to_be_in_viewport()
    expect(page.locator("#log-autoscroll")).to_be_checked()  # back at the end: following again
    assert rows.count() <= MAX_ROWS

    page.fill("#log-search", "99999")
    expect(status).to_have_text(re.compile(r"^1 of 100,0\d\d lines · exited 0$"))
    expect(page.locator("#logview .log-text")).to_have_text(["99999"])
    expect(page.locator("#logview mark.log-match")).to_have_text(["99999"])

    page.fill("#log-search", "")
    page.uncheck("#log-stdout")
    texts = page.locator("#logview .log-text")
    expect(texts.first).to_have_text(re.compile(r"^\$ bash -c "))
    expect(texts.last).to_have_text("exited with code 0")
    expect(page.locator("#logview .log-stdout")).to_have_count(0)
    expect(status).to_have_text(re.compile(r"^[1-9] of 100,0\d\d lines · exited 0$"))
    page.check("#log-stdout")
    expect(status).to_have_text(re.compile(r"^100,0\d\d lines · exited 0$"))
    assert proc["id"] in page.locator("#log-download").get_attribute("href")


def test_a_flood_streamed_live_shows_every_line(server: ServerProcess, repo: Path, page: Page):
    # The page is open before the program prints: all of it comes through the live stream.
    gated(repo)
    command = "while [ ! -f GO ]; do sleep 0.05; done; seq 1 30000 >&2; echo done"
    attempt = start_attempt(server, repo, command)
    proc = agent_process(server, attempt["id"])
    server.open(page, f"/attempts/{attempt['id']}")
    status = page.locator("#log-status")
    expect(page.locator(".log-system .log-text").first).to_have_text(re.compile(r"^\$ bash -c "))
    expect(status).to_contain_text("running")

    (Path(attempt["worktree_path"]) / "GO").touch()
    # Each line once: the count of lines held is the log's, the program's 30,001 and
    # Paddock's command and exit lines.
    expect(status).to_have_text("30,003 lines · exited 0", timeout=60_000)
    assert server.api("GET", f"/api/processes/{proc['id']}")["line_count"] == 30_003
    expect(row_text(page, "done")).to_be_in_viewport()
    expect(row_of(page, "30000")).to_have_class(re.compile(r"\blog-stderr\b"))
    page.fill("#log-search", "29999")
    expect(status).to_have_text("1 of 30,003 lines · exited 0")
    expect(page.locator("#logview .log-text")).to_have_text(["29999"])


def test_stderr_and_ansi_colours(server: ServerProcess, repo: Path, page: Page):
    # \033(B\033[m is what `tput sgr0` prints; \033[2K erases the line (dropped, not shown).
    command = (
        r"printf '\033[31mred\033(B\033[m plain \033[1;32mbold green\033[0m\033[2K\n'; "
        "echo oops >&2"
    )
    attempt = start_attempt(server, repo, command)
    server.open(page, f"/attempts/{attempt['id']}")
    expect(page.locator("#log-status")).to_contain_text("exited 0")

    red = page.locator("#logview .log-text span.ansi-31")
    expect(red).to_have_text("red")
    assert red.evaluate("el => getComputedStyle(el).color") != red.evaluate(
        "el => getComputedStyle(el.closest('.log-row')).color"
    )
    green = page.locator("#logview .log-text span.ansi-32.ansi-bold")
    expect(green).to_have_text("bold green")
    stdout_row = row_of(page, "red plain bold green")
    expect(stdout_row.locator("span.ansi-31")).to_have_text("red")
    # No escape reaches the page (the command line Paddock logs spells them as \033: fine).
    assert "\x1b" not in page.locator("#logview").inner_text()
    expect(stdout_row.locator(".log-text")).to_have_text("red plain bold green")

    oops = row_of(page, "oops")
    expect(oops).to_have_class(re.compile(r"\blog-stderr\b"))
    expect(stdout_row).to_have_class(re.compile(r"\blog-stdout\b"))
    assert oops.evaluate("el => getComputedStyle(el).color") != stdout_row.evaluate(
        "el => getComputedStyle(el).color"
    )
    # Only stderr: the coloured stdout line goes, the stderr line stays.
    page.uncheck("#log-stdout")
    page.uncheck("#log-system")
    expect(page.locator("#logview .log-text")).to_have_text(["oops"])


def test_download_link_points_at_the_process_log(server: ServerProcess, repo: Path, page: Page):
    attempt = start_attempt(server, repo, "echo hello download")
    proc = agent_process(server, attempt["id"])
    server.open(page, f"/attempts/{attempt['id']}")
    link = page.locator("#log-download")
    expect(link).to_have_attribute("href", f"/api/processes/{proc['id']}/logs/download")
    expect(page.locator("#log-status")).to_contain_text("exited 0")
    with page.expect_download() as info:
        link.click()
    downloaded = Path(info.value.path()).read_text()
    assert "hello download\n" in downloaded


def test_the_view_follows_the_agent_until_the_user_picks(
    server: ServerProcess, repo: Path, page: Page
):
    gated(repo)
    project = server.api(
        "POST",
        "/api/projects",
        json={
            "path": str(repo),
            "scripts": {"setup": "echo setting up; while [ ! -f SETUP-GO ]; do sleep 0.05; done"},
        },
    )
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Two logs"})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={
            "agent": {"command": "echo agent at work; while [ ! -f AGENT-GO ]; do sleep 0.05; done"}
        },
    )
    worktree = Path(attempt["worktree_path"])
    setup_gate, agent_gate = worktree / "SETUP-GO", worktree / "AGENT-GO"
    server.open(page, f"/attempts/{attempt['id']}")
    expect(row_text(page, "setting up")).to_be_visible()
    setup = page.locator('.process-pick[data-reason="setup"]')
    expect(setup).to_have_attribute("aria-pressed", "true")

    # The agent's process arrives through the live list: the view moves to it by itself.
    setup_gate.touch()
    agent = page.locator('.process-pick[data-reason="agent"]')
    expect(agent).to_have_attribute("aria-pressed", "true")
    expect(row_text(page, "agent at work")).to_be_visible()
    expect(setup).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#log-status")).to_contain_text("running")

    # The user's choice sticks, also when the list is re-rendered (the agent finishes).
    setup.click()
    expect(row_text(page, "setting up")).to_be_visible()
    agent_gate.touch()
    expect(agent.locator(".badge")).to_have_text("succeeded")
    expect(setup).to_have_attribute("aria-pressed", "true")
    expect(agent).to_have_attribute("aria-pressed", "false")
    expect(setup).to_be_focused()  # the re-rendered button got the focus back
    expect(row_text(page, "agent at work")).to_have_count(0)
    setup_id = setup.get_attribute("data-process-id")
    expect(page.locator("#logview")).to_have_attribute("data-process-id", setup_id)
    expect(page.locator("#log-download")).to_have_attribute(
        "href", f"/api/processes/{setup_id}/logs/download"
    )


def test_a_dropped_stream_resumes_without_repeating_lines(
    server: ServerProcess, repo: Path, page: Page
):
    gated(repo)
    command = "echo one; echo two; while [ ! -f GO ]; do sleep 0.05; done; echo three"
    attempt = start_attempt(server, repo, command)
    gate = Path(attempt["worktree_path"]) / "GO"
    proc = agent_process(server, attempt["id"])
    # Stored before the page loads, so the page holds them before the stream starts.
    wait_for(lambda: len(server.api("GET", f"/api/processes/{proc['id']}/logs")["lines"]) >= 3)

    # The first stream connection is cut short after repeating lines the page already holds
    # (as a server does that replays from an older point); EventSource then reconnects to
    # the real server by itself, sending the last seq it saw.
    def cut_stream(route: Route) -> None:
        assert "batch=true" in route.request.url  # the page takes a `lines` event per batch
        frames = (
            'id: 3\nevent: lines\ndata: {"first_seq":2,"last_seq":3,"runs":[{"count":2,'
            '"stream":"stdout","ts":"2026-01-01T00:00:00Z","continued":false}],'
            '"texts":["one","two"]}\n\n'
        )
        route.fulfill(
            status=200,
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
            body="retry: 50\n\n" + frames,
        )

    stream = re.compile(r"/api/processes/[0-9a-f]+/logs/stream")
    page.route(stream, cut_stream, times=1)
    requests: list[Request] = []

    def keep(request: Request) -> None:
        requests.append(request)

    page.on("request", keep)
    server.open(page, f"/attempts/{attempt['id']}")
    expect(row_text(page, "two")).to_be_visible()
    gate.touch()  # "three" can only come from the real server, through the reconnection
    expect(row_text(page, "three")).to_be_visible()
    expect(page.locator("#log-status")).to_contain_text("exited 0")
    texts = page.locator("#logview .log-text").all_inner_texts()
    assert texts[1:] == ["one", "two", "three", "exited with code 0"]
    streams = [r for r in requests if stream.search(r.url)]
    assert len(streams) == 2
    assert streams[1].all_headers().get("last-event-id") == "3"


def test_the_view_moves_to_a_follow_up(server: ServerProcess, repo: Path, page: Page):
    attempt = start_attempt(server, repo, 'echo "turn: $PADDOCK_PROMPT"')
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    server.open(page, f"/attempts/{attempt['id']}")
    expect(row_text(page, "turn: Watch the log")).to_be_visible()

    # A follow-up is an agent turn too: its log takes the view, as the first turn's did.
    server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "again"})
    follow_up = page.locator('.process-pick[data-reason="follow_up"]')
    expect(follow_up).to_have_attribute("aria-pressed", "true")
    expect(row_text(page, "turn: again")).to_be_visible()
    expect(row_text(page, "turn: Watch the log")).to_have_count(0)

    # The Agent tab lists both turns with their prompts (a script reports nothing more).
    page.get_by_role("tab", name="Agent").click()
    prompts = page.locator("#turns .turn .entry-user_message")
    expect(prompts).to_have_text([re.compile("Watch the log"), re.compile("again")])
