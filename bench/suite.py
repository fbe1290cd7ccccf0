"""Every row of issue 14's table in one run, with its ratio; JSON under bench/results/ and PNG
latency plots.

Run: `make bench` (or `.venv/bin/python bench/suite.py [--baseline DIR] [--quick]`). Each measure
runs in turn in this one invocation; with `--baseline DIR` (a checkout of an older commit, e.g.
`git archive <commit> | tar -x -C DIR`) every measure runs for that tree right before this one,
so the two sit side by side under the same machine load. Ratios inside a row always compare
figures of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# In-process helpers (signing, seeding) use this checkout's bridge, never an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest
import lab
import scale
import wordpress


def row_table(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(measure, figure, ratio) lines for one tree."""
    rows = []
    w = results.get("wordpress", {})
    if "quote" in w:
        q = w["quote"]
        rows.append(
            (
                "quote round trip p50 ÷ WordPress REST GET p50 (index / light)",
                f"{q['quote']['p50_ms']} ms vs {q['wp_index']['p50_ms']} / {q['wp_light']['p50_ms']} ms",
                f"{q['ratio_quote_to_wp_index']} / {q['ratio_quote_to_wp_light']}",
            )
        )
        rows.append(
            (
                "in-process quote ÷ WordPress REST GET",
                f"{q['in_process_quote_us']} µs",
                f"1/{round(1 / q['ratio_in_process_to_wp_index'])}",
            )
        )
    i = results.get("ingest")
    if i:
        rows.append(
            (
                "signed webhook ingest ÷ bare Flask route (req/s)",
                f"{i['webhook']['per_s']} vs {i['bare']['per_s']}; p95 {i['webhook']['p95_ms']}, "
                f"p99 {i['webhook']['p99_ms']}, max {i['webhook']['max_ms']} ms, "
                f"{i['webhook']['errors']} errors",
                str(i["ratio"]),
            )
        )
    if "live" in w:
        lv = w["live"]
        rows.append(
            (
                "commit → site reports new limits, p50 (back to back / after idle)",
                f"{lv['back_to_back']['p50_ms']} / {lv['after_idle']['p50_ms']} ms "
                f"(idle {lv['after_idle']['idle_s']} s)",
                f"budget {lv['budget_ms']} ms (WordPress push p50 {lv['wordpress_push']['p50_ms']} + 50)",
            )
        )
    s = results.get("scale")
    if s:
        for name, ratio in s["ratios"].items():
            rows.append((f"quote {name}", json.dumps(s["rows"]), str(ratio)))
    f = results.get("fanout")
    if f:
        top = f["receiver_ceiling"]
        single = f.get("receiver_single_ceiling", {}).get("per_s", "-")
        rows.append(
            (
                f"fan-out to {f['bridge']['sites']} sites ÷ receiver's ceiling (docs/s; "
                f"batches of {top.get('batch', '-')}, {top.get('clients', '-')} in flight)",
                f"{f['bridge']['per_s']} vs {top['per_s']} (one document a request: {single})",
                str(f["ratio"]),
            )
        )
    if "fanout_wordpress" in w:
        fw = w["fanout_wordpress"]
        top = fw.get("ceiling", {})
        rows.append(
            (
                f"fan-out to {fw['sites']} real WordPress sites ÷ the network's own ceiling "
                f"(docs/s; batches of {fw.get('batch', '-')}, {fw.get('concurrency', '-')} "
                "in flight)",
                f"{fw['per_s']} vs {top.get('per_s', '-')}",
                str(fw.get("ratio", "-")),
            )
        )
    return rows


def plot(all_results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, results in all_results.items():
        samples = results.get("wordpress", {}).get("live", {}).get("samples_ms", {})
        for kind in ("back_to_back", "after_idle"):
            values = sorted(samples.get(kind, []))
            if values:
                ys = [(n + 1) / len(values) for n in range(len(values))]
                ax.step(values, ys, where="post", label=f"{label}: {kind.replace('_', ' ')}")
        push = sorted(samples.get("push", []))
        if push and label == list(all_results)[-1]:
            ax.step(
                push,
                [(n + 1) / len(push) for n in range(len(push))],
                where="post",
                label="WordPress push",
                linestyle=":",
            )
    ax.set_xscale("log")
    ax.set_xlabel("commit → site acknowledged (ms, log)")
    ax.set_ylabel("fraction of commits")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scale_rows(tree: Path, args: argparse.Namespace) -> Any:
    sizes = [(b, int(n)) for b, n in (x.split(":") for x in args.sizes.split(","))]
    # In a child: the bridge imported in-process must be this tree's, not the installed one.
    child = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("scale.py")),
            "--tree",
            str(tree),
            "--json",
            "--sizes",
            ",".join(f"{b}:{n}" for b, n in sizes),
            "--quotes",
            str(args.quotes),
        ],
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def run_tree(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    started = time.monotonic()
    if not args.only_fanout:
        results["ingest"] = ingest.measure(tree, args.ingest_seconds, 2, 8)
        results["scale"] = scale_rows(tree, args)
    child = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("fanout.py")),
            "--tree",
            str(tree),
            "--json",
            "--sites",
            str(args.sites),
            "--batch",
            str(args.fanout_batch),
            "--concurrency",
            str(args.fanout_concurrency),
            "--timeout",
            str(args.fanout_timeout),
        ],
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
        text=True,
    )
    results["fanout"] = json.loads(child.stdout.strip().splitlines()[-1])
    wp_args = argparse.Namespace(
        rounds=args.wp_rounds,
        live_rounds=args.live_rounds,
        idle_s=args.idle_s,
        idle_rounds=args.idle_rounds,
        fanout_sites=args.wp_sites,
        fanout_batch=args.fanout_batch,
        fanout_concurrency=args.fanout_concurrency,
        ceiling_rounds=3,
        only_fanout=args.only_fanout,
    )
    results["wordpress"] = wordpress.measure(wp_args, tree)
    results["seconds"] = round(time.monotonic() - started, 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--tree", type=Path, default=lab.ROOT)
    parser.add_argument("--ingest-seconds", type=float, default=5.0)
    parser.add_argument("--sizes", default=scale.DEFAULT_SIZES)
    parser.add_argument("--quotes", type=int, default=300)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--fanout-timeout", type=float, default=200.0)
    parser.add_argument("--wp-rounds", type=int, default=60)
    parser.add_argument("--live-rounds", type=int, default=30)
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--idle-rounds", type=int, default=3)
    parser.add_argument("--wp-sites", type=int, default=200)
    parser.add_argument("--fanout-batch", type=int, default=100)
    parser.add_argument("--fanout-concurrency", type=int, default=2)
    parser.add_argument("--name", default="suite")
    parser.add_argument(
        "--only-fanout", action="store_true", help="only the two fan-out rows (loopback, WordPress)"
    )
    args = parser.parse_args()
    trees = {}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    trees["this tree"] = args.tree.resolve()
    all_results = {label: run_tree(tree, args) for label, tree in trees.items()}
    out = lab.save(
        args.name, {"trees": {k: str(v) for k, v in trees.items()}, "results": all_results}
    )
    png = lab.RESULTS / f"{args.name}-live.png"
    if not args.only_fanout:
        plot(all_results, png)
    for label, results in all_results.items():
        print(f"\n### {label} ({trees[label]})")
        print("| measure | figures | ratio |")
        print("|---|---|---|")
        for measure_name, figure, ratio in row_table(results):
            print(f"| {measure_name} | {figure} | {ratio} |")
    print(f"\nJSON: {out}" + ("" if args.only_fanout else f"\nplot: {png}"))


if __name__ == "__main__":
    main()
