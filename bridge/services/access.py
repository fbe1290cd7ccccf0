"""Access: each checkout and console sign-in token is accepted once; used ids are purged daily."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.errors import Duplicate
from bridge.services.context import OPERATOR, Context
from bridge.services.journal import audit

# A token is refused by its own expiry; its id only needs remembering a little longer than that.
FORGET_AFTER = timedelta(days=1)


def use_checkout_token(ctx: Context, jti: str, exp: int) -> bool:
    """True the first time a token id is used, False ever after."""
    try:
        with ctx.uow() as uow:
            uow.tokens.use(str(jti), datetime.fromtimestamp(int(exp), UTC), ctx.now())
            uow.commit()
    except Duplicate:
        return False
    return True


def forget_used_tokens(ctx: Context) -> int:
    """Token ids whose token expired a day ago can go: the token is refused by its expiry."""
    with ctx.uow() as uow:
        forgotten = uow.tokens.forget_expired(ctx.now() - FORGET_AFTER)
        uow.commit()
    return forgotten


def use_form_once(ctx: Context, nonce: str, valid_for: timedelta = timedelta(hours=1)) -> bool:
    """A console confirmation is acted on once: True the first time its nonce is seen, False
    after (a second click, a reload of the post), so an action is never done twice."""
    try:
        with ctx.uow() as uow:
            uow.tokens.use(f"form:{nonce}"[:64], ctx.now() + valid_for, ctx.now())
            uow.commit()
    except Duplicate:
        return False
    return True


def use_operator_token(ctx: Context, payload: Mapping[str, Any], how: str) -> bool:
    """A console sign-in token is used once; the sign-in goes to the audit log."""
    who = f"wp:{payload['login']}#{payload['user_id']}"
    try:
        with ctx.uow() as uow:
            exp = datetime.fromtimestamp(int(payload["exp"]), UTC)
            uow.tokens.use(f"op:{payload['jti']}", exp, ctx.now())
            audit(
                ctx,
                uow,
                OPERATOR,
                "console.sign_in",
                "console",
                {"who": who, "role": payload["role"], "how": how},
            )
            uow.commit()
    except Duplicate:
        return False
    return True
