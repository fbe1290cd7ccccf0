"""The console session: a signed cookie got in exchange for a single-use operator token.

It holds the WordPress user (id and login), the role (`operator` or `viewer`) and a random CSRF
secret that every form carries back. It is signed with a key derived for the console alone,
lives for an hour, is HttpOnly, SameSite=Lax, limited to /admin, and Secure over https. The
JSON API never reads it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bridge.contract import OPERATOR_ROLES, derive_key

COOKIE_NAME = "plan_bridge_console"
LIFETIME_S = 60 * 60


@dataclass(frozen=True)
class ConsoleSession:
    user_id: int
    login: str
    role: str
    csrf: str

    @classmethod
    def begin(cls, user_id: int, login: str, role: str) -> ConsoleSession:
        return cls(user_id, login, role, secrets.token_urlsafe(24))

    @property
    def can_edit(self) -> bool:
        return self.role == "operator"

    @property
    def who(self) -> str:
        """The WordPress user, as the audit log and catalog versions name them."""
        return f"wp:{self.login}#{self.user_id}"


class ConsoleCodec:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(
            derive_key(secret, "console"), salt="console-session"
        )

    def dumps(self, session: ConsoleSession) -> str:
        return str(self._serializer.dumps(asdict(session)))

    def loads(self, value: str | None) -> ConsoleSession | None:
        """The session in a cookie value, or None if missing, forged, malformed or too old."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=LIFETIME_S)
            session = ConsoleSession(
                int(data["user_id"]), str(data["login"]), str(data["role"]), str(data["csrf"])
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        return session if session.role in OPERATOR_ROLES else None


def csrf_matches(session: ConsoleSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")
