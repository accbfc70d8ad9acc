"""Trends benchmark: spike-rule quality side by side with a naive rule, and report speed.

    .venv/bin/python -m bench.trends [--quick]

1. Spike detection on synthetic Poisson series (one year per watch, watch rates from 0.5 to 40
   stories a day) with planted surges of about four standard deviations: F1 and false alarms
   of newsradar's rule (mean + 3 sd of the 14 days before, and at least 5) against the common
   "twice the 14-day average, and at least 5" rule, on the same series.
2. `newsradar report` (read + charts + HTML) and a pass's spike check on a 30-day database.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import numpy as np
from tests.trends_data import build_trends_db, trends_config_text

from newsradar.config import load_config
from newsradar.report import write_report
from newsradar.spikes import queue_spike_alerts
from newsradar.store import open_writer
from newsradar.trends import build_series, detect_spikes

RATES = (0.5, 2.0, 5.0, 15.0, 40.0)
K, MIN_COUNT, BASELINE = 3.0, 5, 14
D0 = date(2025, 1, 1)


def _naive(counts: list[int], min_count: int = MIN_COUNT) -> set[int]:
    """The rule of thumb: a day at least twice the 14-day average (and at least min_count)."""
    found = set()
    for i in range(BASELINE, len(counts)):
        mean = sum(counts[i - BASELINE : i]) / BASELINE
        if counts[i] >= 2 * mean and counts[i] >= min_count:
            found.add(i)
    return found


def _ours(counts: list[int]) -> set[int]:
    days = {D0 + timedelta(days=i): n for i, n in enumerate(counts)}
    series = build_series("w", days, D0, D0 + timedelta(days=len(counts) - 1))
    scan = detect_spikes(series, observed_from=D0, k=K, min_count=MIN_COUNT, baseline_days=BASELINE)
    return {(s.day - D0).days for s in scan.spikes}


def spike_quality(watches_per_rate: int, days: int = 365, seed: int = 11) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    tally = {name: {"tp": 0, "fp": 0, "fn": 0} for name in ("ours", "naive")}
    for rate in RATES:
        for _ in range(watches_per_rate):
            counts = [int(x) for x in rng.poisson(rate, days)]
            planted = set(int(d) for d in rng.choice(np.arange(30, days, 30), 6, replace=False))
            bump = max(5, round(4 * math.sqrt(rate)))
            for d in planted:
                counts[d] += bump
            for name, found in (("ours", _ours(counts)), ("naive", _naive(counts))):
                # A planted day whose surge lifted the next days' baseline is still one event.
                tally[name]["tp"] += len(found & planted)
                tally[name]["fn"] += len(planted - found)
                tally[name]["fp"] += len(found - planted)
    result: dict[str, Any] = {"watch_years": watches_per_rate * len(RATES) * days / 365}
    for name, t in tally.items():
        precision = t["tp"] / max(1, t["tp"] + t["fp"])
        recall = t["tp"] / max(1, t["tp"] + t["fn"])
        result[name] = {
            **t,
            "f1": 2 * precision * recall / max(1e-9, precision + recall),
            "fp_per_watch_year": t["fp"] / result["watch_years"],
        }
    return result


def report_speed(scale: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="newsradar-bench-") as tmp:
        database = Path(tmp) / "trends.duckdb"
        last = datetime.now(UTC).date()
        planted = build_trends_db(database, last_day=last, spike_day=last, scale=scale)
        directory = Path(tmp) / "config"
        directory.mkdir()
        for name, text in trends_config_text(database).items():
            (directory / name).write_text(text)
        config = load_config(directory)
        output = Path(tmp) / "report.html"
        t0 = time.perf_counter()
        write_report(config, output, days=30)
        report_s = time.perf_counter() - t0
        now = datetime.combine(last, clock(23, 0), tzinfo=UTC)
        with open_writer(database, lock_timeout=5) as con:
            t0 = time.perf_counter()
            queued = queue_spike_alerts(con, config, now)
            spike_s = time.perf_counter() - t0
        return {
            "articles": planted.articles,
            "report_s": report_s,
            "spike_s": spike_s,
            "bytes": output.stat().st_size,
            "queued": queued,
        }


def run(quick: bool) -> list[dict[str, Any]]:
    quality = spike_quality(watches_per_rate=4 if quick else 20)
    speed = report_speed(scale=5 if quick else 40)
    ours, naive = quality["ours"], quality["naive"]
    synthetic = (
        f"{quality['watch_years']:.0f} synthetic Poisson watch-years, rates {RATES}/day, "
        f"6 planted ~4-sd surges each; k={K}, min_count={MIN_COUNT}"
    )
    return [
        {
            "stage": "trends",
            "measure": "spike detection F1 (higher is better)",
            "newsradar": round(ours["f1"], 3),
            "baseline_name": "2x the 14-day mean and >= 5",
            "baseline": round(naive["f1"], 3),
            "ratio": round(ours["f1"] / max(1e-9, naive["f1"]), 2),
            "unit": "F1",
            "target": "> baseline",
            "met": ours["f1"] > naive["f1"],
            "notes": f"{synthetic}; tp/fp/fn ours {ours['tp']}/{ours['fp']}/{ours['fn']}, "
            f"naive {naive['tp']}/{naive['fp']}/{naive['fn']}",
        },
        {
            "stage": "trends",
            "measure": "false spike alerts per watch-year (lower is better)",
            "newsradar": round(ours["fp_per_watch_year"], 2),
            "baseline_name": "2x the 14-day mean and >= 5",
            "baseline": round(naive["fp_per_watch_year"], 2),
            "ratio": round(ours["fp_per_watch_year"] / max(1e-9, naive["fp_per_watch_year"]), 3),
            "unit": "alerts/watch-year",
            "target": "<= 0.5x baseline",
            "met": ours["fp_per_watch_year"] <= 0.5 * naive["fp_per_watch_year"],
            "notes": synthetic,
        },
        {
            "stage": "trends",
            "measure": "newsradar report, 30 days, 3 watches (lower is better)",
            "newsradar": round(speed["report_s"], 2),
            "baseline_name": None,
            "baseline": None,
            "ratio": None,
            "unit": "s",
            "target": "<= 5 s",
            "met": speed["report_s"] <= 5,
            "notes": f"{speed['articles']:,} articles; file {speed['bytes']:,} bytes",
        },
        {
            "stage": "trends",
            "measure": "spike check in one pass (queue_spike_alerts; lower is better)",
            "newsradar": round(speed["spike_s"], 3),
            "baseline_name": None,
            "baseline": None,
            "ratio": None,
            "unit": "s",
            "target": "<= 1 s",
            "met": speed["spike_s"] <= 1,
            "notes": f"{speed['articles']:,} articles; {speed['queued']} spike alerts queued",
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
