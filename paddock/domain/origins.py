"""Which hosts and origins Paddock answers to: the rules against DNS rebinding and cross-site
requests (docs/security.md).

A `Host` is ours when its name is a loopback name, an IP address literal, or a configured name:
a DNS name chosen by someone else (a rebinding attack's `evil.example`) is not. IP literals are
safe because a page can only send one as its Host by being served from that address itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(host_header: str) -> str:
    """The name of a `Host` header, lowercase, without its port (`[::1]:7420` → `::1`)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback_name(name: str) -> bool:
    """Whether `name` (a host name or address) means this machine only."""
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_allowed_host(name: str, allowed: Iterable[str]) -> bool:
    """Whether Paddock's UI and API answer to the host `name` (as `host_name` gives it)."""
    if not name:
        return False
    if name in LOOPBACK_NAMES or is_ip_literal(name):
        return True
    return name in {a.lower().strip(".") for a in allowed if a}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL (an Origin or Referer header); None when it has none."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    return f"{parts.scheme}://{netloc}"


def _without_default_port(netloc: str, scheme: str) -> str:
    return netloc.removesuffix({"http": ":80", "https": ":443"}.get(scheme, "\0"))


def is_same_origin(origin: str, host_header: str) -> bool:
    """Whether `origin` names the host and port this request was sent to (its `Host`). The
    scheme is not compared: behind a TLS-terminating proxy the server sees http while the
    browser's origin is https, and one port never serves both."""
    scheme, _, netloc = origin.partition("://")
    if not netloc:
        return False
    host = host_header.strip().lower()
    ours = {host, _without_default_port(host, "http"), _without_default_port(host, "https")}
    return _without_default_port(netloc, scheme) in ours


def safe_next(path: str | None) -> str:
    """Where to send a browser after signing in: a path on this server, never another site."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    if any(ord(c) < 0x20 for c in path):
        return "/"
    return path
