"""The checkout session: a signed cookie got in exchange for the plugin's checkout token.

The cookie holds who is checking out (site, WordPress user, locale, where to go back) and a
random CSRF secret. It is signed with a key derived from the operator's secret for this one
purpose, lives for LIFETIME_S from its start and never slides, and is HttpOnly, SameSite=Lax
and Secure over https. Every form carries the CSRF secret in a hidden field; a POST whose field
does not match the cookie's is refused. There is one secret per session, not per page, so every
tab of a session stays valid; a fresh start of the same owner on the same site keeps it too. A quote shown on a page is bound to the session by a MAC, so a confirm can only
commit a quote this session was shown for its own site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

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
    def begin(
        cls,
        site_id: int,
        user_id: int,
        locale: str,
        return_url: str,
        earlier: CheckoutSession | None = None,
    ) -> CheckoutSession:
        """A new session; the CSRF secret of a live `earlier` one of the same owner and site is
        kept, so that pages already open in other tabs keep working."""
        same = earlier is not None and (earlier.site_id, earlier.user_id) == (site_id, user_id)
        csrf = earlier.csrf if same and earlier is not None else secrets.token_urlsafe(24)
        return cls(site_id, user_id, locale, return_url, csrf)


class SessionCodec:
    """Signs and reads the session cookie; binds quote ids to a session."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, "session")
        self._serializer = URLSafeTimedSerializer(self._key, salt="checkout-session")

    def dumps(self, session: CheckoutSession) -> str:
        return str(self._serializer.dumps(asdict(session)))

    def loads(self, value: str | None) -> CheckoutSession | None:
        """The session in a cookie value, or None if missing, forged, malformed or too old."""
        found = self.read(value)
        return found[0] if found is not None and not found[1] else None

    def read(self, value: str | None) -> tuple[CheckoutSession, bool] | None:
        """The session in a genuine cookie value and whether it has ended, or None when the
        value is missing, forged or malformed."""
        if not value:
            return None
        ended = False
        try:
            data: Any = self._serializer.loads(value, max_age=LIFETIME_S)
        except SignatureExpired:
            ended = True
            try:
                data = self._serializer.loads(value)
            except BadSignature:
                return None
        except BadSignature:
            return None
        try:
            session = CheckoutSession(
                site_id=int(data["site_id"]),
                user_id=int(data["user_id"]),
                locale=str(data["locale"]),
                return_url=str(data["return_url"]),
                csrf=str(data["csrf"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return session, ended

    def ends_at(self, value: str | None) -> int | None:
        """When the session in a genuine cookie value ends (a Unix time), else None."""
        if not value:
            return None
        try:
            _data, signed = self._serializer.loads(value, max_age=LIFETIME_S, return_timestamp=True)
        except BadSignature:
            return None
        return int(signed.timestamp()) + LIFETIME_S

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
