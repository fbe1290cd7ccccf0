"""The import's report: what would be (or was) brought over, what was not and why, what was assumed.

It names rows by their Ultimate Multisite ids and WordPress user / blog ids, never by e-mail
address. `lines()` is what `bridge import ultimate-multisite` prints (and `--dry-run` prints
only that); `as_json()` is what the import batch keeps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bridge.domain.money import format_amount


@dataclass(frozen=True)
class MoneyCheck:
    """A membership's next renewal: UM's `amount` against ours (plan + add-ons (+ tax))."""

    membership: int
    um_minor: int
    ours_minor: int
    ours_with_tax_minor: int
    derived: bool  # the agreed prices were derived from UM's total (flagged)

    @property
    def matches(self) -> bool:
        return abs(self.um_minor - self.ours_with_tax_minor) <= 1


@dataclass
class Report:
    currency: str = ""
    counts: Counter[str] = field(default_factory=Counter)
    unmapped: list[tuple[str, str, str]] = field(default_factory=list)  # kind, id, why
    assumptions: list[str] = field(default_factory=list)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # kind, id, what
    payments: dict[str, tuple[int, int]] = field(default_factory=dict)  # YYYY-MM → (n, minor)
    money: list[MoneyCheck] = field(default_factory=list)
    gateway_subscriptions: list[tuple[int, str, str, str]] = field(default_factory=list)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # kind, id, what
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # kind, id, what
    sites_left: list[tuple[int, str]] = field(default_factory=list)  # blog id, why

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] += n

    def skip(self, kind: str, ident: object, why: str) -> None:
        self.unmapped.append((kind, str(ident), why))

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def note(self, kind: str, ident: object, text: str) -> None:
        self.notes.append((kind, str(ident), text))

    def lines(self) -> list[str]:
        """The report as text lines, in the order an operator reads it."""
        cur = self.currency or "USD"
        out = ["Ultimate Multisite import report", f"currency: {cur}", "", "counts:"]
        out += [f"  {kind}: {n}" for kind, n in sorted(self.counts.items())]
        out += ["", f"not imported ({len(self.unmapped)}):"]
        out += [f"  {kind} {ident}: {why}" for kind, ident, why in self.unmapped] or ["  (none)"]
        out += ["", "assumptions:"]
        out += [f"  - {a}" for a in self.assumptions] or ["  (none)"]
        out += ["", "mapping notes:"]
        out += [f"  {kind} {ident}: {text}" for kind, ident, text in self.notes] or ["  (none)"]
        out += ["", "money check (next renewal, Ultimate Multisite vs the bridge):"]
        for c in self.money:
            verdict = "ok" if c.matches else "DIFFERS"
            flag = " (agreed prices derived from UM's total)" if c.derived else ""
            out.append(
                f"  membership {c.membership}: UM {format_amount(c.um_minor, cur)}, bridge "
                f"{format_amount(c.ours_minor, cur)} + tax = "
                f"{format_amount(c.ours_with_tax_minor, cur)}: {verdict}{flag}"
            )
        if not self.money:
            out.append("  (none)")
        out += ["", "payment history per month (not imported):"]
        for month, (n, total) in sorted(self.payments.items()):
            out.append(f"  {month}: {n} payments, {format_amount(total, cur)}")
        if not self.payments:
            out.append("  (none)")
        out += ["", "gateway subscriptions to cancel in their gateway before the handover:"]
        out += [
            f"  membership {m}: {gateway} subscription {sub} (customer {customer or '-'})"
            for m, gateway, sub, customer in self.gateway_subscriptions
        ] or ["  (none)"]
        out += ["", "sites left on their bridge membership:"]
        out += [f"  site {blog}: {why}" for blog, why in self.sites_left] or ["  (none)"]
        if self.changes or self.conflicts:
            out += ["", "changes since the last import:"]
            out += [f"  {k} {i}: {w}" for k, i, w in self.changes] or ["  (none)"]
            out += ["", "conflicts (the bridge's copy changed since; the bridge's is kept):"]
            out += [f"  {k} {i}: {w}" for k, i, w in self.conflicts] or ["  (none)"]
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "counts": dict(self.counts),
            "unmapped": [list(x) for x in self.unmapped],
            "assumptions": list(self.assumptions),
            "notes": [list(x) for x in self.notes],
            "payments": {k: list(v) for k, v in self.payments.items()},
            "money": [
                {
                    "membership": c.membership,
                    "um_minor": c.um_minor,
                    "ours_minor": c.ours_minor,
                    "ours_with_tax_minor": c.ours_with_tax_minor,
                    "derived": c.derived,
                }
                for c in self.money
            ],
            "gateway_subscriptions": [list(x) for x in self.gateway_subscriptions],
            "conflicts": [list(x) for x in self.conflicts],
            "changes": [list(x) for x in self.changes],
            "sites_left": [list(x) for x in self.sites_left],
        }
