"""Who may use Paddock: its user, proven by the API token or by a session cookie made from it.

Paddock's API can start unsandboxed processes, so every request is authenticated (as Jupyter
Server does for the same reason). The token is made at the first start and kept in
`<data_dir>/token` (mode 0600; a sandbox never sees the data dir), or given as PADDOCK_TOKEN.
The CLI reads it itself; API clients send `Authorization: Bearer <token>`; a browser opens the
URL `paddock serve` prints (`/?token=...`) once and gets a session cookie: HttpOnly,
SameSite=Strict, holding an HMAC of the token's hash and the time it was issued under the
server's secret key. Nothing per browser is stored: a session survives restarts, lapses after
`session_days`, and a new token ends every session at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from paddock.config import Settings

TOKEN_FILE = "token"
SECRET_FILE = "secret.key"
MIN_TOKEN_CHARS = 24  # a configured token shorter than this is refused: it could be guessed
_SESSION_VERSION = "s1"


class WeakTokenError(ValueError):
    """PADDOCK_TOKEN is too short to guard a door to root."""


def write_private(path: Path, data: bytes) -> None:
    """Create `path` readable by the server's user only; never replace an existing file (another
    server on the same data dir may have made it first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def load_secret(settings: Settings) -> bytes:
    """The server's signing key: the setting, else `<data_dir>/secret.key` (made once)."""
    if settings.server.secret_key is not None:
        return settings.server.secret_key.get_secret_value().encode()
    path = settings.storage.data_dir / SECRET_FILE
    if not path.exists():
        write_private(path, secrets.token_bytes(32))
    return path.read_bytes()


def load_token(settings: Settings, *, create: bool = True) -> str | None:
    """The API token: PADDOCK_TOKEN, else `<data_dir>/token`, made on first use when `create`.
    None when there is none and `create` is false (a CLI pointed at a data dir never served)."""
    if settings.server.token is not None:
        token = settings.server.token.get_secret_value()
        if len(token) < MIN_TOKEN_CHARS:
            raise WeakTokenError(
                f"PADDOCK_TOKEN has {len(token)} characters; use at least {MIN_TOKEN_CHARS} "
                "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return token
    path = settings.storage.data_dir / TOKEN_FILE
    if create and not path.exists():
        write_private(path, secrets.token_urlsafe(32).encode())
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def session_cookie_name(settings: Settings) -> str:
    # Cookies ignore ports: two Paddock servers on one machine must not overwrite each other's.
    return f"paddock_session_{settings.server.port}"


class ServerAccess:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cookie_name = session_cookie_name(settings)
        self._token = load_token(settings) or ""
        self._token_hash = hashlib.sha256(self._token.encode()).hexdigest()
        self._secret = load_secret(settings)
        self.session_seconds = int(settings.server.session_days * 86400)

    @property
    def token(self) -> str:
        return self._token

    def token_valid(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            (presented or "").encode(), self._token.encode()
        )

    def new_session(self, now: float | None = None) -> str:
        issued = str(int(now if now is not None else time.time()))
        return f"{_SESSION_VERSION}.{issued}.{self._sign(issued)}"

    def session_valid(self, value: str | None, now: float | None = None) -> bool:
        if not value:
            return False
        version, _, rest = value.partition(".")
        issued, _, signature = rest.partition(".")
        if version != _SESSION_VERSION or not issued.isdigit():
            return False
        if not hmac.compare_digest(signature.encode(), self._sign(issued).encode()):
            return False
        age = (now if now is not None else time.time()) - int(issued)
        return -60 <= age <= self.session_seconds

    def _sign(self, issued: str) -> str:
        message = f"session:{issued}:{self._token_hash}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
