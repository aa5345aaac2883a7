"""Who may see a preview: a one-time ticket in the UI's Open link, redeemed for a cookie.

The cookie (host-only, HttpOnly, SameSite=Lax) holds an HMAC of the preview's id and token
hash under the server's secret key: nothing per browser is stored, and it stays valid while the
preview keeps its token. Clients without a browser send the same value in a header. Paddock's
embedded view (an iframe, a third-party context) gets the same value in a partitioned cookie
instead, which the browser only sends while the preview is embedded in that same site. An e2e
test run gets a key of its own, kept in memory for the run's life (docs/decisions/011).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

from paddock.config import Settings
from paddock.domain.preview import Preview
from paddock.services.server_access import load_secret
from paddock.store import previews as store
from paddock.store.db import Database
from paddock.store.tables.base import utcnow

TICKET_PARAM = "paddock_ticket"
EMBED_PARAM = "paddock_embed"  # with the ticket: the link is for Paddock's embedded view
COOKIE = "paddock_preview"
# In an iframe (another site's page) only a partitioned cookie is sent: SameSite=None; Secure
# (browsers accept Secure on http://*.localhost); Partitioned keys it to the embedding site.
EMBED_COOKIE = "paddock_preview_embed"
KEY_HEADER = "x-paddock-preview-key"  # the cookie's value, for clients without cookies
RUN_KEY_PREFIX = "run_"  # a test run's key (never an HMAC's hex digits)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A preview token and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


class PreviewAccess:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._secret: bytes | None = None
        self._run_keys: dict[str, str] = {}  # digest of a test run's key → its attempt

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = load_secret(self.settings)
        return self._secret

    def key(self, preview: Preview) -> str:
        """The cookie's (and the header's) value for `preview`."""
        return _key(self.secret, preview.id, preview.token_hash)

    def allows(self, preview: Preview, presented: str | None) -> bool:
        if presented is None:
            return False
        if presented.startswith(RUN_KEY_PREFIX):
            return self._run_keys.get(digest(presented)) == preview.attempt_id
        return hmac.compare_digest(presented, self.key(preview))

    def grant_run(self, attempt_id: str) -> str:
        """A key to every preview of one attempt, for one test run: it lives in this server's
        memory only, until `revoke_run` (when the run ends), and is given to that run alone."""
        key = RUN_KEY_PREFIX + secrets.token_urlsafe(32)
        self._run_keys[digest(key)] = attempt_id
        return key

    def revoke_run(self, key: str) -> None:
        self._run_keys.pop(digest(key), None)

    async def issue_ticket(self, preview: Preview) -> str:
        ticket = secrets.token_urlsafe(24)
        expires = utcnow() + timedelta(seconds=self.settings.previews.ticket_seconds)
        await self.db.run(lambda s: store.add_ticket(s, preview.id, digest(ticket), expires))
        return ticket

    async def redeem(self, preview: Preview, ticket: str) -> bool:
        """True once per ticket, within its lifetime, for its own preview."""
        hashed = digest(ticket)
        return await self.db.run(lambda s: store.redeem_ticket(s, hashed, preview.id))

    async def forget_expired(self) -> None:
        cutoff = utcnow() - timedelta(minutes=10)
        await self.db.run(lambda s: store.forget_tickets(s, cutoff))


@functools.lru_cache(maxsize=1024)
def _key(secret: bytes, preview_id: str, token_hash: str) -> str:
    """Asked on every proxied request: computed once per preview."""
    message = f"{preview_id}:{token_hash}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
