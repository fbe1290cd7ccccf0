"""The checkout session: a signed cookie got in exchange for the plugin's checkout token.

The cookie holds who is checking out (site, WordPress user, locale, where to go back) and a
random CSRF secret. It is signed with a key derived from the operator's secret for this one
purpose, lives for a short while, and is HttpOnly, SameSite=Lax and Secure over https. Every
form carries the CSRF secret in a hidden field; a POST whose field does not match the cookie's
is refused. A quote shown on a page is bound to the session by a MAC, so a confirm can only
commit a quote this session was shown for its own site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bridge.contract import derive_key

COOKIE_NAME = "plan_bridge_checkout"
LIFETIME_S = 30 * 60


@dataclass(frozen=True)
class CheckoutSession:
    site_id: int
    user_id: int
    locale: str
    return_url: str
    csrf: str

    @classmethod
    def begin(cls, site_id: int, user_id: int, locale: str, return_url: str) -> CheckoutSession:
        return cls(site_id, user_id, locale, return_url, secrets.token_urlsafe(24))


class SessionCodec:
    """Signs and reads the session cookie; binds quote ids to a session."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, "session")
        self._serializer = URLSafeTimedSerializer(self._key, salt="checkout-session")

    def dumps(self, session: CheckoutSession) -> str:
        return str(self._serializer.dumps(asdict(session)))

    def loads(self, value: str | None) -> CheckoutSession | None:
        """The session in a cookie value, or None if missing, forged, malformed or too old."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=LIFETIME_S)
            return CheckoutSession(
                site_id=int(data["site_id"]),
                user_id=int(data["user_id"]),
                locale=str(data["locale"]),
                return_url=str(data["return_url"]),
                csrf=str(data["csrf"]),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def bind_quote(self, session: CheckoutSession, quote_id: str) -> str:
        """`quote_id.mac`, a reference to a quote that only this session can present."""
        return f"{quote_id}.{self._quote_mac(session, quote_id)}"

    def unbind_quote(self, session: CheckoutSession, reference: str) -> str | None:
        """The quote id of a reference made by bind_quote for this session, else None."""
        quote_id, _, mac = reference.rpartition(".")
        if not quote_id or not hmac.compare_digest(mac, self._quote_mac(session, quote_id)):
            return None
        return quote_id

    def _quote_mac(self, session: CheckoutSession, quote_id: str) -> str:
        message = f"{session.site_id}|{session.user_id}|{session.csrf}|{quote_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]


def csrf_matches(session: CheckoutSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")
