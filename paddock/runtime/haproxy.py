"""HAProxy as the previews' data plane: its configuration, its process, its runtime API.

Paddock starts one HAProxy (Debian's 2.6 or later) on a listening socket it made itself, and
changes what it serves through HAProxy's admin socket while it runs: no reload, no dropped
connection (docs/decisions/018-a-native-preview-data-plane.md).

- A preview host is a line of `hosts.map`: `<host> <backend>/<key>/<port>`. A request goes to
  the dev server only when its Host is in the map, it presents that exact key (the preview
  cookie, the embedded view's cookie or the key header; compared in constant time), it carries
  no one-time ticket, and its cookies are few enough to clean exactly. Everything else goes to
  Paddock's own preview gate (the in-process proxy with nothing behind it), which redeems
  tickets, checks test runs' keys and writes the error pages: the guard stays Paddock's, the
  fast path only ever lets through what Paddock would let through.
- Backends are slots `s0..sN`: a preview takes a free one and gets a server added to it (a TCP
  port on loopback or the Unix socket of its network bridge); a withdrawn preview's server is
  put in maintenance, its connections are shut, and it is deleted once idle.
- What Paddock's proxy did to requests and answers, the configuration does too: the upstream
  sees `Host: localhost:<port>`, `X-Forwarded-*` of Paddock's making, no preview key and no
  Paddock cookie; a `Location` that points at the upstream is rewritten to the preview's
  origin; `Set-Cookie` loses its `Domain`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from paddock.runtime import proctree
from paddock.runtime.readiness import Upstream

log = logging.getLogger("paddock.plane")

COOKIES = ("paddock_preview", "paddock_preview_embed")
KEY_HEADER = "x-paddock-preview-key"
TICKET_PARAM = "paddock_ticket"
START_TIMEOUT = 10.0

# The Location of an answer that points at the dev server itself.
_UPSTREAM_LOCATION = r"^https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\])(:[0-9]+)?(.*)$"
# One Paddock cookie out of a Cookie header (applied once per cookie the fast path allows).
_ONE_COOKIE = r"^((?:.*?;)?)\s*paddock_preview(?:_embed)?=[^;]*;?\s*(.*)$"


# Headers a Connection header names are hop-by-hop too (RFC 9110, 7.6.1); HAProxy keeps them.
HOP_LUA = """
local function strip(get, del)
  local headers = get()
  local named = {}
  for _, value in pairs(headers["connection"] or {}) do
    for token in string.gmatch(value, "[^,%s]+") do
      named[#named + 1] = string.lower(token)
    end
  end
  for _, name in ipairs(named) do
    if name ~= "close" and name ~= "keep-alive" and name ~= "upgrade" then
      del(name)
    end
  end
end
core.register_action("strip_named_req", {"http-req"}, function(txn)
  strip(function() return txn.http:req_get_headers() end,
        function(n) txn.http:req_del_header(n) end)
end)
core.register_action("strip_named_res", {"http-res"}, function(txn)
  strip(function() return txn.http:res_get_headers() end,
        function(n) txn.http:res_del_header(n) end)
end)
"""
# A Connection header naming more than the usual: Lua takes those headers out.
_ODD_CONNECTION = r"-m reg -i ^(?!(keep-alive|close|upgrade)$)"


class PlaneError(Exception):
    """HAProxy is missing, would not start, or refused a command."""


def binary() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)),
        None,
    )


@dataclass(frozen=True, slots=True)
class PlaneConfig:
    directory: Path  # HAProxy's files: config, map, admin socket
    gate: Path  # the Unix socket of Paddock's preview gate (the fallback backend)
    slots: int
    listen_fd: int  # the listening socket, inherited by HAProxy under the same number
    scheme: str = "http"

    @property
    def map_path(self) -> Path:
        return self.directory / "hosts.map"

    @property
    def admin_path(self) -> Path:
        return self.directory / "admin.sock"

    @property
    def config_path(self) -> Path:
        return self.directory / "haproxy.cfg"

    @property
    def lua_path(self) -> Path:
        return self.directory / "hop.lua"


def render(config: PlaneConfig) -> str:
    """The whole configuration: it never changes while HAProxy runs."""
    cookie_checks = "\n".join(
        f"    acl keyed req.cook({name}),secure_memcmp(txn.key)" for name in COOKIES
    )
    lines = [
        "global",
        f"    stats socket {config.admin_path} mode 600 level admin",
        "    log stderr format raw local0 warning",
        "    tune.bufsize 65536",
        f"    lua-load {config.lua_path}",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option http-keep-alive",
        "    timeout connect 10s",
        "    timeout http-request 60s",
        "    timeout http-keep-alive 60s",
        # Dev servers stream (SSE, HMR): no idle timeout a user would notice.
        "    timeout client 24h",
        "    timeout server 24h",
        "    timeout tunnel 24h",
        "    timeout client-fin 5s",
        "    timeout server-fin 5s",
        "",
        "frontend previews",
        f"    bind fd@{config.listen_fd}",
        "    http-request set-var(txn.entry) req.hdr(host),field(1,:),lower,"
        f"map({config.map_path})",
        "    acl known var(txn.entry) -m found",
        "    http-request set-var(txn.key) var(txn.entry),word(2,/) if known",
        cookie_checks,
        f"    acl keyed req.fhdr({KEY_HEADER}),secure_memcmp(txn.key)",
        f"    acl ticket urlp({TICKET_PARAM}) -m found",
        # What the fast path cannot clean exactly goes to Paddock, which can.
        "    acl one_cookie_header req.fhdr_cnt(cookie) le 1",
        "    acl few_paddock_cookies req.fhdr(cookie) -m reg "
        r"^(?:(?!paddock_preview).)*(?:paddock_preview(?:(?!paddock_preview).)*){0,2}$",
        "    acl one_key_header req.fhdr_cnt(" + KEY_HEADER + ") le 1",
        "    acl no_cookie req.fhdr_cnt(cookie) eq 0",
        *[
            f"    use_backend %[var(txn.entry),word(1,/)] if known keyed !ticket one_key_header {c}"
            for c in ("no_cookie", "one_cookie_header few_paddock_cookies")
        ],
        "    default_backend paddock",
        "",
        "backend paddock",
        f"    server gate unix@{config.gate}",
        "",
    ]
    for slot in range(config.slots):
        lines += _slot(slot, config.scheme)
    return "\n".join(lines) + "\n"


def _slot(slot: int, scheme: str) -> list[str]:
    return [
        f"backend s{slot}",
        "    balance roundrobin",
        "    http-reuse always",
        "    http-request set-var-fmt(txn.origin) " + scheme + "://%[req.hdr(host)]",
        "    http-request set-var-fmt(txn.fwd_host) %[req.hdr(host)]",
        f"    http-request del-header {KEY_HEADER}",
        "    http-request del-header proxy-authorization",
        "    http-request del-header proxy-connection",
        f"    http-request lua.strip_named_req if {{ req.hdr(connection) {_ODD_CONNECTION} }}",
        f"    http-response lua.strip_named_res if {{ res.hdr(connection) {_ODD_CONNECTION} }}",
        "    http-request del-header x-forwarded- -m beg",
        *[f"    http-request replace-header cookie {_ONE_COOKIE} \\1\\2" for _ in range(2)],
        r"    http-request replace-header cookie ^(.*?);\s*$ \1",
        "    http-request del-header cookie if { req.fhdr(cookie) -m len 0 }",
        "    http-request set-header host localhost:%[var(txn.entry),word(3,/)]",
        "    http-request set-header x-forwarded-for %[src]",
        f"    http-request set-header x-forwarded-proto {scheme}",
        "    http-request set-header x-forwarded-host %[var(txn.fwd_host)]",
        f"    http-response replace-header location {_UPSTREAM_LOCATION} %[var(txn.origin)]\\3",
        *[
            r"    http-response replace-header set-cookie (?i)^(.*?);\s*domain=[^;]*(.*)$ \1\2"
            for _ in range(3)
        ],
        # A fourth Domain: whatever follows it goes with it.
        r"    http-response replace-header set-cookie (?i)^(.*?);\s*domain=.*$ \1",
        "",
    ]


def server_address(upstream: Upstream) -> str:
    if upstream.socket_path is not None:
        return f"unix@{upstream.socket_path}"
    return f"127.0.0.1:{upstream.port}"


class HAProxy:
    """One HAProxy process serving the plane's listening socket."""

    def __init__(self, process: asyncio.subprocess.Process, config: PlaneConfig) -> None:
        self.process = process
        self.config = config
        self._stderr = asyncio.create_task(self._log_stderr())

    @classmethod
    async def start(cls, config: PlaneConfig) -> HAProxy:
        """Write the configuration and start HAProxy on the listening socket `listen_fd`;
        returns once its admin socket answers."""
        found = binary()
        if found is None:
            raise PlaneError("haproxy is not installed")
        config.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        config.map_path.write_text("")
        config.lua_path.write_text(HOP_LUA)
        config.config_path.write_text(render(config))
        config.admin_path.unlink(missing_ok=True)
        process = await asyncio.create_subprocess_exec(
            found,
            "-f",
            str(config.config_path),
            "-db",  # in the foreground: Paddock supervises it
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(config.listen_fd,),
            start_new_session=True,
            preexec_fn=proctree.die_with_parent,
        )
        plane = cls(process, config)
        try:
            await plane._until_ready()
        except BaseException:
            await plane.close()
            raise
        return plane

    async def _until_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while loop.time() < deadline:
            if self.process.returncode is not None:
                raise PlaneError(f"haproxy exited with {self.process.returncode} at start")
            with contextlib.suppress(OSError):
                await self.command("show info")
                return
            await asyncio.sleep(0.005)
        raise PlaneError("haproxy's admin socket did not answer")

    def running(self) -> bool:
        return self.process.returncode is None

    async def command(self, line: str) -> str:
        """One command on the admin socket, and its answer."""
        reader, writer = await asyncio.open_unix_connection(str(self.config.admin_path))
        try:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            answer = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return answer.decode(errors="replace")

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)  # hard stop: connections end now
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._stderr.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._stderr

    async def _log_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            level = logging.WARNING if _worth_a_warning(text) else logging.DEBUG
            log.log(level, "haproxy: %s", text)


def _worth_a_warning(line: str) -> bool:
    """HAProxy's notices and warnings are routine here (a server added, put in maintenance), and
    so is the alert that a stopped preview's slot has no server left."""
    return line.startswith("[ALERT]") and "has no server available" not in line


def stale_directories(parent: Path, prefix: str, *, older_than: float = 60.0) -> list[Path]:
    """Directories a server that is gone left: not changed for `older_than` seconds (one being
    set up right now is left alone) and no HAProxy answering on their admin socket."""
    stale = []
    now = time.time()
    for directory in parent.glob(prefix + "*"):
        try:
            if now - directory.stat().st_mtime < older_than:
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(str(directory / "admin.sock"))
        except OSError:
            stale.append(directory)
    return stale
