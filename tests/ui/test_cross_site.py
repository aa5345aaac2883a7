"""Cross-site request forgery in a real browser: a page an agent wrote, opened by the signed-in
user as a preview, submits a form and a fetch to Paddock. The preview is on
`*.preview.localhost`, the same site as a UI opened at `localhost` (so even a SameSite=Strict
cookie goes along): the Origin check is what refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import PREVIEW_ENV, STATIC, attempt_writing, project_with

ATTACK = """<!doctype html><title>innocent</title>
<form id=f method=post action="http://localhost:{port}/ui/projects">
<input name=path value="{target}"><input name=mode value=register></form>
<script>
fetch("http://localhost:{port}/api/projects", {{method: "POST", mode: "no-cors",
  credentials: "include", headers: {{"Content-Type": "text/plain"}},
  body: JSON.stringify({{path: "{target}"}})}}).finally(() => f.submit());
</script>"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def test_a_preview_page_cannot_post_to_paddock(
    server: ServerProcess, tmp_path: Path, browser: Browser
) -> None:
    target = make_repo(tmp_path / "target")
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    project = project_with(server, repo, STATIC)
    page_html = ATTACK.format(port=server.port, target=target)
    attempt = attempt_writing(server, project, f"cat > index.html <<'EOF'\n{page_html}\nEOF")
    [preview] = server.api("POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True})
    link = server.api("POST", f"/api/previews/{preview['id']}/open")["url"]

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{server.port}/?token={server.token}")  # signed in
        assert page.url == f"http://localhost:{server.port}/"
        page.goto(link)
        page.wait_for_url(f"http://localhost:{server.port}/ui/projects")
        assert "cross_origin_request" in page.content()
    finally:
        context.close()

    assert [p["id"] for p in server.api("GET", "/api/projects")] == [project["id"]]
    origin = f"http://{preview['host']}.preview.localhost:{server.preview_port}"
    refused = wait_for(lambda: server.log().count(f"the origin '{origin}' are refused"), 10)
    assert refused == 2, server.log()[-3000:]  # the fetch and the form, each refused


def test_a_browser_without_a_session_signs_in_with_the_token(
    server: ServerProcess, browser: Browser
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server.url}/settings")
        assert page.url == f"{server.url}/login?next=%2Fsettings"
        page.get_by_label("Token").fill("not the token")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text() == "That token is not right."
        page.get_by_label("Token").fill(server.token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{server.url}/settings")
        cookie = next(c for c in context.cookies() if c["name"].startswith("paddock_session_"))
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    finally:
        context.close()
