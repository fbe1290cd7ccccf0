"""The wire contract: keys and checkout tokens agree with the plugin's PHP; documents' shape."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.contract import (
    default_limits_document,
    derive_key,
    limits_document,
    mint_checkout_token,
    push_webhook,
    read_checkout_token,
    sign_headers,
)
from bridge.errors import InvalidToken
from tests.support.parts import require_part

PLUGIN = Path(__file__).resolve().parents[2] / "wp-plugin-stub"
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
PHP_PRELUDE = (
    "define('PLAN_BRIDGE_TESTING', true);"
    f"require '{PLUGIN}/includes/class-bridge-signature.php';"
    f"require '{PLUGIN}/includes/class-bridge-token.php';"
    "$in = json_decode(stream_get_contents(STDIN), true);"
)


def php(code: str, data: object) -> str:
    binary = shutil.which("php")
    require_part("php", binary is not None, "install the Debian package php-cli (make deps)")
    assert binary is not None
    result = subprocess.run(
        [binary, "-r", PHP_PRELUDE + code],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def test_each_purpose_has_its_own_key() -> None:
    keys = {purpose: derive_key(SECRET, purpose) for purpose in ("push", "token", "events")}
    assert len(set(keys.values())) == 3
    assert all(len(key) == 32 for key in keys.values())


def test_php_derives_the_same_keys() -> None:
    for purpose in ("push", "token"):
        out = php(
            "echo bin2hex(Bridge_Signature::derive_key($in['s'], $in['p']));",
            {"s": SECRET, "p": purpose},
        )
        assert out == derive_key(SECRET, purpose).hex()


def test_a_push_signed_in_python_verifies_in_php() -> None:
    body = '{"site_id":2,"version":7,"limits":{"visits":100}}'
    at = datetime.now(UTC)
    headers = sign_headers(push_webhook(SECRET), "msg_1", at, body)
    code = (
        "echo Bridge_Signature::verify(Bridge_Signature::derive_key($in['s'], 'push'),"
        " $in['h']['webhook-id'], $in['h']['webhook-timestamp'], $in['h']['webhook-signature'],"
        " $in['b'], time()) ?: 'valid';"
    )
    assert php(code, {"s": SECRET, "h": headers, "b": body}) == "valid"
    assert php(code, {"s": SECRET, "h": headers, "b": body + " "}) == "signature mismatch"


def test_an_event_signed_in_php_verifies_with_standard_webhooks() -> None:
    from bridge.contract import events_webhook

    body = '{"type":"site.deleted","data":{"site_id":2}}'
    out = php(
        "echo json_encode(Bridge_Signature::headers(Bridge_Signature::derive_key($in['s'],"
        " 'events'), 'msg_e', time(), $in['b']));",
        {"s": SECRET, "b": body},
    )
    assert events_webhook(SECRET).verify(body, json.loads(out)) == json.loads(body)


def test_a_token_minted_in_php_verifies_in_python() -> None:
    now = int(time.time())
    token = php(
        "echo Bridge_Token::mint(Bridge_Signature::derive_key($in['s'], 'token'),"
        " Bridge_Token::payload(2, 5, 'nb_NO', 'http://net.test/site2/', 'change', $in['now']));",
        {"s": SECRET, "now": now},
    )
    payload = read_checkout_token(SECRET, token, now)
    assert payload["site_id"] == 2
    assert payload["user_id"] == 5
    assert payload["locale"] == "nb_NO"
    assert payload["return_url"] == "http://net.test/site2/"
    assert payload["exp"] == now + 600
    assert payload["intent"] == "change"
    with pytest.raises(InvalidToken):
        read_checkout_token(SECRET, token, now + 601)


def test_a_token_minted_in_python_verifies_in_php() -> None:
    now = int(time.time())
    payload = {
        "site_id": 3,
        "user_id": 9,
        "locale": "ms_MY",
        "return_url": "http://x/",
        "exp": now + 600,
        "jti": "0" * 32,
        "intent": "cancel_scheduled",
    }
    token = mint_checkout_token(SECRET, payload)
    code = (
        "echo json_encode(Bridge_Token::read(Bridge_Signature::derive_key($in['s'], 'token'),"
        " $in['t'], $in['now']));"
    )
    assert json.loads(php(code, {"s": SECRET, "t": token, "now": now})) == payload
    assert json.loads(php(code, {"s": SECRET, "t": token[:-2] + "AA", "now": now})) is None


def test_a_token_signed_with_another_purposes_key_is_refused() -> None:
    body = base64.urlsafe_b64encode(b'{"site_id":2,"user_id":5,"exp":9999999999,"jti":"x"}')
    body_text = body.rstrip(b"=").decode()
    import hashlib
    import hmac

    mac = hmac.new(derive_key(SECRET, "push"), body_text.encode(), hashlib.sha256).digest()
    forged = body_text + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        read_checkout_token(SECRET, forged, 0)


def test_an_expired_token_says_so_by_its_code_and_a_forged_one_does_not() -> None:
    payload = {"site_id": 2, "user_id": 5, "exp": 1000, "jti": "j" * 32}
    with pytest.raises(InvalidToken) as expired:
        read_checkout_token(SECRET, mint_checkout_token(SECRET, payload), 1001)
    assert (expired.value.code, expired.value.expired) == ("token_expired", True)
    with pytest.raises(InvalidToken) as forged:
        read_checkout_token(SECRET, mint_checkout_token(SECRET, payload)[:-2] + "AA", 0)
    assert (forged.value.code, forged.value.expired) == ("invalid_token", False)


def test_a_site_limits_document_has_the_pushed_shape() -> None:
    at = datetime(2026, 4, 11, 9, 30, 15, 123456, tzinfo=UTC)
    document = limits_document(
        site_id=2,
        version=7,
        issued_at=at,
        limits={"disk_mb": 100, "posts": {"post": 5}},
        membership={"plan": "free", "status": "active"},
    )
    assert document == {
        "site_id": 2,
        "version": 7,
        "issued_at": "2026-04-11T09:30:15Z",
        "limits": {"disk_mb": 100, "posts": {"post": 5}},
        "membership": {"plan": "free", "status": "active"},
    }
    assert list(document) == ["site_id", "version", "issued_at", "limits", "membership"]
    bare = limits_document(site_id=3, version=1, issued_at=at, limits={}, membership=None)
    assert bare["membership"] is None


def test_the_default_limits_document_has_version_instant_and_limits_only() -> None:
    at = datetime(2026, 4, 11, tzinfo=UTC)
    assert default_limits_document(version=2, issued_at=at, limits={"users": 1}) == {
        "version": 2,
        "issued_at": "2026-04-11T00:00:00Z",
        "limits": {"users": 1},
    }
