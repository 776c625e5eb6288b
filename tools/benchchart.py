#!/usr/bin/python3
"""Charts of make bench's figures: each beside its baseline and its goal.

  tools/benchchart.py [BENCH_JSON [BASELINE_JSON [OUT_DIR]]]

Defaults: build/bench.json, tools/bench-baseline.json, build/bench/. Writes
OUT_DIR/<figure>.svg for every figure (three bars: this run, the baseline,
the goal) and OUT_DIR/all.svg with every figure in one grid. tools/bench.py
calls draw() after a run.
"""
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COLOURS = {"now": "#3a6ea5", "baseline": "#9aa5b1", "goal": "#4c9a4c"}


def bars(figure, base):
    """[(label, value)] for a figure: this run, the baseline, the goal (those that exist)."""
    out = []
    if figure is not None:
        out.append(("now", figure["value"]))
    if base and base.get("value") is not None:
        out.append(("baseline", base["value"]))
    if base and base.get("goal") is not None:
        out.append(("goal", base["goal"]))
    return out


def panel(ax, name, unit, rows):
    labels = [r[0] for r in rows]
    values = [r[1] for r in rows]
    ax.barh(range(len(rows)), values, color=[COLOURS[lbl] for lbl in labels])
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_title(f"{name} ({unit})", fontsize=9)
    top = max(values) if values else 1
    for i, v in enumerate(values):
        ax.text(v + top * 0.01, i, f"{v:,}", va="center", fontsize=8)
    ax.set_xlim(0, top * 1.25 or 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
    ax.tick_params(labelsize=8)


def draw(result, baseline, out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = result["figures"]
    bases = baseline.get("figures", {})
    names = sorted(set(figs) | set(bases))
    items = []
    for name in names:
        rows = bars(figs.get(name), bases.get(name))
        if not rows:
            continue
        unit = (figs.get(name) or bases.get(name) or {}).get("unit", "")
        items.append((name, unit, rows))
        fig, ax = plt.subplots(figsize=(6, 1.6))
        panel(ax, name, unit, rows)
        fig.tight_layout()
        fig.savefig(out_dir / f"{name}.svg")
        plt.close(fig)
    cols = 3
    nrows = max(1, math.ceil(len(items) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(cols * 5, nrows * 1.7), squeeze=False)
    for ax, item in zip(axes.flat, items):
        panel(ax, *item)
    for ax in list(axes.flat)[len(items):]:
        ax.axis("off")
    fig.suptitle(f"Mica bench at {result.get('commit', '?')}: "
                 "this run, baseline and goal (lower is better)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / (nrows * 1.7)))
    fig.savefig(out_dir / "all.svg")
    plt.close(fig)
    print(f"bench: charts in {out_dir.relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir}"
          f" ({len(items)} figures and all.svg)")


def main(argv):
    src = Path(argv[1]) if len(argv) > 1 else ROOT / "build" / "bench.json"
    base = Path(argv[2]) if len(argv) > 2 else ROOT / "tools" / "bench-baseline.json"
    out = Path(argv[3]) if len(argv) > 3 else ROOT / "build" / "bench"
    draw(json.loads(src.read_text()), json.loads(base.read_text()), out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
