"""The wire contract with the WordPress plugin (docs/wordpress-contract.md), as pure functions.

What crosses the wire and how it is signed: the operator's secret and the keys derived from it,
the Standard Webhooks signer and verifier, the checkout token, and the shape of the limits
documents the bridge pushes. No I/O: callers pass the instant and send the bytes themselves.
Imports only the standard library, bridge.domain, bridge.errors (itself pure) and
standardwebhooks (tests/unit/test_architecture.py checks it).

Standard Webhooks signatures come from the `standardwebhooks` library. What is written here by
hand is only what no library does for us: deriving one key per purpose from the operator's single
secret (so a leaked checkout token key cannot forge pushes) and the compact checkout token, whose
format is shared with a PHP plugin that has no JWT library available.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

from bridge.domain.documents import instant
from bridge.errors import InvalidSecret, InvalidToken

__all__ = [
    "as_whsec",
    "default_limits_document",
    "derive_key",
    "events_webhook",
    "limits_document",
    "mint_checkout_token",
    "mint_operator_token",
    "push_webhook",
    "read_checkout_token",
    "read_operator_token",
    "secret_bytes",
    "sign_headers",
]

_PREFIX = "whsec_"


def secret_bytes(secret: str) -> bytes:
    """Decode `whsec_<base64>` into the raw key bytes."""
    body = secret[len(_PREFIX) :] if secret.startswith(_PREFIX) else secret
    try:
        raw = base64.b64decode(body, validate=True)
    except (ValueError, TypeError) as exc:
        raise InvalidSecret("the secret must be 'whsec_' followed by base64") from exc
    if len(raw) < 16:
        raise InvalidSecret("the secret must hold at least 16 bytes")
    return raw


def derive_key(secret: str, purpose: str) -> bytes:
    """One key per purpose: HMAC-SHA256(raw secret, 'plan-bridge/<purpose>/v1')."""
    return hmac.new(secret_bytes(secret), f"plan-bridge/{purpose}/v1".encode(), "sha256").digest()


# Every purpose a key is derived for; the log redaction hides each derived key too.
PURPOSES = ("push", "token", "session", "operator", "console", "receipt")


def secret_forms(secret: str) -> list[str]:
    """Every text form in which `secret` or a key derived from it could appear: the secret, its
    base64 body, and each derived key as hex, base64 and `whsec_` (for redacting logs)."""
    forms = [secret]
    body = secret[len(_PREFIX) :] if secret.startswith(_PREFIX) else secret
    forms.append(body)
    try:
        raw = secret_bytes(secret)
    except InvalidSecret:
        return forms
    for key in (raw, *(derive_key(secret, purpose) for purpose in PURPOSES)):
        encoded = base64.b64encode(key).decode()
        forms += [key.hex(), encoded, _b64url(key), as_whsec(key)]
    return forms


def as_whsec(key: bytes) -> str:
    """A raw key in the form Standard Webhooks libraries take: `whsec_` + base64."""
    return _PREFIX + base64.b64encode(key).decode()


def events_webhook(secret: str) -> Webhook:
    """Verifier for plugin → bridge events: the operator's secret itself."""
    return Webhook(as_whsec(secret_bytes(secret)))


def push_webhook(secret: str) -> Webhook:
    """Signer for bridge → plugin pushes: the derived push key."""
    return Webhook(as_whsec(derive_key(secret, "push")))


def sign_headers(webhook: Webhook, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, sent at `at`."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": webhook.sign(msg_id, at, body),
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_INT64_MAX = 2**63 - 1
_EXP_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds
_JTI_LENGTH = 64  # checkout_token_uses.jti


def mint_checkout_token(secret: str, payload: Mapping[str, Any], purpose: str = "token") -> str:
    """The plugin's token format, for tests and tools: b64url(json).b64url(hmac)."""
    body = _b64url(json.dumps(dict(payload), separators=(",", ":")).encode())
    mac = hmac.new(derive_key(secret, purpose), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64url(mac)}"


RECEIPT_KINDS = ("receipt", "credit_note")
RECEIPT_TOKEN_TTL_S = 10 * 60


def mint_receipt_token(secret: str, payload: Mapping[str, Any]) -> str:
    """A token that opens one receipt, under a key of its own purpose (`receipt`): the checkout
    token's format, payload {site_id, user_id, locale, kind, number, exp, jti}."""
    return mint_checkout_token(secret, payload, "receipt")


def read_receipt_token(secrets: tuple[str, ...], token: str, now_s: int) -> dict[str, Any]:
    """Verify a receipt token against any of `secrets`; a checkout token is not one."""
    first: InvalidToken | None = None
    for secret in secrets:
        try:
            payload = read_checkout_token(secret, token, now_s, "receipt")
        except InvalidToken as exc:
            if exc.expired:
                raise
            first = first or exc
            continue
        if payload.get("kind") not in RECEIPT_KINDS:
            raise InvalidToken("the token has no valid 'kind'")
        number = payload.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number <= _INT64_MAX:
            raise InvalidToken("the token has no valid 'number'")
        if payload["exp"] > now_s + RECEIPT_TOKEN_TTL_S:
            raise InvalidToken("the token lives too long")
        return payload
    raise first or InvalidToken("no secret is configured")


def read_checkout_token_any(secrets: tuple[str, ...], token: str, now_s: int) -> dict[str, Any]:
    """A checkout token signed with any of `secrets` (the current one first, then the previous
    one during a rotation); the first secret's error when none matches."""
    first: InvalidToken | None = None
    for secret in secrets:
        try:
            return read_checkout_token(secret, token, now_s)
        except InvalidToken as exc:
            if exc.expired:
                raise  # the signature matched: the token is genuine but too old
            first = first or exc
    raise first or InvalidToken("no secret is configured")


def read_checkout_token(
    secret: str, token: str, now_s: int, purpose: str = "token"
) -> dict[str, Any]:
    """Verify signature and expiry of a checkout token (or, with `purpose` "receipt", of a
    receipt token) and return its payload."""
    try:
        body, mac_text = token.split(".")
        mac = _unb64url(mac_text)
    except ValueError as exc:
        raise InvalidToken("the token is malformed") from exc
    expected = hmac.new(derive_key(secret, purpose), body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise InvalidToken("the token's signature does not match")
    try:
        payload = json.loads(_unb64url(body))
    except ValueError as exc:
        raise InvalidToken("the token's payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise InvalidToken("the token's payload is not an object")
    for field, kind in (("site_id", int), ("user_id", int), ("exp", int), ("jti", str)):
        if not isinstance(payload.get(field), kind) or isinstance(payload.get(field), bool):
            raise InvalidToken(f"the token has no valid '{field}'")
    # Ids the database can hold (BIGINT) and an expiry a datetime can hold: a signed token
    # with anything else is refused like a malformed one, never carried on to overflow later.
    for field, highest in (("site_id", _INT64_MAX), ("user_id", _INT64_MAX), ("exp", _EXP_MAX)):
        if not 0 <= payload[field] <= highest:
            raise InvalidToken(f"the token's '{field}' is out of range")
    if not 0 < len(payload["jti"]) <= _JTI_LENGTH:
        raise InvalidToken("the token's 'jti' is empty or too long")
    if payload["exp"] < now_s:
        raise InvalidToken("the token has expired", InvalidToken.EXPIRED)
    return payload


# -- the operator's console sign-in token ----------------------------------------------------

OPERATOR_ROLES = ("operator", "viewer")
OPERATOR_TOKEN_TTL_S = 5 * 60  # the plugin's Network Admin button
ADMIN_LINK_TTL_S = 10 * 60  # `bridge admin-link`


def mint_operator_token(secret: str, payload: Mapping[str, Any]) -> str:
    """A console sign-in token, the checkout token's format under the `operator` key:
    b64url(json {user_id, login, role, exp, jti}).b64url(hmac)."""
    body = _b64url(json.dumps(dict(payload), separators=(",", ":")).encode())
    mac = hmac.new(derive_key(secret, "operator"), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64url(mac)}"


def read_operator_token(secrets: tuple[str, ...], token: str, now_s: int) -> dict[str, Any]:
    """Verify a console sign-in token against any of `secrets`; its payload."""
    try:
        body, mac_text = token.split(".")
        mac = _unb64url(mac_text)
    except ValueError as exc:
        raise InvalidToken("the token is malformed") from exc
    if not any(
        hmac.compare_digest(
            mac, hmac.new(derive_key(s, "operator"), body.encode(), hashlib.sha256).digest()
        )
        for s in secrets
    ):
        raise InvalidToken("the token's signature does not match")
    try:
        payload = json.loads(_unb64url(body))
    except ValueError as exc:
        raise InvalidToken("the token's payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise InvalidToken("the token's payload is not an object")
    for field, kind in (("user_id", int), ("login", str), ("exp", int), ("jti", str)):
        if not isinstance(payload.get(field), kind):
            raise InvalidToken(f"the token has no valid '{field}'")
    if payload.get("role") not in OPERATOR_ROLES:
        raise InvalidToken("the token has no valid 'role'")
    if payload["exp"] < now_s:
        raise InvalidToken("the token has expired", InvalidToken.EXPIRED)
    if payload["exp"] > now_s + ADMIN_LINK_TTL_S:
        raise InvalidToken("the token lives too long")
    return payload


# -- the pushed documents ----------------------------------------------------------------


def limits_document(
    *,
    site_id: int,
    version: int,
    issued_at: datetime,
    limits: Mapping[str, Any],
    membership: Mapping[str, Any] | None,
    notices: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """One site's limits document, version `version` (the plugin keeps the highest it has seen);
    `notices` says which notices the plugin sends itself (`visits_80`)."""
    doc: dict[str, Any] = {
        "site_id": site_id,
        "version": version,
        "issued_at": instant(issued_at),
        "limits": dict(limits),
        "membership": dict(membership) if membership is not None else None,
    }
    if notices is not None:
        doc["notices"] = dict(notices)
    return doc


def default_limits_document(
    *, version: int, issued_at: datetime, limits: Mapping[str, Any]
) -> dict[str, Any]:
    """The network's default limits (the default plan's), for sites the bridge does not know yet."""
    return {"version": version, "issued_at": instant(issued_at), "limits": dict(limits)}
