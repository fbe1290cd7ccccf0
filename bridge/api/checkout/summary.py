"""The order summary of a quote, in the reader's words (quote-cli.md "Output").

The domain writes its messages in English; the pages compose their own sentences from the
quote's fields so that every word goes through the reader's catalog and every amount and date
through Babel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.api.checkout import limits_table
from bridge.api.checkout.facade import Billing
from bridge.api.checkout.i18n import Habits
from bridge.api.checkout.limits_table import LimitRow


@dataclass(frozen=True)
class SummaryLine:
    label: str
    detail: str
    amount: str
    credit: bool


@dataclass(frozen=True)
class Clearing:
    """An offered package that would clear a blocking reason, at the smallest quantity."""

    addon_id: str
    quantity: int  # the quantity to hold (what is held now plus what to add)
    sentence: str
    button: str


@dataclass(frozen=True)
class OrderSummary:
    kind: str
    lines: tuple[SummaryLine, ...]
    credit: str | None
    balance_applied: str | None
    due_now: str
    due_now_positive: bool
    next_billing_date: str | None
    next_billing_amount: str | None
    scheduled: str | None
    blocked: tuple[str, ...]
    warnings: tuple[str, ...]
    committable: bool
    quote_id: str | None
    balance_after: str | None = None  # what stays on the credit balance after this change
    ends_today: str | None = None  # "Premium ends today; Free starts now."
    limits: tuple[LimitRow, ...] = ()
    limits_when: str | None = None  # when the new limits apply
    clearings: tuple[Clearing, ...] = ()
    timing: str | None = None
    # billing-rules.md §12: an inclusive tax is shown as the part of the total that is tax
    # (the exclusive one is a line of its own); None without a tax.
    tax_included_label: str | None = None
    tax_included: str | None = None

    @property
    def no_change(self) -> bool:
        return self.kind == "no_change"


def billing_phrase(h: Habits, billing: Billing | None) -> str:
    """ "billed monthly", "billed every 3 months", "one-time payment"."""
    if not isinstance(billing, Mapping):
        return h.gettext("one-time payment")
    every = int(billing.get("every", 1))
    unit = str(billing.get("unit", "month"))
    if every == 1:
        single = {
            "day": h.gettext("billed daily"),
            "week": h.gettext("billed weekly"),
            "month": h.gettext("billed monthly"),
            "year": h.gettext("billed yearly"),
        }
        return single.get(unit, unit)
    many = {
        "day": h.ngettext("billed every %(num)d day", "billed every %(num)d days", every),
        "week": h.ngettext("billed every %(num)d week", "billed every %(num)d weeks", every),
        "month": h.ngettext("billed every %(num)d month", "billed every %(num)d months", every),
        "year": h.ngettext("billed every %(num)d year", "billed every %(num)d years", every),
    }
    return many.get(unit, unit) % {"num": every}


def _positive(amount: str) -> bool:
    return Decimal(amount) > 0


def block_sentence(
    h: Habits, block: Mapping[str, Any], plan_name: str, blocking: bool = True
) -> str:
    """What is over the new limit and what to do about it, for one blocking reason; for a
    warning (`blocking` false: the change goes through) only what is over the limit."""
    limit = str(block.get("limit", ""))
    usage = int(block.get("usage", 0))
    allowed = int(block.get("allowed", 0))
    extra = usage - allowed
    site = str(block.get("site_name") or "")
    values = {
        "site": site,
        "plan": plan_name,
        "usage": h.number(usage),
        "allowed": h.number(allowed),
        "extra": h.number(extra),
    }
    if limit == "posts.post":
        has = h.ngettext(
            "%(site)s has %(usage)s published post;",
            "%(site)s has %(usage)s published posts;",
            usage,
        )
        todo = h.ngettext(
            "Move %(extra)s post to the trash to downgrade.",
            "Move %(extra)s posts to the trash to downgrade.",
            extra,
        )
    elif limit == "posts.page":
        has = h.ngettext(
            "%(site)s has %(usage)s published page;",
            "%(site)s has %(usage)s published pages;",
            usage,
        )
        todo = h.ngettext(
            "Move %(extra)s page to the trash to downgrade.",
            "Move %(extra)s pages to the trash to downgrade.",
            extra,
        )
    elif limit.startswith("posts."):
        values["type"] = limit.split(".", 1)[1]
        has = h.ngettext(
            "%(site)s has %(usage)s published item of type %(type)s;",
            "%(site)s has %(usage)s published items of type %(type)s;",
            usage,
        )
        todo = h.ngettext(
            "Move %(extra)s of them to the trash to downgrade.",
            "Move %(extra)s of them to the trash to downgrade.",
            extra,
        )
    elif limit == "disk_mb":
        has = h.gettext("%(site)s uses %(usage)s MB of disk space;")
        todo = h.gettext("Delete %(extra)s MB of files to downgrade.")
        allows_mb = h.gettext("%(plan)s allows %(allowed)s MB.")
        if not blocking:
            return " ".join((has % values, allows_mb % values))
        return " ".join((has % values, allows_mb % values, todo % values))
    elif limit == "users":
        has = h.ngettext("%(site)s has %(usage)s user;", "%(site)s has %(usage)s users;", usage)
        todo = h.ngettext(
            "Remove %(extra)s user from the site to downgrade.",
            "Remove %(extra)s users from the site to downgrade.",
            extra,
        )
    elif limit == "custom_domains":
        has = h.ngettext(
            "%(site)s has %(usage)s custom domain;",
            "%(site)s has %(usage)s custom domains;",
            usage,
        )
        todo = h.ngettext(
            "Remove %(extra)s custom domain to downgrade.",
            "Remove %(extra)s custom domains to downgrade.",
            extra,
        )
    elif limit == "sites":
        has = h.ngettext(
            "Your membership has %(usage)s site;", "Your membership has %(usage)s sites;", usage
        )
        todo = h.ngettext(
            "Delete or move %(extra)s site to downgrade.",
            "Delete or move %(extra)s sites to downgrade.",
            extra,
        )
    else:
        return str(block.get("message") or "")
    allows = h.gettext("%(plan)s allows %(allowed)s.")
    if not blocking:
        return " ".join((has % values, allows % values))
    return " ".join((has % values, allows % values, todo % values))


def _line(
    h: Habits,
    line: Mapping[str, Any],
    currency: str,
    names: Mapping[str, str],
    current_plan: str,
    tax: Mapping[str, Any] | None,
) -> SummaryLine:
    kind = line.get("type")
    product = str(line.get("product") or "")
    name = names.get(product, product)
    quantity = int((line.get("inputs") or {}).get("quantity", 1) or 1)
    amount = h.money(str(line["amount"]), currency)
    detail = ""
    if line.get("period_start") and line.get("period_end"):
        detail = h.gettext("%(start)s to %(end)s") % {
            "start": h.date(line["period_start"]),
            "end": h.date(line["period_end"]),
        }
    if kind == "plan":
        label = name
    elif kind in ("addon", "service"):
        label = name if quantity == 1 else f"{name} × {h.number(quantity)}"
    elif kind == "setup_fee":
        label = h.gettext("Setup fee for %(plan)s") % {"plan": name}
    elif kind == "credit":
        label = h.gettext("Credit for unused time on %(plan)s") % {"plan": current_plan}
    elif kind == "tax" and tax is not None:
        label = h.tax_label(dict(tax))
    else:
        label = str(line.get("description") or name)
    return SummaryLine(label, detail, amount, kind == "credit")


def order_summary(
    h: Habits,
    quote: Mapping[str, Any],
    *,
    names: Mapping[str, str],
    current_plan: str,
    target_plan: str,
    today_limits: Mapping[str, Any] | None = None,
) -> OrderSummary:
    """The summary of one quote document for the reader `h`. A blocked change shows only what
    blocks it and what it would cost: nothing about when it would happen or the next billing."""
    currency = str(quote["currency"])
    kind = str(quote.get("kind"))
    credit = str(quote.get("credit", "0"))
    balance_applied = str(quote.get("balance_applied", "0"))
    next_date = next_amount = None
    tax = quote.get("tax") if isinstance(quote.get("tax"), Mapping) else None
    nb = quote.get("next_billing")
    if isinstance(nb, Mapping) and nb.get("date"):
        next_date = h.date(nb["date"])
        next_amount = h.money(str(nb["amount"]), currency)
        if tax is not None and nb.get("tax") is not None:
            next_amount += " " + h.gettext("(of which %(tax)s: %(amount)s)") % {
                "tax": h.tax_label(dict(tax)),
                "amount": h.money(str(nb["tax"]), currency),
            }
        covered = str(nb.get("covered_by_balance", "0"))
        if _positive(covered):
            next_amount += " " + h.gettext("(%(covered)s of it paid from your credit balance)") % {
                "covered": h.money(covered, currency)
            }
    scheduled = None
    sched = quote.get("scheduled")
    if isinstance(sched, Mapping) and sched.get("effective_at"):
        plan_id = str(sched.get("plan") or "")
        values = {"plan": names.get(plan_id, plan_id), "date": h.date(sched["effective_at"])}
        if kind == "addon":
            scheduled = h.gettext("Your add-ons change on %(date)s.") % values
        else:
            scheduled = h.gettext("Your plan changes to %(plan)s on %(date)s.") % values
    blocked = tuple(block_sentence(h, b, target_plan) for b in quote.get("blocked") or [])
    warnings = tuple(
        block_sentence(h, b, target_plan, blocking=False) for b in quote.get("warnings") or []
    )
    timing = quote.get("timing")
    balance_after = str(quote.get("balance_after", "0") or "0")
    ends_today = None
    if timing == "immediate" and kind in ("upgrade", "downgrade", "crossgrade"):
        ends_today = h.gettext("%(current)s ends today and %(target)s starts today.") % {
            "current": current_plan,
            "target": target_plan,
        }
    limits_rows: tuple[LimitRow, ...] = ()
    limits_when = None
    if kind != "no_change":
        chosen = quote.get("limits")
        if isinstance(sched, Mapping) and isinstance(sched.get("limits"), Mapping):
            chosen = sched["limits"]
            limits_when = h.gettext("Your limits from %(date)s") % {
                "date": h.date(sched.get("effective_at"))
            }
        else:
            limits_when = h.gettext("Your limits from today")
        if isinstance(chosen, Mapping):
            limits_rows = limits_table.rows(h, chosen, today_limits)
    if blocked:
        scheduled = next_date = next_amount = None
        ends_today = None
    included = _included(h, tax, currency)
    return OrderSummary(
        kind=kind,
        lines=tuple(
            _line(h, line, currency, names, current_plan, tax) for line in quote.get("lines") or []
        ),
        credit=h.money(credit, currency) if _positive(credit) else None,
        balance_applied=(
            h.money(-Decimal(balance_applied), currency) if _positive(balance_applied) else None
        ),
        due_now=h.money(str(quote.get("due_now", "0")), currency),
        due_now_positive=_positive(str(quote.get("due_now", "0"))),
        next_billing_date=next_date,
        next_billing_amount=next_amount,
        scheduled=scheduled,
        blocked=blocked,
        warnings=warnings,
        committable=kind != "no_change" and not blocked,
        quote_id=str(quote["id"]) if quote.get("id") else None,
        balance_after=h.money(balance_after, currency) if _positive(balance_after) else None,
        ends_today=ends_today,
        limits=limits_rows,
        limits_when=limits_when,
        timing=str(timing) if timing else None,
        tax_included_label=included[0] if included else None,
        tax_included=included[1] if included else None,
    )


def _included(h: Habits, tax: Mapping[str, Any] | None, currency: str) -> tuple[str, str] | None:
    """With an inclusive tax, the part of what is paid now that is tax (§12)."""
    if tax is None or tax.get("mode") != "inclusive":
        return None
    label = h.gettext("Including %(tax)s") % {"tax": h.tax_label(dict(tax))}
    return label, h.money(str(tax.get("amount", "0")), currency)
