"""Open links at a path inside a preview (the Preview tab's address bar), through the real
server: the link stays on the preview's own host with the path, query and fragment asked for,
its ticket leads there without itself, and a path that is not one is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_previews import (
    PREVIEW_ENV,
    STATIC,
    attempt_writing,
    project_with,
    start,
    through_proxy,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def test_a_link_goes_to_a_path_of_the_preview_and_nowhere_else(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    attempt = attempt_writing(server, project_with(server, repo, STATIC), "true")
    [preview] = start(server, attempt)
    base = f"http://{preview['host']}.preview.localhost:{server.preview_port}"

    def link(path: str) -> str:
        answer = server.client.post(f"/api/previews/{preview['id']}/open", params={"path": path})
        assert answer.status_code == 200, answer.text
        url: str = answer.json()["url"]
        return url

    url = link("docs/guide.html?step=2#intro")
    assert url.startswith(f"{base}/docs/guide.html?step=2&paddock_ticket=")
    assert url.endswith("#intro")
    parts = urlsplit(url)
    redeemed = through_proxy(server, preview, f"{parts.path}?{parts.query}")
    assert redeemed.status_code == 303
    assert redeemed.headers["location"] == "/docs/guide.html?step=2"

    # A host cannot be slipped in: whatever is typed is a path on the preview's host.
    for sneaky in ("//evil.example/x", "@evil.example/x", "http://evil.example/"):
        assert urlsplit(link(sneaky)).netloc == urlsplit(base).netloc, sneaky

    # Spaces and other characters reach the preview as the browser would send them.
    parts = urlsplit(link("/a b/é.html"))
    assert parts.path == "/a%20b/é.html"
    redeemed = through_proxy(server, preview, f"/a%20b/%C3%A9.html?{parts.query}")
    assert redeemed.headers["location"] == "/a%20b/%C3%A9.html"

    for bad in ("/a\\b", "/line\nbreak", "/" + "x" * 3000):
        answer = server.client.post(f"/api/previews/{preview['id']}/open", params={"path": bad})
        assert answer.status_code == 422 and answer.json()["code"] == "bad_preview_path", bad
