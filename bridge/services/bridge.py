"""The bridge's use cases behind one facade; the API, the checkout pages and the jobs call it.

Every method takes and returns plain JSON-able values. Each use case runs in one database
transaction: an invoice and the membership change it pays for are written together, so a retry
can never charge twice. Memberships carry an optimistic lock (`version`): a commit that read an
older version fails instead of overwriting, which is how concurrent commits of quotes for one
membership end with exactly one change.

Pushes are queued only after the transaction commits (the worker must see the new document);
if the process dies in between, `sites_behind()` finds the site again (reconcile).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bridge.adapters.storage.models import (
    AuditEntry,
    CheckoutTokenUse,
    Counter,
    Customer,
    DefaultLimitsRow,
    InvoiceLineRow,
    InvoiceRow,
    LedgerEntry,
    LimitsDocumentRow,
    MembershipRow,
    QuoteRow,
    SiteRow,
    WebhookReceipt,
)
from bridge.config import Settings
from bridge.domain.catalog import parse_billing, parse_limits
from bridge.domain.documents import instant, quote_document
from bridge.domain.eligibility import eligible_addons, eligible_plans, explain
from bridge.domain.errors import NotEligible
from bridge.domain.lifecycle import (
    cancel_at_period_end,
    cancel_now,
    fall_back,
    renew,
    renewal_paid,
    start_membership,
)
from bridge.domain.membership import Holding, Membership, Selection
from bridge.domain.money import MoneyError, format_amount, parse_amount
from bridge.domain.periods import BillingOption, period_containing
from bridge.domain.proration import apply_quote, limits_of, quote_change, recurring_total
from bridge.domain.quote import QuoteLine, Totals
from bridge.errors import (
    BridgeError,
    Conflict,
    InvalidRequest,
    NotFound,
    PendingChange,
    StaleQuote,
    Unprocessable,
)
from bridge.services.ports import Clock, LimitsQueue
from bridge.services.records import (
    limits_json,
    membership_from_row,
    membership_from_snapshot,
    membership_snapshot,
    parse_instant,
    selection_from_json,
    selection_json,
    site_domain,
    usage_from_json,
    usage_json,
    write_membership,
)
from bridge.services.views import (
    invoice_view,
    ledger_view,
    limits_state_view,
    membership_snapshot_for_push,
    membership_view,
    product_ref,
    site_limits,
    site_view,
)

log = logging.getLogger(__name__)

Actor = Any  # "operator", "network", or the checkout's {"kind": "owner", "site_id", "user_id"}
_MAX_ROLLS = 500  # periods rolled for one membership in one pass (a safety net, not a rule)


def actor_label(actor: Actor) -> str:
    """A short, stable text for the audit log and the ledger."""
    if isinstance(actor, str):
        return actor
    if isinstance(actor, Mapping):
        kind = actor.get("kind", "owner")
        if kind == "operator":
            return "operator"
        return f"{kind}:user:{actor.get('user_id')}@site:{actor.get('site_id')}"
    label = getattr(actor, "label", None)
    return str(label if label is not None else actor)


@dataclass
class _Work:
    """What a transaction leaves for after its commit: pushes to queue."""

    pushes: list[tuple[int, int]] = field(default_factory=list)
    default_limits: bool = False


def _money_part(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a quote document that must match to the minor unit when committing."""
    keys = ("kind", "timing", "currency", "at", "lines", "credit", "balance_applied", "due_now")
    return {k: doc.get(k) for k in (*keys, "balance_after", "next_billing", "scheduled")}


class Bridge:
    """The use cases of billing-rules.md §7, §9, §10 and issue 3 (events, limits, operator calls)."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        clock: Clock,
        queue: LimitsQueue,
    ) -> None:
        self.settings = settings
        self.catalog = settings.catalog
        self.policy = settings.policy
        self._sessions = session_factory
        self.clock = clock
        self.queue = queue
        self._event_handlers: dict[str, Callable[[Session, Mapping[str, Any], _Work], str]] = {
            "site.created": self._on_site_created,
            "site.deleted": self._on_site_deleted,
            "usage.reported": self._on_usage_reported,
            "limits.applied": self._on_limits_applied,
            "invoice.paid": self._on_invoice_paid,
        }

    # ------------------------------------------------------------------ plumbing

    def _now(self) -> datetime:
        return self.clock.now().replace(microsecond=0)

    @contextmanager
    def _transaction(
        self, stale: Callable[[], Exception] | None = None
    ) -> Iterator[tuple[Session, _Work]]:
        """One transaction; pushes are queued after it commits. StaleDataError becomes a 409."""
        work = _Work()
        try:
            with self._sessions.begin() as session:
                yield session, work
        except StaleDataError as exc:
            if stale is not None:
                raise stale() from exc
            raise Conflict(
                "The membership changed at the same time; please try again.", "conflict"
            ) from exc
        self._after_commit(work)

    def _after_commit(self, work: _Work) -> None:
        for site_id, version in work.pushes:
            try:
                self.queue.enqueue_push(site_id, version)
            except Exception:  # the reconcile pass finds the site again
                log.exception("could not queue a push", extra={"site_id": site_id})
        if work.default_limits:
            try:
                self.queue.enqueue_default_limits()
            except Exception:
                log.exception("could not queue the default limits push")

    def _site_row(self, s: Session, site_id: int) -> SiteRow:
        row = s.get(SiteRow, site_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"There is no site {site_id}.", "site_not_found")
        return row

    def _live_sites(self, s: Session, membership_id: int) -> list[SiteRow]:
        return list(
            s.scalars(
                select(SiteRow)
                .where(SiteRow.membership_id == membership_id, SiteRow.deleted_at.is_(None))
                .order_by(SiteRow.id)
            )
        )

    def _membership_of(
        self, s: Session, site: SiteRow, lock: bool = False
    ) -> tuple[MembershipRow, Membership]:
        if site.membership_id is None:
            raise Unprocessable(f"Site {site.id} has no membership yet.", "no_membership")
        stmt = select(MembershipRow).where(MembershipRow.id == site.membership_id)
        if lock:
            stmt = stmt.with_for_update()
        row = s.scalars(stmt).one()
        return row, membership_from_row(row, self._live_sites(s, row.id))

    def _membership_by_id(
        self, s: Session, membership_id: int, lock: bool = False
    ) -> tuple[MembershipRow, Membership]:
        stmt = select(MembershipRow).where(MembershipRow.id == membership_id)
        if lock:
            stmt = stmt.with_for_update()
        row = s.scalars(stmt).one()
        return row, membership_from_row(row, self._live_sites(s, row.id))

    def _save(
        self, s: Session, row: MembershipRow, before: Membership, after: Membership, work: _Work
    ) -> None:
        """Write the membership (optimistic lock) and bump every site's limits document."""
        write_membership(row, after, self._now())
        s.flush()  # the UPDATE ... WHERE version = old runs now, before anything else
        saved = membership_from_row(row, self._live_sites(s, row.id))
        self._bump_membership_sites(s, row.id, saved, work)

    def _bump_membership_sites(
        self, s: Session, membership_id: int, m: Membership, work: _Work
    ) -> None:
        for site in self._live_sites(s, membership_id):
            self._bump_site(s, site, m, work)

    def _bump_site(self, s: Session, site: SiteRow, m: Membership | None, work: _Work) -> None:
        """A new limits document version for one site (docs/wordpress-contract.md)."""
        now = self._now()
        doc_row = s.scalars(
            select(LimitsDocumentRow).where(LimitsDocumentRow.site_id == site.id).with_for_update()
        ).one_or_none()
        if doc_row is None:
            doc_row = LimitsDocumentRow(
                site_id=site.id, desired_version=0, applied_version=0, attempts=0, dead=False
            )
            s.add(doc_row)
        version = doc_row.desired_version + 1
        limits = site_limits(self.catalog, m, site_domain(site), self.settings.default_plan)
        doc_row.desired_version = version
        doc_row.document = {
            "site_id": site.id,
            "version": version,
            "issued_at": instant(now),
            "limits": limits.to_json(),
            "membership": membership_snapshot_for_push(self.catalog, m) if m is not None else None,
        }
        doc_row.attempts = 0
        doc_row.last_error = None
        doc_row.dead = False
        doc_row.next_attempt_at = None
        doc_row.updated_at = now
        work.pushes.append((site.id, version))

    def _audit(
        self, s: Session, actor: Actor, action: str, target: str, details: Mapping[str, Any]
    ) -> None:
        s.add(
            AuditEntry(
                actor=actor_label(actor),
                action=action,
                target=target,
                details=dict(details),
                at=self._now(),
            )
        )

    def _ledger(
        self,
        s: Session,
        row: MembershipRow,
        kind: str,
        amount_minor: int,
        reason: str,
        actor: Actor,
        invoice_id: str | None = None,
    ) -> LedgerEntry | None:
        if amount_minor == 0:
            return None
        entry = LedgerEntry(
            membership_id=row.id,
            kind=kind,
            amount_minor=amount_minor,
            currency=row.currency,
            balance_after_minor=row.balance_minor,
            invoice_id=invoice_id,
            reason=reason,
            actor=actor_label(actor),
            at=self._now(),
        )
        s.add(entry)
        return entry

    def _next_invoice_number(self, s: Session) -> int:
        """Gapless numbers: the counter row is locked until the invoice's transaction ends."""
        value = s.execute(
            update(Counter)
            .where(Counter.name == "invoice_number")
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        ).scalar_one()
        return int(value)

    def _new_invoice(
        self,
        s: Session,
        row: MembershipRow,
        *,
        kind: str,
        lines: tuple[QuoteLine, ...],
        totals: Totals,
        site_id: int | None,
        quote_id: str | None = None,
        renewal_key: str | None = None,
    ) -> InvoiceRow:
        now = self._now()
        invoice = InvoiceRow(
            id=str(uuid.uuid4()),
            number=self._next_invoice_number(s),
            membership_id=row.id,
            site_id=site_id,
            kind=kind,
            status="open",
            currency=row.currency,
            total_minor=sum(line.amount_minor for line in lines),
            credit_minor=totals.credit_minor,
            balance_applied_minor=totals.balance_applied_minor,
            amount_due_minor=totals.due_now_minor,
            balance_after_minor=totals.balance_after_minor,
            quote_id=quote_id,
            renewal_key=renewal_key,
            created_at=now,
        )
        for position, line in enumerate(lines):
            invoice.lines.append(
                InvoiceLineRow(
                    position=position,
                    type=line.type,
                    product=line.product,
                    description=line.description,
                    amount_minor=line.amount_minor,
                    period_start=line.period_start,
                    period_end=line.period_end,
                    inputs=dict(line.inputs),
                )
            )
        s.add(invoice)
        return invoice

    def _open_invoices(
        self, s: Session, membership_id: int, kind: str | None = None
    ) -> list[InvoiceRow]:
        stmt = select(InvoiceRow).where(
            InvoiceRow.membership_id == membership_id, InvoiceRow.status == "open"
        )
        if kind is not None:
            stmt = stmt.where(InvoiceRow.kind == kind)
        return list(s.scalars(stmt.order_by(InvoiceRow.number)))

    def _close_open_invoices(
        self, s: Session, membership_id: int, status: str, reason: str, kind: str | None = None
    ) -> int:
        closed = 0
        for invoice in self._open_invoices(s, membership_id, kind):
            invoice.status = status
            invoice.closed_reason = reason
            closed += 1
        return closed

    # ------------------------------------------------------------------ queries

    def site_view(self, site_id: int) -> dict[str, Any]:
        """A site, its membership, its limits (desired and applied version), an unpaid change."""
        with self._sessions.begin() as s:
            site = self._site_row(s, site_id)
            membership = None
            m = None
            pending = None
            if site.membership_id is not None:
                _row, m = self._membership_of(s, site)
                membership = membership_view(self.catalog, site.membership_id, m)
                open_changes = self._open_invoices(s, site.membership_id)
                pending = invoice_view(open_changes[0]) if open_changes else None
            doc_row = s.get(LimitsDocumentRow, site_id)
            limits = limits_state_view(doc_row)
            if limits["limits"] is None:
                limits["limits"] = site_limits(
                    self.catalog, m, site_domain(site), self.settings.default_plan
                ).to_json()
            return {
                "site": site_view(site),
                "membership": membership,
                "limits": limits,
                "pending_invoice": pending,
            }

    def options(
        self, site_id: int, product: str | None = None, plan: str | None = None
    ) -> dict[str, Any]:
        """Eligible plans (with billing options, change kind and timing) and add-ons; ?product explains."""
        with self._sessions.begin() as s:
            site = self._site_row(s, site_id)
            _row, m = self._membership_of(s, site)
        now = self._now()
        c = self.catalog.currency
        plans = []
        for offer in eligible_plans(self.catalog, m):
            options = []
            for variation in offer.options:
                change, timing, due = self._preview(m, offer.product.id, variation.billing, now)
                options.append(
                    {
                        "billing": variation.billing.to_json(),
                        "price": format_amount(variation.price_minor, c),
                        "current": offer.current and variation.billing == m.billing,
                        "kind": change,
                        "timing": timing,
                        "due_now": due,
                    }
                )
            preferred = next(
                (o for o in options if o["billing"] == m.billing.to_json()), options[0]
            )
            plans.append(
                {
                    "id": offer.product.id,
                    "name": offer.product.name,
                    "product_kind": "plan",
                    "current": offer.current,
                    "group": offer.product.group,
                    "order": offer.product.order,
                    "kind": preferred["kind"],
                    "timing": preferred["timing"],
                    "price": preferred["price"],
                    "billing": preferred["billing"],
                    "setup_fee": format_amount(offer.product.setup_fee_minor, c),
                    "trial_days": offer.product.trial_days,
                    "options": options,
                    "limits": limits_of(self.catalog, offer.product.id, {}, None).to_json(),
                }
            )
        selected_plan = plan or m.plan
        if self.catalog.get(selected_plan) is None:
            raise NotEligible(f"'{selected_plan}' does not exist.", "unknown_product")
        addons = []
        for addon in eligible_addons(self.catalog, m, selected_plan):
            p = addon.product
            addons.append(
                {
                    "id": p.id,
                    "name": p.name,
                    "kind": p.kind,
                    "timing": "immediate",
                    "price": format_amount(addon.price_minor, c),
                    "billing": p.billing.to_json(),
                    "owned_quantity": addon.owned_quantity,
                    "limits": limits_json(p.limits) or {},
                }
            )
        doc: dict[str, Any] = {
            "site_id": site_id,
            "currency": c,
            "current_plan": product_ref(self.catalog, m.plan),
            "selected_plan": selected_plan,
            "plans": plans,
            "addons": addons,
        }
        if product is not None:
            e = explain(self.catalog, m, product, plan)
            doc["explanation"] = {
                "product": e.product,
                "offered": e.offered,
                "code": e.code,
                "message": e.message,
            }
        return doc

    def _preview(
        self, m: Membership, plan_id: str, billing: BillingOption, at: datetime
    ) -> tuple[str | None, str | None, str | None]:
        try:
            q = quote_change(self.catalog, self.policy, m, Selection(plan_id, billing, None), at)
        except NotEligible:
            return None, None, None
        return q.kind, q.timing, format_amount(q.totals.due_now_minor, q.currency)

    # ------------------------------------------------------------------ quotes

    def create_quote(
        self, site_id: int, selection: Mapping[str, Any], actor: Actor
    ) -> dict[str, Any]:
        """A quote bound to the membership's version, valid for quote_ttl_s (§9)."""
        parsed = parse_selection(selection, self.catalog.currency)
        now = self._now()
        with self._transaction() as (s, _work):
            site = self._site_row(s, site_id)
            row, m = self._membership_of(s, site)
            quote = quote_change(self.catalog, self.policy, m, parsed, now)
            doc = quote_document(quote)
            quote_row = QuoteRow(
                id=str(uuid.uuid4()),
                site_id=site_id,
                membership_id=row.id,
                version=m.version,
                at=quote.at,
                expires_at=quote.at + timedelta(seconds=self.settings.quote_ttl_s),
                selection=selection_json(parsed),
                document=doc,
                actor=actor_label(actor),
                committed=False,
            )
            s.add(quote_row)
        return {
            **doc,
            "id": quote_row.id,
            "site_id": site_id,
            "version": m.version,
            "expires_at": instant(quote_row.expires_at),
            "committable": quote.committable,
        }

    def commit_quote(
        self, quote_id: str, actor: Actor, site_id: int | None = None
    ) -> dict[str, Any]:
        """Charge exactly the quote, then apply it (at once, or when the invoice is paid) (§9, §10)."""
        now = self._now()

        def stale() -> StaleQuote:
            return StaleQuote(
                "Your membership changed since this quote; please look at the new price.",
                "stale_quote",
            )

        with self._transaction(stale) as (s, work):
            q = s.get(QuoteRow, quote_id)
            if q is None or (site_id is not None and q.site_id != site_id):
                raise NotFound("There is no such quote.", "quote_not_found")
            if q.committed:
                raise StaleQuote("This quote was already used.", "stale_quote")
            if q.expires_at <= now:
                raise StaleQuote(
                    "This quote has expired; please ask for a new one.", "quote_expired"
                )
            row, m = self._membership_by_id(s, q.membership_id, lock=True)
            if row.version != q.version:
                raise stale()
            for invoice in self._open_invoices(s, row.id, "change"):
                if invoice.expires_at is not None and invoice.expires_at <= now:
                    invoice.status = "expired"
                    invoice.closed_reason = "not paid in time"
                else:
                    raise PendingChange(
                        f"Invoice {invoice.number} for an earlier change is still unpaid.",
                        "pending_change",
                    )
            quote = quote_change(
                self.catalog, self.policy, m, selection_from_json(q.selection), q.at
            )
            if quote.kind == "no_change":
                raise Unprocessable(quote.message or "Nothing would change.", "no_change")
            if quote.blocked:
                raise Unprocessable(quote.message or "This change is blocked.", "blocked")
            if _money_part(quote_document(quote)) != _money_part(q.document):
                raise stale()
            q.committed = True
            q.committed_at = now
            pay_now = quote.totals.due_now_minor == 0 or self.settings.gateway == "test"
            if pay_now:
                after = apply_quote(m, quote)
                self._save(s, row, m, after, work)
            else:
                # Nothing applies yet, but the version moves: other open quotes become stale
                # and a concurrent commit fails on the optimistic lock.
                write_membership(row, replace(m, version=m.version + 1), now)
                s.flush()
            invoice = self._new_invoice(
                s,
                row,
                kind="change",
                lines=quote.lines,
                totals=quote.totals,
                site_id=q.site_id,
                quote_id=q.id,
            )
            if pay_now:
                self._mark_paid(invoice, "test" if quote.totals.due_now_minor else None)
                self._ledger(
                    s,
                    row,
                    "change",
                    row.balance_minor - m.balance_minor,
                    f"Invoice {invoice.number}: {quote.kind}",
                    actor,
                    invoice.id,
                )
                status = "scheduled" if quote.timing == "end_of_term" else "applied"
            else:
                invoice.expires_at = now + timedelta(seconds=self.settings.change_invoice_ttl_s)
                invoice.apply = {
                    "membership": membership_snapshot(m),
                    "selection": q.selection,
                    "at": instant(q.at),
                }
                status = "pending_payment"
            self._audit(
                s,
                actor,
                "quote.commit",
                f"membership:{row.id}",
                {"quote_id": q.id, "invoice": invoice.number, "status": status},
            )
            s.flush()
            result = {"invoice": invoice_view(invoice), "status": status, "site_id": q.site_id}
        return result

    def _mark_paid(self, invoice: InvoiceRow, reference: str | None) -> None:
        invoice.status = "paid"
        invoice.paid_at = self._now()
        invoice.reference = reference

    # ------------------------------------------------------------------ payments

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        with self._sessions.begin() as s:
            row = s.get(InvoiceRow, invoice_id)
            if row is None:
                raise NotFound("There is no such invoice.", "invoice_not_found")
            return invoice_view(row)

    def pay_invoice(
        self,
        invoice_id: str,
        reference: str | None,
        actor: Actor,
        amount: str | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        """Mark an invoice paid and apply what it pays for; paying twice changes nothing (§10)."""
        with self._transaction() as (s, work):
            invoice = s.scalars(
                select(InvoiceRow).where(InvoiceRow.id == str(invoice_id)).with_for_update()
            ).one_or_none()
            if invoice is None:
                raise NotFound("There is no such invoice.", "invoice_not_found")
            if currency is not None and currency != invoice.currency:
                raise Unprocessable(
                    f"The invoice is in {invoice.currency}, not {currency}.", "currency_mismatch"
                )
            if amount is not None:
                try:
                    paid = parse_amount(str(amount), invoice.currency)
                except MoneyError as exc:
                    raise InvalidRequest(str(exc), "invalid_amount") from exc
                if paid != invoice.amount_due_minor:
                    raise Unprocessable(
                        f"Invoice {invoice.number} is for "
                        f"{format_amount(invoice.amount_due_minor, invoice.currency)} "
                        f"{invoice.currency}, not {amount}.",
                        "amount_mismatch",
                    )
            if invoice.status == "paid":
                return {"invoice": invoice_view(invoice), "status": "already_paid"}
            if invoice.status != "open":
                raise Conflict(
                    f"Invoice {invoice.number} is {invoice.status}; it can no longer be paid.",
                    f"invoice_{invoice.status}",
                )
            now = self._now()
            expired = invoice.expires_at is not None and invoice.expires_at <= now
            if not expired:
                row, m = self._membership_by_id(s, invoice.membership_id, lock=True)
                self._apply_paid(s, invoice, row, m, work)
                self._mark_paid(invoice, reference)
                self._audit(
                    s,
                    actor,
                    "invoice.pay",
                    f"invoice:{invoice.id}",
                    {"number": invoice.number, "reference": reference},
                )
                s.flush()
                return {"invoice": invoice_view(invoice), "status": "paid"}
        # Outside the transaction above (its changes were none): record the expiry, then refuse.
        with self._transaction() as (s, _work):
            row_inv = s.get(InvoiceRow, str(invoice_id))
            if row_inv is not None and row_inv.status == "open":
                row_inv.status = "expired"
                row_inv.closed_reason = "not paid in time"
        raise Conflict(f"Invoice {invoice.number} expired; nothing was changed.", "invoice_expired")

    def _apply_paid(
        self, s: Session, invoice: InvoiceRow, row: MembershipRow, m: Membership, work: _Work
    ) -> None:
        apply = invoice.apply or {}
        if invoice.kind == "change":
            quoted = membership_from_snapshot(apply["membership"])
            quote = quote_change(
                self.catalog,
                self.policy,
                quoted,
                selection_from_json(apply["selection"]),
                parse_instant(apply["at"]),
            )
            if [line.amount_minor for line in quote.lines] != [
                line.amount_minor for line in invoice.lines
            ]:
                raise Conflict(
                    "The catalog changed since this invoice was made; it cannot be applied.",
                    "catalog_changed",
                )
            after = apply_quote(m, quote)
            self._save(s, row, m, after, work)
            self._ledger(
                s,
                row,
                "change",
                row.balance_minor - m.balance_minor,
                f"Invoice {invoice.number}: {quote.kind}",
                "system",
                invoice.id,
            )
        elif (
            invoice.kind == "renewal"
            and m.status == "past_due"
            and apply.get("period_start") == instant(m.period_start)
        ):
            after = renewal_paid(m, int(apply.get("paid_value_minor", 0)))
            self._save(s, row, m, after, work)

    # ------------------------------------------------------------------ owner and operator changes

    def cancel_scheduled_change(self, site_id: int, actor: Actor) -> dict[str, Any]:
        """The owner may cancel a scheduled change until it takes effect (§7)."""
        with self._transaction() as (s, work):
            site = self._site_row(s, site_id)
            row, m = self._membership_of(s, site, lock=True)
            cancelled = m.scheduled_change is not None
            if cancelled:
                self._save(
                    s, row, m, replace(m, scheduled_change=None, version=m.version + 1), work
                )
                self._audit(s, actor, "scheduled_change.cancel", f"site:{site_id}", {})
        view = self.site_view(site_id)
        view["cancelled"] = cancelled
        return view

    def put_membership(self, site_id: int, doc: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        """Operator: put a site on a plan, or import an existing customer with their dates."""
        if not isinstance(doc, Mapping):
            raise InvalidRequest("The body must be an object.", "invalid_request")
        now = self._now()
        with self._transaction() as (s, work):
            site = s.get(SiteRow, site_id)
            if site is None or site.deleted_at is not None:
                site_doc = doc.get("site")
                if not isinstance(site_doc, Mapping):
                    raise NotFound(
                        f"There is no site {site_id}; send its url, name and owner as 'site'.",
                        "site_not_found",
                    )
                site = self._upsert_site(s, {**site_doc, "site_id": site_id})
            existing = None
            if site.membership_id is not None:
                existing = self._membership_of(s, site, lock=True)
            new = self._membership_from_doc(doc, now, existing[1] if existing else None)
            if existing is not None:
                row, before = existing
                self._close_open_invoices(s, row.id, "void", "membership replaced by the operator")
                balance_before = before.balance_minor
                self._save(s, row, before, replace(new, version=before.version + 1), work)
            else:
                row = MembershipRow(
                    customer_id=self._customer_id(s, site),
                    created_at=now,
                    version=0,
                )
                write_membership(row, new, now)
                s.add(row)
                s.flush()
                site.membership_id = row.id
                s.flush()
                balance_before = 0
                self._bump_membership_sites(
                    s, row.id, membership_from_row(row, self._live_sites(s, row.id)), work
                )
            self._ledger(
                s,
                row,
                "import",
                row.balance_minor - balance_before,
                "membership set by operator",
                actor,
            )
            self._audit(s, actor, "membership.put", f"site:{site_id}", {"doc": _jsonable(doc)})
        return self.site_view(site_id)

    def _membership_from_doc(
        self, doc: Mapping[str, Any], now: datetime, current: Membership | None
    ) -> Membership:
        plan_id = doc.get("plan")
        if not isinstance(plan_id, str):
            raise InvalidRequest("'plan' must be a plan id.", "invalid_request")
        plan = self.catalog.get(plan_id)
        if plan is None or plan.kind != "plan":
            raise NotEligible(f"'{plan_id}' is not a plan of the catalog.", "unknown_product")
        c = self.catalog.currency
        try:
            billing = (
                parse_billing(doc["billing"]) if doc.get("billing") is not None else plan.billing
            )
        except ValueError as exc:
            raise InvalidRequest(f"billing: {exc}", "invalid_request") from exc
        try:
            price = (
                parse_amount(str(doc["price"]), c)
                if doc.get("price") is not None
                else plan.price_for(billing)
            )
            if price is None:
                raise InvalidRequest(
                    f"{plan.name} is not billed every {billing.describe()}; give a 'price'.",
                    "invalid_request",
                )
            addons: dict[str, Holding] = {}
            raw_addons = doc.get("addons") or {}
            if not isinstance(raw_addons, Mapping):
                raise InvalidRequest(
                    "'addons' must be an object {id: quantity}.", "invalid_request"
                )
            for addon_id, spec in raw_addons.items():
                product = self.catalog.get(str(addon_id))
                if product is None or product.kind == "plan":
                    raise NotEligible(f"'{addon_id}' is not an add-on.", "unknown_product")
                if isinstance(spec, Mapping):
                    quantity = spec.get("quantity", 1)
                    addon_price = (
                        parse_amount(str(spec["price"]), c)
                        if spec.get("price") is not None
                        else product.price_minor
                    )
                else:
                    quantity, addon_price = spec, product.price_minor
                if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                    raise InvalidRequest(
                        f"addons.{addon_id}: quantity must be ≥ 0.", "invalid_request"
                    )
                if quantity > 0 and not product.billing.is_once:
                    addons[str(addon_id)] = Holding(quantity, addon_price)
            balance = (
                parse_amount(str(doc["balance"]), c)
                if doc.get("balance") is not None
                else (current.balance_minor if current else 0)
            )
        except MoneyError as exc:
            raise InvalidRequest(str(exc), "invalid_amount") from exc
        if balance < 0:
            raise InvalidRequest("'balance' must not be negative.", "invalid_amount")
        try:
            anchor = parse_instant(doc["anchor"]) if doc.get("anchor") else now
        except ValueError as exc:
            raise InvalidRequest(f"anchor: {exc}", "invalid_request") from exc
        status = doc.get("status", "active")
        if status not in ("active", "past_due", "trialing"):
            raise InvalidRequest(
                "'status' must be active, past_due or trialing.", "invalid_request"
            )
        base = start_membership(
            self.catalog, plan.id, billing if price is not None else None, anchor
        )
        if billing.is_once:
            start, end = anchor, None
        else:
            start, end = period_containing(anchor, billing, max(now, anchor))
        m = replace(
            base,
            plan_price_minor=price,
            addons=addons,
            status=status,
            anchor=anchor,
            period_start=start,
            period_end=end if status != "trialing" else base.period_end,
            trial_end=base.trial_end if status == "trialing" else None,
            balance_minor=balance,
            overrides=current.overrides if current else None,
            sites=current.sites if current else (),
        )
        paid = doc.get("paid", status == "active")
        value = recurring_total(self.catalog, m, price, billing, m.addon_quantities())
        return replace(
            m,
            paid_value_minor=(price if billing.is_once else value) if paid else 0,
            setup_fee_paid_minor=plan.setup_fee_minor if paid else 0,
        )

    def put_overrides(
        self, site_id: int, doc: Mapping[str, Any] | None, actor: Actor, scope: str = "membership"
    ) -> dict[str, Any]:
        """Operator limits overrides, replacing the merged value key by key (§2)."""
        if scope not in ("membership", "site"):
            raise InvalidRequest("'scope' must be membership or site.", "invalid_request")
        raw = doc.get("limits", doc) if isinstance(doc, Mapping) else doc
        if isinstance(raw, Mapping) and "scope" in raw and raw is doc:
            raw = {k: v for k, v in raw.items() if k != "scope"}
        try:
            limits = parse_limits(raw) if raw else None
        except ValueError as exc:
            raise InvalidRequest(f"limits: {exc}", "invalid_limits") from exc
        stored = limits_json(limits)
        with self._transaction() as (s, work):
            site = self._site_row(s, site_id)
            if scope == "site":
                site.overrides = stored
                m = self._membership_of(s, site)[1] if site.membership_id is not None else None
                self._bump_site(s, site, m, work)
            else:
                row, m = self._membership_of(s, site, lock=True)
                self._save(s, row, m, replace(m, overrides=limits, version=m.version + 1), work)
            self._audit(
                s, actor, "overrides.put", f"site:{site_id}", {"scope": scope, "limits": stored}
            )
        return self.site_view(site_id)

    def cancel_membership(self, site_id: int, mode: str, actor: Actor) -> dict[str, Any]:
        """At the end of term (nothing refunded) or now (the unused value to the balance) (§7)."""
        if mode not in ("end_of_term", "immediate"):
            raise InvalidRequest("'mode' must be end_of_term or immediate.", "invalid_request")
        fallback = self.settings.fallback_plan
        with self._transaction() as (s, work):
            site = self._site_row(s, site_id)
            row, m = self._membership_of(s, site, lock=True)
            if mode == "end_of_term":
                if m.period_end is None:
                    raise Unprocessable(
                        "This membership has no end of term; cancel it immediately instead.",
                        "no_end_of_term",
                    )
                after = cancel_at_period_end(self.catalog, m, fallback)
                self._save(s, row, m, after, work)
            else:
                after, credit = cancel_now(self.catalog, m, self._now(), fallback)
                self._close_open_invoices(s, row.id, "void", "membership cancelled")
                self._save(s, row, m, after, work)
                self._ledger(
                    s, row, "cancellation_credit", credit, "unused time at cancellation", actor
                )
            self._audit(s, actor, "membership.cancel", f"site:{site_id}", {"mode": mode})
        return self.site_view(site_id)

    def adjust_balance(
        self, site_id: int, amount: Any, reason: Any, actor: Actor
    ) -> dict[str, Any]:
        """Operator: add to (or take from) a customer's credit, with a reason (§7)."""
        return self._balance_entry(site_id, amount, reason, actor, "adjustment")

    def record_refund(self, site_id: int, amount: Any, reason: Any, actor: Actor) -> dict[str, Any]:
        """Operator: credit paid back to the customer outside the bridge; lowers the balance."""
        return self._balance_entry(site_id, amount, reason, actor, "refund")

    def _balance_entry(
        self, site_id: int, amount: Any, reason: Any, actor: Actor, kind: str
    ) -> dict[str, Any]:
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidRequest("Give a 'reason' for the ledger.", "invalid_request")
        with self._transaction() as (s, work):
            site = self._site_row(s, site_id)
            row, m = self._membership_of(s, site, lock=True)
            try:
                value = parse_amount(str(amount), row.currency) if amount is not None else None
            except MoneyError as exc:
                raise InvalidRequest(str(exc), "invalid_amount") from exc
            if value is None or value == 0 or (kind == "refund" and value < 0):
                raise InvalidRequest(
                    "'amount' must be a non-zero decimal string"
                    + (" greater than zero." if kind == "refund" else "."),
                    "invalid_amount",
                )
            delta = -value if kind == "refund" else value
            if m.balance_minor + delta < 0:
                raise Unprocessable(
                    f"The balance is {format_amount(m.balance_minor, row.currency)}; "
                    "it cannot go below zero.",
                    "insufficient_balance",
                )
            self._save(
                s,
                row,
                m,
                replace(m, balance_minor=m.balance_minor + delta, version=m.version + 1),
                work,
            )
            entry = self._ledger(s, row, kind, delta, reason.strip(), actor)
            self._audit(
                s,
                actor,
                f"balance.{kind}",
                f"membership:{row.id}",
                {"amount": str(amount), "reason": reason},
            )
            s.flush()
            assert entry is not None
            return {
                "entry": ledger_view(entry),
                "balance": format_amount(row.balance_minor, row.currency),
            }

    def ledger(self, site_id: int) -> dict[str, Any]:
        """Invoices and balance movements of the site's membership (support's view)."""
        with self._sessions.begin() as s:
            site = self._site_row(s, site_id)
            row, m = self._membership_of(s, site)
            invoices = s.scalars(
                select(InvoiceRow)
                .where(InvoiceRow.membership_id == row.id)
                .order_by(InvoiceRow.number)
            )
            entries = s.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.membership_id == row.id)
                .order_by(LedgerEntry.id)
            )
            return {
                "membership_id": row.id,
                "balance": format_amount(m.balance_minor, m.currency),
                "invoices": [invoice_view(i) for i in invoices],
                "entries": [ledger_view(e) for e in entries],
            }

    # ------------------------------------------------------------------ events

    def handle_event(self, event_id: str, type: str, data: Mapping[str, Any]) -> str:
        """Apply one network event once: "processed", "duplicate" or "ignored" (unknown type)."""
        handler = self._event_handlers.get(type)
        try:
            return self._handle_event(event_id, type, data, handler)
        except InvalidRequest:
            raise  # malformed: the sender learns it (400) and nothing is recorded
        except BridgeError as exc:
            # Well-formed but refused (unknown invoice, amount mismatch): recorded and logged, so
            # the sender does not retry it forever.
            log.warning(
                "event refused",
                extra={"event_type": type, "webhook_id": event_id, "code": exc.code},
            )
            outcome = f"refused:{exc.code}"
            try:
                with self._sessions.begin() as s:
                    s.add(
                        WebhookReceipt(
                            webhook_id=event_id, type=type, outcome=outcome, received_at=self._now()
                        )
                    )
            except IntegrityError:
                return "duplicate"
            return outcome

    def _handle_event(
        self,
        event_id: str,
        type: str,
        data: Mapping[str, Any],
        handler: Callable[[Session, Mapping[str, Any], _Work], str] | None,
    ) -> str:
        try:
            with self._transaction() as (s, work):
                if s.scalars(
                    select(WebhookReceipt.id).where(WebhookReceipt.webhook_id == event_id)
                ).first():
                    return "duplicate"
                if handler is None:
                    log.info("unknown event type accepted", extra={"event_type": type})
                    outcome = "ignored"
                else:
                    outcome = handler(s, data, work)
                s.add(
                    WebhookReceipt(
                        webhook_id=event_id, type=type, outcome=outcome, received_at=self._now()
                    )
                )
                s.flush()
        except IntegrityError:
            # The same event delivered twice at once: the other delivery recorded it.
            return "duplicate"
        return outcome

    def _upsert_site(self, s: Session, data: Mapping[str, Any]) -> SiteRow:
        site_id = _int_field(data, "site_id")
        owner = data.get("owner") or {}
        if not isinstance(owner, Mapping):
            raise InvalidRequest("'owner' must be an object.", "malformed_event")
        url, name = data.get("url"), data.get("name")
        if not isinstance(url, str) or not isinstance(name, str):
            raise InvalidRequest("'url' and 'name' must be strings.", "malformed_event")
        site = s.get(SiteRow, site_id)
        if site is None:
            site = SiteRow(id=site_id, created_at=self._now(), url=url, name=name)
            s.add(site)
        site.url, site.name = url, name
        site.deleted_at = None
        if owner:
            site.owner_user_id = _int_field(owner, "user_id")
            site.owner_email = str(owner.get("email") or "")
            site.owner_locale = str(owner.get("locale") or "en_US")
        if isinstance(data.get("timezone"), str):
            site.timezone = data["timezone"]
        s.flush()
        return site

    def _customer_id(self, s: Session, site: SiteRow) -> int | None:
        if site.owner_user_id is None:
            return None
        customer = s.scalars(
            select(Customer).where(Customer.wp_user_id == site.owner_user_id)
        ).one_or_none()
        if customer is None:
            customer = Customer(
                wp_user_id=site.owner_user_id,
                email=site.owner_email or "",
                locale=site.owner_locale or "en_US",
                created_at=self._now(),
            )
            s.add(customer)
            s.flush()
        else:
            customer.email = site.owner_email or customer.email
            customer.locale = site.owner_locale or customer.locale
        return customer.id

    def _on_site_created(self, s: Session, data: Mapping[str, Any], work: _Work) -> str:
        """Join the owner's membership if its sites limit allows, else a new default-plan one."""
        if not isinstance(data.get("owner"), Mapping):
            raise InvalidRequest("site.created needs an 'owner' object.", "malformed_event")
        site = self._upsert_site(s, data)
        if site.membership_id is not None:
            return "processed"  # known already (e.g. imported by the operator)
        customer_id = self._customer_id(s, site)
        now = self._now()
        for row in s.scalars(
            select(MembershipRow)
            .where(MembershipRow.customer_id == customer_id, MembershipRow.status != "cancelled")
            .order_by(MembershipRow.id)
            .with_for_update()
        ):
            m = membership_from_row(row, self._live_sites(s, row.id))
            allowed = limits_of(self.catalog, m.plan, m.addon_quantities(), m.overrides).sites
            if allowed == "unlimited" or (isinstance(allowed, int) and len(m.sites) < allowed):
                site.membership_id = row.id
                s.flush()
                self._save(s, row, m, replace(m, version=m.version + 1), work)
                return "processed"
        m = start_membership(self.catalog, self.settings.default_plan, None, now)
        row = MembershipRow(customer_id=customer_id, created_at=now, version=0)
        write_membership(row, m, now)
        s.add(row)
        s.flush()
        site.membership_id = row.id
        s.flush()
        self._bump_membership_sites(s, row.id, membership_from_row(row, [site]), work)
        return "processed"

    def _on_site_deleted(self, s: Session, data: Mapping[str, Any], work: _Work) -> str:
        site = s.get(SiteRow, _int_field(data, "site_id"))
        if site is None or site.deleted_at is not None:
            return "processed"
        site.deleted_at = self._now()
        s.flush()
        if site.membership_id is not None:
            row, m = self._membership_by_id(s, site.membership_id, lock=True)
            self._save(s, row, m, replace(m, version=m.version + 1), work)
        return "processed"

    def _on_usage_reported(self, s: Session, data: Mapping[str, Any], work: _Work) -> str:
        site = s.get(SiteRow, _int_field(data, "site_id"))
        try:
            usage = usage_from_json(data.get("usage"))
        except ValueError as exc:
            raise InvalidRequest(str(exc), "malformed_event") from exc
        if site is None:
            return "ignored"  # a site we never heard of; its site.created will follow
        site.usage = usage_json(usage)
        site.usage_reported_at = self._now()
        return "processed"

    def _on_limits_applied(self, s: Session, data: Mapping[str, Any], work: _Work) -> str:
        site_id, version = _int_field(data, "site_id"), _int_field(data, "version")
        doc = s.get(LimitsDocumentRow, site_id)
        if doc is None:
            return "ignored"
        if version > doc.applied_version:
            doc.applied_version = min(version, doc.desired_version)
            doc.updated_at = self._now()
        return "processed"

    def _on_invoice_paid(self, s: Session, data: Mapping[str, Any], work: _Work) -> str:
        invoice_id = data.get("invoice_id")
        if not isinstance(invoice_id, str | int) or isinstance(invoice_id, bool):
            raise InvalidRequest("invoice.paid needs an 'invoice_id'.", "malformed_event")
        amount, currency = data.get("amount"), data.get("currency")
        if not isinstance(amount, str) or not isinstance(currency, str):
            raise InvalidRequest(
                "invoice.paid needs 'amount' (a decimal string) and 'currency'.", "malformed_event"
            )
        # Paid in its own transaction (with its own locks) after this one records the receipt
        # would risk losing the payment; so it runs here, in the receipt's transaction.
        invoice = s.get(InvoiceRow, str(invoice_id))
        if invoice is None:
            raise NotFound("There is no such invoice.", "invoice_not_found")
        if currency != invoice.currency:
            raise Unprocessable(f"The invoice is in {invoice.currency}.", "currency_mismatch")
        try:
            paid = parse_amount(amount, invoice.currency)
        except MoneyError as exc:
            raise InvalidRequest(str(exc), "malformed_event") from exc
        if paid != invoice.amount_due_minor:
            raise Unprocessable(
                f"Invoice {invoice.number} is for "
                f"{format_amount(invoice.amount_due_minor, invoice.currency)}, not {amount}.",
                "amount_mismatch",
            )
        if invoice.status == "paid":
            return "processed"
        if invoice.status != "open" or (
            invoice.expires_at is not None and invoice.expires_at <= self._now()
        ):
            # Money arrived for something that no longer applies: keep it as credit, never lose it.
            row, m = self._membership_by_id(s, invoice.membership_id, lock=True)
            self._save(
                s,
                row,
                m,
                replace(m, balance_minor=m.balance_minor + paid, version=m.version + 1),
                work,
            )
            self._ledger(
                s,
                row,
                "late_payment",
                paid,
                f"Invoice {invoice.number} paid after it was {invoice.status}",
                "network",
                invoice.id,
            )
            invoice.reference = str(data.get("reference") or "")
            return "processed"
        row, m = self._membership_by_id(s, invoice.membership_id, lock=True)
        self._apply_paid(s, invoice, row, m, work)
        self._mark_paid(invoice, str(data.get("reference") or "") or None)
        self._audit(
            s, "network", "invoice.pay", f"invoice:{invoice.id}", {"number": invoice.number}
        )
        return "processed"

    # ------------------------------------------------------------------ time passing

    def roll_over(self, at: datetime | None = None) -> dict[str, int]:
        """Expire unpaid change invoices, renew ended periods, dun and fall back (§7); idempotent."""
        at = (at or self.clock.now()).replace(microsecond=0)
        counts = {"expired": 0, "renewed": 0, "past_due": 0, "fell_back": 0, "voided": 0}
        with self._transaction() as (s, _work):
            for invoice in s.scalars(
                select(InvoiceRow).where(
                    InvoiceRow.status == "open",
                    InvoiceRow.kind == "change",
                    InvoiceRow.expires_at <= at,
                )
            ):
                invoice.status = "expired"
                invoice.closed_reason = "not paid in time"
                counts["expired"] += 1
        with self._sessions.begin() as s:
            due = list(
                s.scalars(
                    select(MembershipRow.id)
                    .where(
                        MembershipRow.status != "cancelled",
                        (MembershipRow.period_end <= at) | (MembershipRow.status == "past_due"),
                    )
                    .order_by(MembershipRow.id)
                )
            )
        for membership_id in due:
            for _ in range(_MAX_ROLLS):
                try:
                    step = self._roll_one(membership_id, at)
                except Conflict:
                    continue  # another roll-over moved it; read it again
                if step is None:
                    break
                counts[step] += 1
                if step == "past_due":
                    counts["renewed"] += 1
        return counts

    def _roll_one(self, membership_id: int, at: datetime) -> str | None:
        """One step for one membership, in its own transaction: fall back, or renew one period."""
        grace = timedelta(days=self.settings.grace_days)
        with self._transaction() as (s, work):
            row, m = self._membership_by_id(s, membership_id, lock=True)
            deadline = m.period_start + grace if m.status == "past_due" else None
            if (
                deadline is not None
                and deadline <= at
                and (m.period_end is None or deadline <= m.period_end)
            ):
                after = fall_back(self.catalog, m, self.settings.fallback_plan, deadline)
                self._close_open_invoices(s, row.id, "void", "unpaid after the grace period")
                self._save(s, row, m, after, work)
                self._audit(s, "system", "membership.fall_back", f"membership:{row.id}", {})
                return "fell_back"
            renewal = renew(self.catalog, m, at)
            if renewal is None:
                return None
            voided = self._close_open_invoices(s, row.id, "void", "the period ended", "change")
            if voided:
                log.info("unpaid change invoice voided at period end", extra={"membership": row.id})
            after = renewal.membership
            self._save(s, row, m, after, work)
            total = sum(line.amount_minor for line in renewal.lines)
            if total != 0 or renewal.totals.due_now_minor != 0:
                invoice = self._new_invoice(
                    s,
                    row,
                    kind="renewal",
                    lines=renewal.lines,
                    totals=renewal.totals,
                    site_id=None,
                    renewal_key=f"{row.id}:{instant(after.period_start)}",
                )
                invoice.apply = {
                    "paid_value_minor": renewal.paid_value_minor,
                    "period_start": instant(after.period_start),
                }
                if renewal.totals.due_now_minor == 0:
                    self._mark_paid(invoice, "balance")
                elif self.settings.gateway == "test":
                    self._mark_paid(invoice, "test")
                    paid = renewal_paid(after, renewal.paid_value_minor)
                    self._save(s, row, after, paid, work)
                    after = paid
                self._ledger(
                    s,
                    row,
                    "renewal",
                    row.balance_minor - m.balance_minor,
                    f"Invoice {invoice.number}: renewal",
                    "system",
                    invoice.id,
                )
            return "past_due" if after.status == "past_due" else "renewed"

    # ------------------------------------------------------------------ limits pushes

    def limits_document(self, site_id: int) -> tuple[str, int, dict[str, Any]]:
        """(site url, desired version, signed-body document) of a site; NotFound when gone."""
        with self._transaction() as (s, work):
            site = self._site_row(s, site_id)
            doc = s.get(LimitsDocumentRow, site_id)
            if doc is None or doc.document is None:
                m = self._membership_of(s, site)[1] if site.membership_id is not None else None
                self._bump_site(s, site, m, work)
                work.pushes.clear()  # the caller is about to push it
                doc = s.get(LimitsDocumentRow, site_id)
                assert doc is not None and doc.document is not None
            return site.url, doc.desired_version, dict(doc.document)

    def applied_version(self, site_id: int) -> int | None:
        with self._sessions.begin() as s:
            doc = s.get(LimitsDocumentRow, site_id)
            return None if doc is None else doc.applied_version

    def record_push_result(
        self,
        site_id: int,
        version: int,
        applied_version: int | None = None,
        error: str | None = None,
        dead: bool = False,
    ) -> dict[str, Any]:
        """Remember what a push did: the acknowledged version, or the error and the next try."""
        now = self._now()
        with self._transaction() as (s, _work):
            doc = s.scalars(
                select(LimitsDocumentRow)
                .where(LimitsDocumentRow.site_id == site_id)
                .with_for_update()
            ).one_or_none()
            if doc is None:
                raise NotFound(f"Site {site_id} has no limits document.", "site_not_found")
            if applied_version is not None:
                doc.applied_version = max(
                    doc.applied_version, min(applied_version, doc.desired_version)
                )
                if doc.applied_version >= doc.desired_version:
                    doc.attempts, doc.last_error, doc.dead, doc.next_attempt_at = (
                        0,
                        None,
                        False,
                        None,
                    )
            elif version >= doc.desired_version:
                doc.attempts += 1
                doc.last_error = (error or "unknown error")[:2000]
                doc.dead = dead
                p = self.settings.push
                delay = min(p.max_delay_s, p.base_delay_s * 2 ** max(0, doc.attempts - 1))
                doc.next_attempt_at = None if dead else now + timedelta(seconds=delay)
            doc.updated_at = now
            s.flush()
            return limits_state_view(doc)

    def sites_behind(self, include_dead: bool = False) -> list[int]:
        """Sites whose applied version is behind the desired one (the reconcile pass)."""
        with self._sessions.begin() as s:
            stmt = (
                select(LimitsDocumentRow.site_id)
                .join(SiteRow, SiteRow.id == LimitsDocumentRow.site_id)
                .where(
                    LimitsDocumentRow.applied_version < LimitsDocumentRow.desired_version,
                    SiteRow.deleted_at.is_(None),
                )
                .order_by(LimitsDocumentRow.site_id)
            )
            if not include_dead:
                stmt = stmt.where(LimitsDocumentRow.dead.is_(False))
            return [int(x) for x in s.scalars(stmt)]

    def default_limits_document(self) -> tuple[int, dict[str, Any]]:
        """(version, document) of the network's default limits: the default plan's limits."""
        limits = limits_of(self.catalog, self.settings.default_plan, {}, None).to_json()
        with self._transaction() as (s, _work):
            row = s.scalars(
                select(DefaultLimitsRow).where(DefaultLimitsRow.id == 1).with_for_update()
            ).one_or_none()
            if row is None:
                row = DefaultLimitsRow(
                    id=1, desired_version=0, applied_version=0, attempts=0, dead=False
                )
                s.add(row)
            if row.document is None or row.document.get("limits") != limits:
                row.desired_version += 1
                row.document = {
                    "version": row.desired_version,
                    "issued_at": instant(self._now()),
                    "limits": limits,
                }
                row.updated_at = self._now()
            return row.desired_version, dict(row.document)

    def sync_default_limits(self) -> bool:
        """At start-up: a new version (and a push) when the default plan's limits changed."""
        with self._sessions.begin() as s:
            row = s.get(DefaultLimitsRow, 1)
            before = None if row is None else row.desired_version
        version, _doc = self.default_limits_document()
        changed = before != version
        if changed:
            self._after_commit(_Work(default_limits=True))
        return changed

    # ------------------------------------------------------------------ checkout tokens

    def use_checkout_token(self, jti: str, exp: int) -> bool:
        """True the first time a token id is used, False ever after."""
        now = self._now()
        try:
            with self._sessions.begin() as s:
                s.add(
                    CheckoutTokenUse(
                        jti=str(jti)[:64], exp=datetime.fromtimestamp(int(exp), UTC), used_at=now
                    )
                )
                s.flush()
        except IntegrityError:
            return False
        return True

    def forget_used_tokens(self) -> int:
        """Token ids whose token expired a day ago can go: the token is refused by its expiry."""
        with self._sessions.begin() as s:
            result = s.execute(
                delete(CheckoutTokenUse).where(
                    CheckoutTokenUse.exp < self._now() - timedelta(days=1)
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def site_of_quote(self, quote_id: str) -> int:
        with self._sessions.begin() as s:
            q = s.get(QuoteRow, quote_id)
            if q is None:
                raise NotFound("There is no such quote.", "quote_not_found")
            return q.site_id

    def site_of_invoice(self, invoice_id: str) -> int | None:
        with self._sessions.begin() as s:
            row = s.get(InvoiceRow, invoice_id)
            if row is None:
                raise NotFound("There is no such invoice.", "invoice_not_found")
            if row.site_id is not None:
                return row.site_id
            site = s.scalars(
                select(SiteRow.id)
                .where(SiteRow.membership_id == row.membership_id)
                .order_by(SiteRow.id)
            ).first()
            return None if site is None else int(site)


def parse_selection(raw: Any, currency: str) -> Selection:
    """A selection from JSON: {"plan": id, "billing": "once" | {every, unit}, "addons": {id: n}}."""
    if not isinstance(raw, Mapping):
        raise InvalidRequest("The selection must be an object with a 'plan'.", "invalid_selection")
    unknown = set(raw) - {"plan", "billing", "addons"}
    if unknown:
        raise InvalidRequest(
            f"Unknown selection field '{sorted(unknown)[0]}'.", "invalid_selection"
        )
    plan = raw.get("plan")
    if not isinstance(plan, str) or not plan:
        raise InvalidRequest("'plan' must be a product id.", "invalid_selection")
    billing = None
    if raw.get("billing") is not None:
        try:
            billing = parse_billing(raw["billing"])
        except ValueError as exc:
            raise InvalidRequest(f"billing: {exc}", "invalid_selection") from exc
    addons = raw.get("addons")
    if addons is not None:
        if not isinstance(addons, Mapping):
            raise InvalidRequest("'addons' must be an object {id: quantity}.", "invalid_selection")
        for key, quantity in addons.items():
            if isinstance(quantity, bool) or not isinstance(quantity, int):
                raise NotEligible(
                    f"The quantity of '{key}' must be a whole number, not {quantity!r}.",
                    "invalid_quantity",
                )
        addons = {str(k): v for k, v in addons.items()}
    return Selection(plan=plan, billing=billing, addons=addons)


def _int_field(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{key}' must be an integer.", "malformed_event")
    return value


def _jsonable(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in doc.items()}


__all__ = ["Bridge", "actor_label", "parse_selection"]
