"""`POST /webhooks/wordpress`: signed events from the network (docs/wordpress-contract.md, "Events").

Order of checks, each before the next:
1. size (MAX_CONTENT_LENGTH; Flask answers 413 before we read anything),
2. the Standard Webhooks signature over the RAW body, and its timestamp within 5 minutes of the
   injected clock's now (401),
3. only then JSON (at most 32 levels deep, valid Unicode): an object with a string `type` and
   an object `data` (400),
4. the facade handles it, deduplicating on `webhook-id` (204 processed or duplicate).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, request
from standardwebhooks import Webhook

from bridge.api.inputs import EVENT_TYPE_LENGTH, parse_event, parse_json
from bridge.api.state import state
from bridge.errors import InvalidRequest, InvalidSignature
from bridge.services.card_events import handle_stripe_event
from bridge.services.events import handle_event

__all__ = ["TOLERANCE", "register", "verify_signed_body"]

log = logging.getLogger(__name__)

TOLERANCE = timedelta(minutes=5)
_MAX_ID_LENGTH = 200
_SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")

blueprint = Blueprint("webhooks", __name__)


def verify_signed_body(
    webhook: Webhook, headers: Mapping[str, str], body: bytes, now: datetime
) -> str:
    """Check a Standard Webhooks request against `now`; return the webhook-id or raise.

    `headers` has lower-case names.

    Why not `Webhook.verify`: it reads the system clock for the 5-minute tolerance, so the
    service's injected clock (and tests of stale or future messages) would be ignored. We check
    the timestamp against `now` ourselves and let the library compute the expected signature
    for the same id, timestamp and body, compared in constant time; no HMAC is written here.
    """
    msg_id = headers.get("webhook-id", "")
    timestamp_text = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and timestamp_text and signatures):
        raise InvalidSignature(
            "the webhook-id, webhook-timestamp and webhook-signature headers are required"
        )
    if len(msg_id) > _MAX_ID_LENGTH:
        raise InvalidSignature("the webhook-id header is too long")
    try:
        sent_at = datetime.fromtimestamp(int(timestamp_text), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidSignature("the webhook-timestamp header is not a Unix time") from exc
    if sent_at < now - TOLERANCE:
        raise InvalidSignature("the webhook is older than five minutes")
    if sent_at > now + TOLERANCE:
        raise InvalidSignature("the webhook's timestamp is more than five minutes ahead")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # JSON is UTF-8 (RFC 8259) and the signature is computed over text: nothing else verifies.
        raise InvalidSignature("the body is not UTF-8, so its signature cannot match") from exc
    expected = base64.b64decode(webhook.sign(msg_id, sent_at, text).split(",", 1)[1])
    for candidate in signatures.split(" "):
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, given):
            return msg_id
    raise InvalidSignature("the webhook's signature does not match")


def verify_with_any(
    webhooks: tuple[Webhook, ...], headers: Mapping[str, str], body: bytes, now: datetime
) -> str:
    """The current secret's verifier, then the previous one's during a rotation; the first
    verifier's refusal when none accepts."""
    first: InvalidSignature | None = None
    for webhook in webhooks:
        try:
            return verify_signed_body(webhook, headers, body, now)
        except InvalidSignature as exc:
            first = first or exc
    raise first or InvalidSignature("no webhook secret is configured")


def _parse_event(body: bytes) -> tuple[str, dict[str, Any]]:
    event = parse_json(body, code="malformed_json")
    if not isinstance(event, dict):
        raise InvalidRequest("the body must be a JSON object", code="malformed_event")
    event_type = event.get("type")
    data = event.get("data")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidRequest("the event needs a string 'type'", code="malformed_event")
    if len(event_type) > EVENT_TYPE_LENGTH:
        raise InvalidRequest(
            f"the event's 'type' is longer than {EVENT_TYPE_LENGTH} characters",
            code="malformed_event",
        )
    if not isinstance(data, dict):
        raise InvalidRequest("the event needs an object 'data'", code="malformed_event")
    return event_type, data


@blueprint.post("/webhooks/wordpress")
def receive_wordpress_event() -> Response:
    app_state = state()
    # get_data() enforces MAX_CONTENT_LENGTH (413) before anything else reads the body.
    body = request.get_data(cache=False)
    # Only the three signature headers are read (Werkzeug's lookup ignores case).
    headers = {name: request.headers.get(name, "") for name in _SIGNATURE_HEADERS}
    msg_id = verify_with_any(app_state.events_webhooks, headers, body, app_state.ctx.clock.now())
    event_type, data = _parse_event(body)
    event = parse_event(event_type, data, app_state.ctx.catalog.currency)
    outcome = handle_event(app_state.ctx, msg_id, event_type, event)
    log.debug(
        "webhook received",
        extra={"webhook_id": msg_id, "event_type": event_type, "outcome": outcome},
    )
    return Response(status=204)


@blueprint.post("/webhooks/stripe")
def receive_stripe_event() -> Response:
    """Stripe's events: `Stripe-Signature` checked by the library on the raw body (401), then
    deduplicated by event id (200 for processed, duplicate or ignored types)."""
    body = request.get_data(cache=False)
    outcome = handle_stripe_event(state().ctx, body, request.headers.get("Stripe-Signature", ""))
    log.debug("stripe event", extra={"outcome": outcome})
    return Response(status=200)


def register(app: Flask) -> None:
    """Mount the endpoint (the events verifier is in the app's state, built by the factory)."""
    app.register_blueprint(blueprint)
