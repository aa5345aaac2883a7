"""A test double of the model APIs that agent CLIs call (Anthropic, OpenAI, Gemini).

It is stateless: every reply is chosen from the conversation the CLI sends, so resuming a
session works for free, and the test says what the "model" does with a `Script`. Each API
dialect lives in its own module (tests/agents/dialects/) and turns its requests into a
`Conversation` and a `Reply` into its wire format. Every request is recorded; unknown routes
get a 404 (never a crash), as real CLIs probe a few URLs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant" | "tool"
    text: str = ""


@dataclass(frozen=True)
class Conversation:
    turns: list[Turn]

    @property
    def last_user_text(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.role == "user"), "")

    @property
    def tool_results(self) -> int:
        """Tool results since the last user message: how far this turn has come."""
        count = 0
        for turn in reversed(self.turns):
            if turn.role == "user":
                break
            count += turn.role == "tool"
        return count

    def mentions(self, text: str) -> bool:
        return any(text in turn.text for turn in self.turns)


@dataclass(frozen=True)
class WriteFile:
    path: str  # relative to the worktree; dialects make it absolute where the CLI needs it
    content: str


@dataclass(frozen=True)
class RunShell:
    command: str
    background: bool = False  # run it in the background where the CLI can (Claude Code)


@dataclass(frozen=True)
class Say:
    text: str
    input_tokens: int = 120
    output_tokens: int = 30


@dataclass(frozen=True)
class CallTool:
    """A call of the tool `name` with `arguments` (any name: the script decides, so a test can
    make the "model" call a tool it was not offered), with `text` said before it. Meant for
    clients that offer tools by their own names (Paddock's planners); WriteFile and RunShell
    are the CLIs' own tools."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    text: str = ""


Reply = WriteFile | RunShell | Say | CallTool
Script = Callable[[Conversation], Reply]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    chunks: Iterator[bytes] | list[bytes] = field(default_factory=list)

    @staticmethod
    def json(body: Any, status: int = 200) -> Response:
        return Response(status, {"Content-Type": "application/json"}, [json.dumps(body).encode()])

    @staticmethod
    def sse(events: list[bytes]) -> Response:
        return Response(200, {"Content-Type": "text/event-stream"}, events)


class Dialect(Protocol):
    """One model API: which requests it answers and how."""

    def answers(self, method: str, path: str) -> bool: ...

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response: ...


class FakeModel:
    """Serve `dialects` on 127.0.0.1 with `script` deciding every reply.

    `root` is the directory the agent works in (the worktree), for dialects whose CLI wants
    absolute paths in tool calls.
    """

    def __init__(self, script: Script, dialects: list[Dialect], root: str = "") -> None:
        self.script = script
        self.dialects = dialects
        self.root = root
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeModel:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def posts(self, path_part: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and path_part in r.path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:  # the requests list is the log
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    self.command, self.path, dict(self.headers), self.rfile.read(length)
                )
                with fake._lock:
                    fake.requests.append(request)
                dialect = next(
                    (d for d in fake.dialects if d.answers(self.command, self.path)), None
                )
                if dialect is None:
                    response = Response.json({"error": f"no route {self.path}"}, 404)
                else:
                    try:
                        response = dialect.respond(request, fake.script, fake.root)
                    except Exception as exc:  # a broken test double must say why, not hang
                        response = Response.json({"error": f"fake model failed: {exc!r}"}, 500)
                self._send(response)

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if self.command == "HEAD":  # headers only
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in response.chunks:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_HEAD = do_PUT = _handle

        return Handler


def sse_event(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()
