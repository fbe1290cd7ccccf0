"""Notices to the membership's owner (issue 17): recorded with their event, pushed after the
limits document under the push runner's retries, on real SQLite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bridge.api.inputs import parse_selection
from bridge.config_sections import NoticesSettings
from bridge.errors import WordPressUnavailable
from bridge.services import notices, payments, quotes, receipts, renewals
from bridge.services.context import OPERATOR, Context
from bridge.services.pushes import Outcome, PushRunner, RetryPolicy, sites_behind
from tests.services.conftest import OWNER, create_site
from tests.services.fakes import FakeClock
from tests.support.bridge_app import RecordingPusher


def _commit(ctx: Context, plan: str) -> dict[str, Any]:
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": plan}), OWNER)
    return dict(quotes.commit_quote(ctx, quote["id"], OWNER))


def _kinds(ctx: Context) -> list[str]:
    return sorted(n.kind for n in notices.latest_notices(ctx))


def test_an_upgrade_records_change_applied_and_payment_received_for_the_owner(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    create_site(ctx)
    _commit(ctx, "premium")
    found = {n.kind: n for n in notices.latest_notices(ctx)}
    assert sorted(found) == ["change_applied", "payment_received"]
    paid = found["payment_received"].document
    assert paid["id"] == found["payment_received"].id
    assert (paid["site_id"], paid["user_id"], paid["email"]) == (2, 5, "owner5@example.com")
    assert paid["data"]["number"] == 1 and paid["data"]["amount_minor"] > 0
    applied = found["change_applied"].document["data"]
    assert (applied["plan"], applied["from_plan"]) == ("premium", "free")
    assert (applied["plan_name"], applied["from_plan_name"]) == ("Premium", "Free")
    assert paid["data"]["amount"] == "29.00" and paid["data"]["currency"] == "USD"


def test_a_downgrade_at_end_of_term_records_change_scheduled_with_its_date(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    create_site(ctx)
    _commit(ctx, "premium")
    assert _commit(ctx, "free")["status"] == "scheduled"
    [scheduled] = [n for n in notices.latest_notices(ctx) if n.kind == "change_scheduled"]
    assert scheduled.document["data"]["plan"] == "free"
    assert scheduled.document["data"]["effective_at"].endswith("Z")


def test_a_refund_records_refund_issued_with_its_credit_note(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    create_site(ctx)
    invoice = _commit(ctx, "premium")["invoice"]
    receipts.refund_invoice(ctx, str(invoice["id"]), 500, "goodwill", "re_1", OPERATOR)
    [refund] = [n for n in notices.latest_notices(ctx) if n.kind == "refund_issued"]
    assert refund.document["data"]["amount_minor"] == 500
    assert refund.document["data"]["receipt_number"] == 1


def test_past_due_then_the_fallback_plan_are_each_noticed_once(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    result = _commit(ctx, "premium")
    payments.pay_invoice(ctx, result["invoice"]["id"], "ref", OPERATOR)
    clock.set(datetime(2026, 5, 1, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    renewals.roll_over(ctx)
    assert _kinds(ctx).count("past_due") == 1
    clock.set(datetime(2026, 5, 8, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    assert _kinds(ctx).count("fallback") == 1
    assert "change_applied" not in _kinds(ctx)[_kinds(ctx).index("fallback") :]


def test_paying_an_expired_invoice_notices_the_credit_to_the_balance(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    result = _commit(ctx, "premium")
    assert result["status"] == "pending_payment"
    clock.advance(days=2)  # past change_invoice_ttl_s: the change no longer applies
    payments.pay_invoice(ctx, result["invoice"]["id"], "late", OPERATOR)
    [credited] = [n for n in notices.latest_notices(ctx) if n.kind == "balance_credited"]
    data = credited.document["data"]
    assert data["amount_minor"] > 0
    assert data["balance_minor"] == data["amount_minor"]
    assert "change_applied" not in _kinds(ctx) and "payment_received" not in _kinds(ctx)


def test_a_kind_turned_off_is_not_recorded(make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx(notices=NoticesSettings(frozenset({"payment_received"})))
    create_site(ctx)
    _commit(ctx, "premium")
    assert _kinds(ctx) == ["change_applied"]


def test_the_limits_document_says_whether_the_visits_notice_is_on(
    make_ctx: Callable[..., Context],
) -> None:
    from bridge.services.limits import limits_document

    ctx = make_ctx(notices=NoticesSettings(frozenset({"visits_80"})))
    create_site(ctx)
    assert limits_document(ctx, 2)[2]["notices"] == {"visits_80": False}


class FlakyPusher(RecordingPusher):
    """Pushes limits; refuses notices (as a network that is down) while `down` is set."""

    down: bool = True

    def push_notice(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> None:
        if self.down:
            raise WordPressUnavailable("the site did not answer in time")
        assert msg_id == document["id"]
        super().push_notice(network_url, document, at, msg_id)


def test_notices_go_after_the_limits_and_a_failed_one_is_retried_by_the_chain(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    create_site(ctx)
    _commit(ctx, "premium")
    pusher = FlakyPusher()
    runner = PushRunner(ctx, pusher, RetryPolicy(max_attempts=3), rand=lambda: 0.5)
    first = runner.push_site(2)
    assert first.outcome is Outcome.RETRY and first.retry_in_s is not None
    assert pusher.pushed and not pusher.notices  # the limits went, the notices wait
    assert 2 in sites_behind(ctx)  # the reconcile finds them too
    pusher.down = False
    again = runner.push_site(2, attempt=2)
    assert again.outcome is Outcome.UP_TO_DATE
    assert sorted(d["kind"] for d in pusher.notices) == ["change_applied", "payment_received"]
    assert all(n.sent_at is not None for n in notices.latest_notices(ctx))
    assert 2 not in sites_behind(ctx)
    runner.push_site(2, attempt=1)
    assert len(pusher.notices) == 2  # sent notices are never pushed again


def test_notices_whose_chain_died_wait_for_the_operators_repush(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    create_site(ctx)
    _commit(ctx, "premium")
    runner = PushRunner(ctx, FlakyPusher(), RetryPolicy(max_attempts=1), rand=lambda: 0.5)
    assert runner.push_site(2).outcome is Outcome.DEAD
    assert 2 not in sites_behind(ctx)
    assert 2 in sites_behind(ctx, include_dead=True)


def test_a_notices_setting_that_is_not_a_switch_names_the_file_and_field(tmp_path: Any) -> None:
    import pytest

    from bridge.config import load_settings
    from bridge.errors import ConfigError
    from tests.services.conftest import ROOT

    text = (ROOT / "config.yaml").read_text().replace("  past_due: true", "  past_due: maybe")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings({}, path, require_secrets=False)
    assert str(path) in str(error.value) and "notices.past_due" in str(error.value)


def test_renewal_coming_is_noticed_once_7_days_before_with_the_amount_and_tax(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    from bridge.domain.tax import Tax

    ctx = make_ctx(tax=Tax("MVA", "25", "exclusive"))
    create_site(ctx)
    _commit(ctx, "premium")  # 2026-04-01, monthly: renews 2026-05-01
    clock.set(datetime(2026, 4, 23, 23, tzinfo=UTC))
    renewals.roll_over(ctx)
    assert "renewal_coming" not in _kinds(ctx)
    clock.set(datetime(2026, 4, 24, 0, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    renewals.roll_over(ctx)
    [coming] = [n for n in notices.latest_notices(ctx) if n.kind == "renewal_coming"]
    data = coming.document["data"]
    assert data["renews_at"] == "2026-05-01T00:00:00Z"
    assert (data["amount"], data["plan_name"]) == ("36.25", "Premium")  # 29.00 + 25 % MVA
    assert coming.id.endswith("p2026-05-01T00:00:00Z")


def test_a_short_period_hears_of_its_renewal_half_a_period_before() -> None:
    from bridge.domain.membership import Membership
    from bridge.domain.notices import renewal_notice_at, trial_notice_at

    start = datetime(2026, 4, 1, tzinfo=UTC)
    weekly = Membership(
        plan="premium",
        billing=None,  # type: ignore[arg-type]  (not read here)
        plan_price_minor=900,
        status="active",
        anchor=start,
        period_start=start,
        period_end=datetime(2026, 4, 8, tzinfo=UTC),
    )
    assert renewal_notice_at(weekly) == datetime(2026, 4, 4, 12, tzinfo=UTC)
    monthly = replace(weekly, period_end=datetime(2026, 5, 1, tzinfo=UTC))
    assert renewal_notice_at(monthly) == datetime(2026, 4, 24, tzinfo=UTC)
    trial = replace(monthly, status="trialing", trial_end=datetime(2026, 4, 15, tzinfo=UTC))
    assert trial_notice_at(trial) == datetime(2026, 4, 12, tzinfo=UTC)
    assert trial_notice_at(monthly) is None


def test_an_operators_credit_is_no_payment_and_sends_no_balance_notice(
    make_ctx: Callable[..., Context],
) -> None:
    from tests.services.conftest import adjust_balance

    ctx = make_ctx()
    create_site(ctx)
    adjust_balance(ctx, 2, "5.00", "goodwill", OPERATOR)
    assert _kinds(ctx) == []


def test_the_operators_switch_wins_over_config_yaml(make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx(notices=NoticesSettings(frozenset({"change_applied"})))
    create_site(ctx)
    on = {"change_applied", "past_due"}
    assert notices.set_switches(ctx, on, OPERATOR, "test")["payment_received"] is False
    _commit(ctx, "premium")
    assert _kinds(ctx) == ["change_applied"]
    assert notices.switches(ctx)["change_applied"] is True


def test_the_operators_repush_of_dead_pushes_takes_the_sites_with_dead_notices(
    make_ctx: Callable[..., Context], queue: Any
) -> None:
    from bridge.services import backoffice

    ctx = make_ctx()
    create_site(ctx)
    _commit(ctx, "premium")
    PushRunner(ctx, FlakyPusher(), RetryPolicy(max_attempts=1), rand=lambda: 0.5).push_site(2)
    assert backoffice.repush(ctx, None, OPERATOR, "mail is back") == 1
