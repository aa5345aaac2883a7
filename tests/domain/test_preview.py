"""The preview rules: what a dev server's log says, host names, states."""

from __future__ import annotations

import pytest

from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.preview import (
    PreviewPath,
    PreviewStatus,
    check_preview_move,
    check_service_name,
    host_label,
    port_in_log,
    says_address_in_use,
    service_env_name,
    substitute_port,
)

ATTEMPT = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("line", "port"),
    [
        # Vite colours the port: the escape codes sit inside the URL.
        (
            "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m",
            5173,
        ),
        ("ready - started server on 0.0.0.0:3000, url: http://localhost:3000", 3000),
        ("INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)", 8000),
        ("Serving HTTP on :: port 8080 (http://[::]:8080/) ...", 8080),
        ("Starting development server at http://127.0.0.1:8001/", 8001),
        ("see https://example.com:8443/docs", None),  # not a local address
        ("compiled in 120 ms", None),
    ],
)
def test_the_port_a_dev_server_prints(line: str, port: int | None) -> None:
    assert port_in_log(line) == port


@pytest.mark.parametrize(
    ("line", "in_use"),
    [
        ("Error: listen EADDRINUSE: address already in use 127.0.0.1:42001", True),
        ("OSError: [Errno 98] Address already in use", True),
        ("Port 5173 is in use, trying another one...", True),
        ("error: port is already allocated", True),
        ("GET /favicon.ico 404", False),
    ],
)
def test_address_in_use_is_recognised(line: str, in_use: bool) -> None:
    assert says_address_in_use(line) is in_use


def test_hosts_are_stable_per_attempt_and_service() -> None:
    assert host_label(ATTEMPT, "web", only_service=True) == "0123456789"
    assert host_label(ATTEMPT, "web", only_service=False) == "web-0123456789"
    assert host_label(ATTEMPT, "api", only_service=True) == "api-0123456789"
    assert service_env_name("admin-ui") == "PADDOCK_SERVICE_ADMIN_UI_URL"
    assert (
        substitute_port("serve --port {port} --public {port}", 42) == "serve --port 42 --public 42"
    )


@pytest.mark.parametrize("name", ["Web", "1api", "a_b", "x" * 21, ""])
def test_service_names_must_be_host_labels(name: str) -> None:
    with pytest.raises(InvalidInput):
        check_service_name(name)


def test_preview_moves() -> None:
    check_preview_move(PreviewStatus.starting, PreviewStatus.running)
    check_preview_move(PreviewStatus.failed, PreviewStatus.starting)
    check_preview_move(PreviewStatus.stopped, PreviewStatus.stopped)
    with pytest.raises(Conflict):
        check_preview_move(PreviewStatus.stopped, PreviewStatus.running)
    assert PreviewStatus.running.active and not PreviewStatus.failed.active


@pytest.mark.parametrize(
    ("typed", "link"),
    [
        ("", "http://p.localhost/?t=1"),
        ("/", "http://p.localhost/?t=1"),
        ("docs/a.html", "http://p.localhost/docs/a.html?t=1"),
        ("/a?b=c#top", "http://p.localhost/a?b=c&t=1#top"),
        ("//other.example/x", "http://p.localhost/other.example/x?t=1"),
        ("/a b", "http://p.localhost/a%20b?t=1"),
    ],
)
def test_a_preview_path_stays_on_the_previews_host(typed: str, link: str) -> None:
    assert PreviewPath.of(typed).link("http://p.localhost/", ("t", "1")) == link


@pytest.mark.parametrize("typed", ["/a\\b", "/a\tb", "/a\x00", "/" + "x" * 3000])
def test_a_preview_path_refuses_what_is_no_path(typed: str) -> None:
    with pytest.raises(InvalidInput) as error:
        PreviewPath.of(typed)
    assert error.value.code == "bad_preview_path"
