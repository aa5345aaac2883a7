"""A small HTTP client for the running server; errors come back as the API's {code, message}."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from paddock.config import Settings

if TYPE_CHECKING:
    import httpx


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, debug_id: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.debug_id = status, code, message, debug_id


def server_url(settings: Settings, url: str | None) -> str:
    host = settings.server.host
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: loopback reaches it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return (url or f"http://{host}:{settings.server.port}").rstrip("/")


class Client:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        # Imported here: `paddock serve` shares this module's importer and never needs httpx.
        import httpx

        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(60.0, read=None),
            transport=transport,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise ApiError(
                0,
                "server_unreachable",
                f"no Paddock server at {self._http.base_url} (start one with `paddock serve`)",
            ) from exc
        if response.is_error:
            try:
                body = response.json()
            except ValueError:
                body = {"code": f"http_{response.status_code}", "message": response.text}
            raise ApiError(
                response.status_code,
                body.get("code", "error"),
                body.get("message", ""),
                body.get("debug_id"),
            )
        return response.json() if response.content else None

    def events(self, path: str, params: dict[str, Any] | None = None) -> Iterator[tuple[str, Any]]:
        """(event, data) pairs of a server-sent event stream."""
        with self._http.stream("GET", path, params=params) as response:
            if response.is_error:
                response.read()
                body = response.json()
                raise ApiError(response.status_code, body["code"], body["message"])
            event, data = "message", ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif not line and data:
                    yield event, json.loads(data)
                    event, data = "message", ""
