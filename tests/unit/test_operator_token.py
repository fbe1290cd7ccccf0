"""The console's sign-in token: the plugin mints it with the operator key, the bridge reads it."""

from __future__ import annotations

import time

import pytest

from bridge.contract import derive_key, mint_operator_token, read_operator_token
from bridge.errors import InvalidToken
from tests.unit.test_contract import SECRET, php


def test_the_operator_key_is_its_own() -> None:
    keys = {derive_key(SECRET, p) for p in ("push", "token", "session", "operator", "console")}
    assert len(keys) == 5


def test_a_token_minted_by_the_plugin_for_a_super_admin_signs_in_as_operator() -> None:
    code = (
        "$key = Bridge_Signature::derive_key($in['s'], 'operator');"
        "echo Bridge_Token::mint($key, Bridge_Token::operator_payload(1, 'admin', time()));"
    )
    token = php(code, {"s": SECRET})
    payload = read_operator_token((SECRET,), token, int(time.time()))
    assert (payload["user_id"], payload["login"], payload["role"]) == (1, "admin", "operator")
    assert payload["exp"] - int(time.time()) <= 300


def test_a_checkout_token_is_no_operator_token() -> None:
    code = (
        "$key = Bridge_Signature::derive_key($in['s'], 'token');"
        "echo Bridge_Token::mint($key, Bridge_Token::operator_payload(1, 'admin', time()));"
    )
    with pytest.raises(InvalidToken):
        read_operator_token((SECRET,), php(code, {"s": SECRET}), int(time.time()))


def test_an_operator_token_past_its_expiry_is_refused() -> None:
    now = int(time.time())
    token = mint_operator_token(
        SECRET, {"user_id": 1, "login": "a", "role": "viewer", "exp": now - 1, "jti": "j"}
    )
    with pytest.raises(InvalidToken) as refused:
        read_operator_token((SECRET,), token, now)
    assert refused.value.expired
