"""Quotes per second: 10,000 memberships over a 200-product catalog, in-process.

Run: `make bench` (or `.venv/bin/python bench/quote.py [--memberships N] [--rounds R]`).
Prints one table row per workload; the machine is shared and noisy, so every workload runs in the
same process, interleaved over R rounds, and the best round counts (the least disturbed one).
The `ratio` column compares each workload with the plain upgrade quote of the same run.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.domain.catalog import Catalog, Policy, parse_catalog
from bridge.domain.documents import quote_document
from bridge.domain.errors import NotEligible
from bridge.domain.membership import Holding, Membership, Selection, Site, Usage
from bridge.domain.periods import boundary
from bridge.domain.proration import quote_change


def build_catalog(rng: random.Random) -> Catalog:
    """200 products: 40 plans in 4 groups with yearly variations, 120 packages, 40 services."""
    products: dict[str, dict[str, Any]] = {}
    packages = [f"pack{i}" for i in range(120)]
    services = [f"svc{i}" for i in range(40)]
    for pid in packages:
        products[pid] = {
            "name": pid,
            "kind": "package",
            "price": f"{rng.randint(1, 30)}.00",
            "limits": {"disk_mb": rng.randint(100, 2000), "posts": {"post": rng.randint(1, 50)}},
        }
    for pid in services:
        products[pid] = {
            "name": pid,
            "kind": "service",
            "price": f"{rng.randint(20, 200)}.00",
            "billing": "once",
        }
    for i in range(40):
        price = rng.randint(0, 300)
        products[f"plan{i}"] = {
            "name": f"Plan {i}",
            "kind": "plan",
            "price": f"{price}.00",
            "group": f"G{i % 4}",
            "order": i,
            "setup_fee": rng.choice(["0.00", "10.00"]),
            "variations": [{"billing": {"every": 1, "unit": "year"}, "price": f"{price * 10}.00"}],
            "addons": rng.sample(packages, 6) + rng.sample(services, 2),
            "limits": {
                "visits": rng.randint(1000, 100000),
                "disk_mb": rng.randint(100, 10000),
                "posts": {"post": rng.randint(5, 500), "page": rng.randint(5, 100)},
                "users": rng.randint(1, 20),
            },
        }
    return parse_catalog({"currency": "USD", "products": products})


def build_cases(
    catalog: Catalog, n: int, rng: random.Random
) -> list[tuple[Membership, Selection, datetime]]:
    plans = [p for p in catalog.products.values() if p.kind == "plan"]
    cases = []
    for _ in range(n):
        plan = rng.choice(plans)
        option = rng.choice(plan.billing_options())
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 300 * 86400))
        end = boundary(start, option.billing, 1)
        held = {
            pid: Holding(rng.randint(1, 2), catalog.products[pid].price_minor)
            for pid in rng.sample([a for a in plan.addons if a.startswith("pack")], 2)
        }
        member = Membership(
            plan=plan.id,
            billing=option.billing,
            plan_price_minor=option.price_minor,
            status="active",
            anchor=start,
            period_start=start,
            period_end=end,
            addons=held,
            paid_value_minor=option.price_minor + 1000,
            balance_minor=rng.choice([0, 500]),
            sites=(
                Site(
                    1,
                    "Blog",
                    Usage(posts={"post": rng.randint(0, 40)}, disk_mb=rng.randint(0, 900)),
                ),
            ),
        )
        target = rng.choice([p for p in plans if p.group == plan.group])
        addons = {pid: rng.randint(0, 2) for pid in target.addons[:4]}
        at = start + (end - start) * rng.random()
        cases.append((member, Selection(target.id, None, addons), at))
    return cases


def run(label: str, fn: Callable[[], int]) -> tuple[str, float, int]:
    started = time.perf_counter()
    count = fn()
    return label, time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memberships", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20261121)
    catalog = build_catalog(rng)
    cases = build_cases(catalog, args.memberships, rng)
    restart, keep = Policy(), Policy(anchor="keep")

    def quotes(policy: Policy, render: bool = False) -> Callable[[], int]:
        def go() -> int:
            done = 0
            for member, selection, at in cases:
                try:
                    quote = quote_change(catalog, policy, member, selection, at)
                except NotEligible:
                    continue
                if render:
                    quote_document(quote)
                done += 1
            return done

        return go

    def unchanged() -> int:
        for member, _, at in cases:
            quote_change(
                catalog,
                restart,
                member,
                Selection(member.plan, member.billing, member.addon_quantities()),
                at,
            )
        return len(cases)

    workloads = {
        "quote (restart)": quotes(restart),
        "quote (keep)": quotes(keep),
        "quote + JSON document": quotes(restart, render=True),
        "no_change quote": unchanged,
    }
    best: dict[str, tuple[float, int]] = {}
    for _ in range(args.rounds):
        for label, fn in workloads.items():
            _, seconds, count = run(label, fn)
            if label not in best or seconds < best[label][0]:
                best[label] = (seconds, count)
    base = best["quote (restart)"][0] / best["quote (restart)"][1]
    print(f"{args.memberships} memberships, 200-product catalog, best of {args.rounds} rounds")
    print("| workload | quotes | µs per quote | quotes/s | ratio |")
    print("|---|---|---|---|---|")
    for label, (seconds, count) in best.items():
        per = seconds / count
        print(f"| {label} | {count} | {per * 1e6:.1f} | {1 / per:,.0f} | {per / base:.2f} |")


if __name__ == "__main__":
    main()
