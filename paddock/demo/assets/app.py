"""Hello Paddock: a tiny web app for Paddock's demo project (standard library only).

`python3 app.py` serves `public/` and the API (api.py) on $PORT (default 8000);
`python3 app.py --openapi FILE` writes the API's OpenAPI document to FILE.
"""

from __future__ import annotations

import http.server
import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import api

PUBLIC = Path(__file__).with_name("public")


class Handler(http.server.SimpleHTTPRequestHandler):
    """The API's routes and /openapi.json; every other path is a file of `public/`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, directory=str(PUBLIC), **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/openapi.json":
            self._json(api.openapi())
            return
        route = api.ROUTES.get(url.path)
        if route is None:
            super().do_GET()
            return
        self._json(route(parse_qs(url.query)))

    def _json(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def make_server(host: str, port: int) -> http.server.ThreadingHTTPServer:
    return http.server.ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--openapi"]:
        Path(argv[1]).write_text(json.dumps(api.openapi(), indent=2) + "\n")
        return
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    server = make_server(host, port)
    print(f"hello-paddock listening on http://{host}:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
