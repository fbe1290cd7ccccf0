"""Checkout access: each checkout token is accepted once; used token ids are purged daily."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.errors import Duplicate
from bridge.services.context import Context

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
