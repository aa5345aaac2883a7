"""A real Vite app previewed through the proxy in Chromium: the Open link lets the browser in,
the page renders, and an edit in the worktree arrives as a hot update over the proxied
WebSocket (no reload)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_previews import attempt_writing, project_with, start
from tests.ui.conftest import screenshot

VITE = Path(__file__).resolve().parents[1] / "fixtures" / "vite" / "node_modules" / "vite"
APP = {
    "index.html": '<!doctype html><title>hmr</title><link rel="icon" href="data:,">'
    '<div id="app"></div><script type="module" src="/main.js"></script>\n',
    "message.js": "export const message = 'hello v1'\n",
    "main.js": (
        "import { message } from './message.js'\n"
        "document.querySelector('#app').textContent = message\n"
        "window.__loads = (window.__loads || 0) + 1\n"
        "if (import.meta.hot) {\n"
        "  import.meta.hot.accept('./message.js', (next) => {\n"
        "    document.querySelector('#app').textContent = next.message\n"
        "  })\n"
        "}\n"
    ),
}


def test_vite_hot_updates_reach_the_browser_through_the_proxy(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    assert (VITE / "bin" / "vite.js").is_file(), "run ./scripts/install --dev (it installs vite)"
    repo = make_repo(tmp_path / "repo", APP)
    dev = f"node {VITE}/bin/vite.js --host 127.0.0.1 --port $PORT --strictPort"
    project = project_with(server, repo, dev)
    attempt = attempt_writing(server, project, "true")
    [preview] = start(server, attempt)
    assert preview["status"] == "running", preview

    link = server.api("POST", f"/api/previews/{preview['id']}/open")["url"]
    page.goto(link)
    assert page.url == preview["url"]  # the ticket was swapped for a cookie
    expect(page.locator("#app")).to_have_text("hello v1")
    screenshot(page, "preview-vite")

    worktree = Path(attempt["worktree_path"])
    (worktree / "message.js").write_text("export const message = 'hello v2'\n")
    expect(page.locator("#app")).to_have_text("hello v2", timeout=30_000)
    assert page.evaluate("window.__loads") == 1  # a hot update, not a reload
