"""Helpers of bench/proxy.py: Debian packages, the generated Vite app, nginx (the backend and
a reverse proxy), wrk, a keep-alive HTTP/1.1 client on a raw socket and the interleaved
latency loop, polling for a 200, a Vite started directly, a page load in Chromium.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import ROOT, free_port

VITE = ROOT / "tests" / "fixtures" / "vite" / "node_modules" / "vite"
VITE_BIN = VITE / "bin" / "vite.js"


# --- Debian packages ---------------------------------------------------------------------------


def ensure_packages(wanted: dict[str, str]) -> dict[str, str]:
    """{command: Debian package}: install the missing ones with apt, quietly (as
    scripts/install does). Returns {command: why it is still missing} (empty: all there)."""
    missing = {cmd: pkg for cmd, pkg in wanted.items() if shutil.which(cmd) is None}
    if not missing:
        return {}
    packages = sorted(set(missing.values()))
    reason = None
    if shutil.which("apt-get") is None:
        reason = "no apt-get here"
    elif os.geteuid() != 0:
        reason = f"not root, so not installing them: run sudo apt-get install {' '.join(packages)}"
    else:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        opts = ["-q", "-o", "Acquire::Retries=3", "-o", "Dpkg::Use-Pty=0"]
        for argv in (
            ["apt-get", *opts, "update"],
            ["apt-get", *opts, "install", "-y", "--no-install-recommends", *packages],
        ):
            done = subprocess.run(argv, check=False, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
                reason = f"`{' '.join(argv)}` failed: " + " / ".join(tail)
                break
    return {
        cmd: reason or "apt-get installed it but it is not on PATH"
        for cmd in missing
        if shutil.which(cmd) is None
    }


def nginx_bin() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def version_of(argv: list[str]) -> str:
    """The first line a program prints about its version (nginx and wrk print to stderr)."""
    try:
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


# --- the Vite app ------------------------------------------------------------------------------


def vite_app(modules: int = 300, groups: int = 20) -> dict[str, str]:
    """index.html and main.js importing `groups` modules that import the rest (leaves): a
    two-level tree of `modules` modules in all, each exporting a value. main.js sets
    `window.__ready` (and `__readyAt`, performance.now()) once every module has run."""
    leaves = modules - groups
    files = {
        "index.html": (
            '<!doctype html><html><head><meta charset="utf-8"><title>bench app</title>'
            '<link rel="icon" href="data:,"></head><body><div id="app">loading</div>'
            '<script type="module" src="/main.js"></script></body></html>\n'
        ),
    }
    main_imports = []
    for g in range(groups):
        mine = [n for n in range(leaves) if n % groups == g]
        lines = [f"import {{ value as v{n}, label as l{n} }} from '../m/m{n:03d}.js'" for n in mine]
        total = " + ".join(f"v{n}" for n in mine) or "0"
        names = ", ".join(f"l{n}" for n in mine)
        lines.append(f"export const value = {total}")
        lines.append(f"export const labels = [{names}]")
        files[f"g/g{g:02d}.js"] = "\n".join(lines) + "\n"
        main_imports.append(f"import {{ value as g{g}, labels as n{g} }} from './g/g{g:02d}.js'")
    for n in range(leaves):
        files[f"m/m{n:03d}.js"] = (
            f"// module {n}\n"
            f"export const value = {n}\n"
            f"export const label = 'module-{n}'\n"
            f"export function describe(x) {{ return `${{label}}: ${{x + value}}` }}\n"
        )
    total = " + ".join(f"g{g}" for g in range(groups))
    count = " + ".join(f"n{g}.length" for g in range(groups))
    files["main.js"] = (
        "\n".join(main_imports)
        + f"\nconst total = {total}\nconst count = {count}\n"
        + "document.querySelector('#app').textContent = `${count} modules, total ${total}`\n"
        + "window.__readyAt = performance.now()\nwindow.__ready = true\n"
    )
    return files


def vite_command(port: str = "$PORT") -> str:
    return f"node {VITE_BIN} --host 127.0.0.1 --port {port} --strictPort"


# --- nginx -------------------------------------------------------------------------------------

# The shared backend: nginx serving one small static file, started by the preview's dev script
# inside its sandbox with a config it writes into the worktree (paths relative to the
# worktree, given as nginx's prefix). `stub_status` counts the connections it accepted.
BACKEND_CONF = """\
worker_processes 1;
daemon off;
pid @STATE@/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path @STATE@/body;
    proxy_temp_path @STATE@/proxy;
    fastcgi_temp_path @STATE@/fastcgi;
    uwsgi_temp_path @STATE@/uwsgi;
    scgi_temp_path @STATE@/scgi;
    default_type text/html;
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:@PORT@ backlog=4096;
        root www;
        location = /nginx_status { stub_status; }
    }
}
"""
BODY = (
    "<!doctype html><title>bench</title><p>"
    + "A small page the benches fetch again and again. " * 10
    + "</p>\n"
)


def backend_repo_files() -> dict[str, str]:
    return {"nginx.conf.in": BACKEND_CONF, "www/index.html": BODY}


def backend_dev_script(state: str = ".bench-nginx") -> str:
    """The project's dev script: write the config for $PORT into `state` (a dir of the
    worktree), run nginx in the foreground."""
    return (
        f'mkdir -p {state} && sed "s/@PORT@/$PORT/; s|@STATE@|{state}|" nginx.conf.in'
        f' > {state}/nginx.conf && exec {nginx_bin()} -e stderr -p "$PWD/" -c {state}/nginx.conf'
    )


PROXY_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 10000000;
    upstream backend {{
        server 127.0.0.1:{upstream};
        keepalive 64;
        keepalive_requests 10000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host localhost:{upstream};
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}
}}
"""


class NginxProxy:
    """nginx as a reverse proxy to 127.0.0.1:`upstream` on a free port: its own config in a
    temporary dir, `daemon off`, one worker, stopped by its pid."""

    def __init__(self, upstream: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="paddock-bench-nginx-"))
        self.port = free_port()
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(PROXY_CONF.format(dir=self.dir, upstream=upstream, port=self.port))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> NginxProxy:
        argv = [nginx_bin(), "-e", str(self.dir / "error.log"), "-p", str(self.dir), "-c"]
        self.proc = subprocess.Popen(
            [*argv, str(self.conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        wait_listening(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: the master ends its workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> NginxProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.01)
    raise RuntimeError(f"nothing listens on {port} after {timeout:g} s")


def stub_status(
    port: int, host: str = "localhost", headers: dict[str, str] | None = None
) -> dict[str, int]:
    """The backend's counters: connections accepted, requests served (stub_status)."""
    conn = KeepAlive(port, host, headers)
    try:
        status, body = conn.get("/nginx_status")
    finally:
        conn.close()
    numbers = re.findall(rb"\d+", body)
    if status != 200 or len(numbers) < 4:
        raise RuntimeError(f"stub_status: {status} {body[:200]!r}")
    return {"active": int(numbers[0]), "accepts": int(numbers[1]), "requests": int(numbers[3])}


# --- wrk ---------------------------------------------------------------------------------------


def wrk(
    port: int, seconds: float, headers: dict[str, str], connections: int = 64
) -> dict[str, Any]:
    """`wrk -t2 -c<connections> -d<seconds>s` against 127.0.0.1:port/; requests/s and errors."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(f"http://127.0.0.1:{port}/")
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=seconds + 60)
    text = done.stdout + done.stderr
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if done.returncode != 0 or rps is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {text[-1000:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:(.*)", text)
    latency = {p: v for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M)}
    return {
        "rps": float(rps.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
        "latency": latency,
    }


# --- a keep-alive client on a raw socket ------------------------------------------------------


class KeepAlive:
    """GET requests over one HTTP/1.1 keep-alive connection; answers need a Content-Length."""

    def __init__(self, port: int, host: str, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.host = host
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n".encode()

    def get(self, path: str) -> tuple[int, bytes]:
        return self.send(self.request(path))

    def send(self, request: bytes) -> tuple[int, bytes]:
        """Send a prepared request, read its answer: (status, body)."""
        self.sock.sendall(request)
        buf = self.buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._recv()
        head = buf[:end]
        match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
        if match is None:
            raise RuntimeError(f"no content-length: {head[:300]!r}")
        size = int(match.group(1))
        body_end = end + 4 + size
        while len(buf) < body_end:
            buf += self._recv()
        self.buf = buf[body_end:]
        return int(head[9:12]), buf[end + 4 : body_end]

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        return data

    def close(self) -> None:
        self.sock.close()


def latency(paths: dict[str, KeepAlive], requests: int) -> dict[str, list[float]]:
    """GET / `requests` times on each connection, interleaved (the order rotates), in ms."""
    names = list(paths)
    prepared = {name: conn.request("/") for name, conn in paths.items()}
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(200):  # warm-up
        for name in names:
            paths[name].send(prepared[name])
    clock = time.perf_counter_ns
    for i in range(requests):
        for k in range(len(names)):
            name = names[(i + k) % len(names)]
            conn, request = paths[name], prepared[name]
            start = clock()
            status, _ = conn.send(request)
            elapsed = clock() - start
            if status != 200:
                raise RuntimeError(f"{name}: GET / answered {status}")
            samples[name].append(elapsed / 1e6)
    return samples


# --- polling, a Vite started directly ----------------------------------------------------------


def get_status(port: int, host: str, headers: dict[str, str] | None = None) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/", headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


def until_200(port: int, host: str, headers: dict[str, str] | None = None) -> float:
    """Poll GET / every 5 ms until a 200; perf_counter() of the 200."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if get_status(port, host, headers) == 200:
            return time.perf_counter()
        time.sleep(0.005)
    raise RuntimeError(f"no 200 on port {port} after 60 s")


def as_owner(path: Path, under: Path) -> list[str]:
    """setpriv to the owner of `path` (the sandbox user) when running as root. The dirs from
    `under` (the bench's own temporary dir, 0700) down to `path` are made traversable (o+x),
    as the sandbox reaches the worktree through its own bind mount."""
    info = path.stat()
    if os.geteuid() != 0 or info.st_uid == 0 or shutil.which("setpriv") is None:
        return []
    for parent in path.parents:
        if parent != under and under not in parent.parents:
            break
        parent.chmod(parent.stat().st_mode | 0o001)
    return ["setpriv", f"--reuid={info.st_uid}", f"--regid={info.st_gid}", "--clear-groups"]


class Twin:
    """The preview's dev command started straight on the host (no sandbox, the host's network)
    in `cwd` as its owner, on a free port: the direct baseline, which a preview in a network of
    its own (the default, "private") cannot give. `ready_ms`: start → the first 200."""

    def __init__(self, command: str, cwd: Path, under: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PORT": str(self.port), "HOST": "127.0.0.1"}
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            [*as_owner(cwd, under), "sh", "-c", command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self.ready_ms = (until_200(self.port, f"127.0.0.1:{self.port}") - start) * 1000
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> Twin:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def direct_start(worktree: Path, under: Path) -> float:
    """The Vite command started straight in the worktree (as its owner): ms to the first 200."""
    with Twin(vite_command("$PORT"), worktree, under) as twin:
        return twin.ready_ms


# --- Chromium ----------------------------------------------------------------------------------

PROBE = "performance.setResourceTimingBufferSize(2000)"
READY = (
    "window.__ready === true && performance.getEntriesByType('navigation').length > 0"
    " && performance.getEntriesByType('navigation')[0].loadEventEnd > 0"
)
TIMES = """() => {
  const nav = performance.getEntriesByType('navigation')[0]
  const resources = performance.getEntriesByType('resource')
  const waits = resources.map(r => r.responseStart - r.requestStart).sort((a, b) => a - b)
  return {
    request_wait_ms: waits[Math.floor(waits.length / 2)],
    load_ms: nav.loadEventEnd, ready_ms: window.__readyAt, dcl_ms: nav.domContentLoadedEventEnd,
    ttfb_ms: nav.responseStart, requests: resources.length + 1,
    not_200: resources.filter(r => r.responseStatus !== 200)
      .map(r => r.name + ' ' + r.responseStatus),
    text: document.querySelector('#app').textContent,
  }
}"""


def chromium_path() -> str | None:
    """Debian's Chromium (./scripts/install --dev installs it), or None."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def page_load(browser: Any, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """One load in a fresh context (no cache): ms from navigation start to the later of the
    load event's end and the app's __ready."""
    context = browser.new_context(extra_http_headers=headers)
    try:
        page = context.new_page()
        page.add_init_script(PROBE)
        start = time.perf_counter()
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_function(READY, timeout=60_000, polling=10)
        wall = (time.perf_counter() - start) * 1000
        times: dict[str, Any] = page.evaluate(TIMES)
    finally:
        context.close()
    times["ms"] = max(times["load_ms"], times["ready_ms"])
    times["wall_ms"] = wall
    return times
