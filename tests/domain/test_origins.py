"""Which hosts and origins Paddock answers to (domain/origins.py)."""

from __future__ import annotations

from paddock.domain.origins import (
    host_name,
    is_allowed_host,
    is_loopback_name,
    is_same_origin,
    safe_next,
)


def test_loopback_names() -> None:
    assert all(map(is_loopback_name, ["localhost", "127.0.0.1", "127.8.9.1", "::1"]))
    assert not any(map(is_loopback_name, ["0.0.0.0", "192.168.1.5", "example.com", ""]))


def test_host_names_and_the_allowlist() -> None:
    assert host_name("LocalHost:7420") == "localhost"
    assert host_name("[::1]:7420") == "::1"
    assert is_allowed_host("10.0.0.5", [])  # an IP literal is never a rebinding
    assert is_allowed_host("paddock.example", ["Paddock.Example."])
    assert not is_allowed_host("evil.example", ["paddock.example"])
    assert not is_allowed_host("", [])


def test_same_origin_ignores_scheme_and_default_ports() -> None:
    assert is_same_origin("http://127.0.0.1:7420", "127.0.0.1:7420")
    assert is_same_origin("https://paddock.example", "paddock.example")  # behind a TLS proxy
    assert not is_same_origin("http://p1.preview.localhost:7420", "localhost:7420")
    assert not is_same_origin("null", "localhost:7420")


def test_next_never_leaves_the_server() -> None:
    assert safe_next("/attempts/x?tab=logs") == "/attempts/x?tab=logs"
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil", "/a\nb", None, ""):
        assert safe_next(bad) == "/"
