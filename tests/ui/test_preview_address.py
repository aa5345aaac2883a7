"""The Preview tab's address bar, in a real browser against the real server: a path typed there
shows that page of the attempt's preview in the embedded view (its query and fragment too),
and opens it in a new tab, always on the preview's own stable host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_previews import PREVIEW_ENV, STATIC, attempt_writing, project_with
from tests.ui.conftest import screenshot
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_preview_tab import open_preview_tab, status_of

PAGES = (
    "echo '<h1>home</h1>' > index.html; mkdir -p docs; "
    "echo '<h1>guide</h1><p id=where></p>"
    "<script>where.textContent = location.search + location.hash</script>' > docs/guide.html"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def test_the_address_bar_goes_to_a_path_inside_the_preview(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    attempt = attempt_writing(server, project_with(server, repo, STATIC), PAGES)
    open_preview_tab(page, server, attempt)
    page.get_by_role("button", name="Start web").click()
    expect(status_of(page, "web")).to_have_text("running", timeout=30_000)
    page.get_by_role("button", name="View web here").click()
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("h1")).to_have_text("home")

    # The bar: the preview's stable host, then the path typed.
    host = f"http://{attempt['id'][:10].lower()}.preview.localhost:{server.preview_port}"
    expect(page.locator("#preview-origin")).to_have_text(host)
    bar = page.get_by_label("Path in the preview")
    expect(bar).to_have_value("/")
    bar.fill("docs/guide.html?step=2#intro")
    bar.press("Enter")
    expect(frame.locator("h1")).to_have_text("guide")
    expect(frame.locator("#where")).to_have_text("?step=2#intro")
    inner = next(f for f in page.frames if f.url.startswith(host))
    assert inner.url == f"{host}/docs/guide.html?step=2#intro"  # no ticket left in it
    assert_every_control_named(page)
    screenshot(page, "preview-address-bar")

    # Reload keeps the place; the new-tab button opens it there, on the same host.
    page.get_by_role("button", name="Reload").click()
    expect(frame.locator("h1")).to_have_text("guide")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open in a new tab", exact=True).click()
    expect(opened.value.locator("h1")).to_have_text("guide")
    assert opened.value.url == f"{host}/docs/guide.html?step=2#intro"
    opened.value.close()

    # Back to the root with Go.
    bar.fill("/")
    page.get_by_role("button", name="Go").click()
    expect(frame.locator("h1")).to_have_text("home")
