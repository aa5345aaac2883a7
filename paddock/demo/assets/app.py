"""Hello Paddock: a tiny web app for Paddock's demo project (standard library only)."""

import http.server
import os
from functools import partial
from pathlib import Path

PUBLIC = Path(__file__).with_name("public")


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(PUBLIC))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    print(f"hello-paddock listening on http://{host}:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
