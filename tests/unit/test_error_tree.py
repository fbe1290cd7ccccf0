"""The one error tree: stable codes, and the JSON API's status for every class."""

from __future__ import annotations

import inspect

import pytest

import bridge.errors
from bridge.api.errors import status_of
from bridge.errors import (
    Blocked,
    BridgeError,
    ConcurrentChange,
    Conflict,
    Duplicate,
    InsufficientBalance,
    InvalidRequest,
    InvalidSecret,
    InvalidToken,
    InvoiceClosed,
    NoChange,
    NoMembership,
    PaymentMismatch,
    PushRejected,
    QueueNotBound,
    QuoteExpired,
    QuoteUsed,
    ScenarioError,
    StaleQuote,
    Unprocessable,
    WordPressUnavailable,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ConcurrentChange(), 409, "conflict"),
        (Duplicate(), 409, "duplicate"),
        (QuoteExpired(), 409, "quote_expired"),
        (QuoteUsed(), 409, "already_committed"),
        (StaleQuote("The membership changed."), 409, "stale_quote"),
        (InvoiceClosed("Invoice 7 is void.", status="void"), 409, "invoice_void"),
        (InvoiceClosed("Invoice 7 expired.", status="expired"), 409, "invoice_expired"),
        (PaymentMismatch("Not 10.00.", field="amount"), 422, "amount_mismatch"),
        (PaymentMismatch("In USD.", field="currency"), 422, "currency_mismatch"),
        (PaymentMismatch("In USD.", "currency_mismatch"), 422, "currency_mismatch"),
        (InvoiceClosed("Invoice 7 is paid.", "invoice_paid"), 409, "invoice_paid"),
        (NoChange("Nothing would change."), 422, "no_change"),
        (Blocked("Too many posts."), 422, "blocked"),
        (NoMembership("Site 2 has no membership yet."), 422, "no_membership"),
        (InsufficientBalance("The balance is 0.00."), 422, "insufficient_balance"),
        (InvalidToken("the token is malformed"), 401, "invalid_token"),
        (InvalidToken("the token has expired", InvalidToken.EXPIRED), 401, "token_expired"),
        (ScenarioError("at: is required"), 400, "invalid_scenario"),
        (InvalidSecret("the secret must hold at least 16 bytes"), 500, "invalid_secret"),
        (WordPressUnavailable("no answer", 503), 500, "wordpress_unavailable"),
        (PushRejected("push refused", 401), 500, "push_rejected"),
        (QueueNotBound("not bound"), 500, "queue_not_bound"),
    ],
)
def test_each_error_keeps_its_code_and_status(error: BridgeError, status: int, code: str) -> None:
    assert (status_of(error), error.code, error.message) == (status, code, str(error))


def test_the_quote_errors_are_stale_quotes_and_conflicts() -> None:
    assert issubclass(QuoteExpired, StaleQuote) and issubclass(QuoteUsed, StaleQuote)
    assert all(issubclass(c, Conflict) for c in (ConcurrentChange, Duplicate, InvoiceClosed))
    assert all(
        issubclass(c, Unprocessable)
        for c in (PaymentMismatch, NoChange, Blocked, NoMembership, InsufficientBalance)
    )


def test_a_scenario_error_is_still_a_value_error_and_an_invalid_request() -> None:
    assert issubclass(ScenarioError, ValueError) and issubclass(ScenarioError, InvalidRequest)


def test_the_docstring_draws_every_class_of_the_tree() -> None:
    doc = bridge.errors.__doc__ or ""
    classes = [
        name
        for name, value in vars(bridge.errors).items()
        if inspect.isclass(value) and issubclass(value, BridgeError)
    ]
    assert len(classes) >= 28
    assert [name for name in classes if name not in doc] == []
    for name in classes:
        assert (getattr(bridge.errors, name).__doc__ or "").strip(), name


def test_a_closed_invoice_and_a_payment_mismatch_say_what_by_attribute() -> None:
    assert InvoiceClosed("Invoice 7 is void.", status="void").status == "void"
    assert InvoiceClosed("Invoice 7 expired.", "invoice_expired").status == "expired"
    assert PaymentMismatch("Not 10.00.", field="amount").field == "amount"
    assert PaymentMismatch("In USD.", "currency_mismatch").field == "currency"
