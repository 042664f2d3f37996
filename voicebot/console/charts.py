"""The report's charts, drawn on the server as SVG with matplotlib (already used for the NLU's
confusion matrix): no JavaScript charting code in the page, and the same picture in a browser
or a saved file."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def _figure(width: float = 7.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def calls_by_region(rows: list[dict[str, Any]]) -> str:
    """Bars per region: calls served by the bot alone, and calls that went to an agent."""
    served, transferred = defaultdict(int), defaultdict(int)
    for row in rows:
        transferred[row["region"]] += row["transfers"]
        served[row["region"]] += row["calls"] - row["transfers"]
    regions = sorted(set(served) | set(transferred))
    fig, ax = _figure()
    if not regions:
        ax.text(0.5, 0.5, "no calls in this period", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.bar(regions, [served[r] for r in regions], label="self-service", color="#1f7a3a")
        ax.bar(regions, [transferred[r] for r in regions], bottom=[served[r] for r in regions],
               label="to an agent", color="#b5121b")
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xlabel("region (area code)")
    ax.set_ylabel("calls")
    ax.set_title("Calls per region")
    return _svg(fig)


def answer_rate_by_hour(rows: list[dict[str, Any]], target: float) -> str:
    """Each pool's answer rate per hour of the day, with the 80% target."""
    fig, ax = _figure()
    by_pool: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in rows:
        if row["answer_rate"] is not None:
            by_pool[row["pool"]].append((row["hour"], row["answer_rate"] * 100))
    for pool, points in sorted(by_pool.items()):
        ax.plot([h for h, _ in points], [r for _, r in points], marker="o", label=f"pool {pool}")
    ax.axhline(target * 100, color="#5b6478", linestyle="--", linewidth=1, label=f"target {target:.0%}")
    ax.set_xlim(-0.5, 23.5)
    ax.set_ylim(0, 105)
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("answered (%)")
    ax.set_title("Agent answer rate per pool")
    ax.legend(frameon=False, loc="lower left")
    return _svg(fig)
