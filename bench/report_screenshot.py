"""Open the trends report in headless Chromium and screenshot it (not part of `make test`).

    .venv/bin/python -m bench.report_screenshot            # writes bench/out/report.png

Builds 30 days of stories with a planted spike, writes the report, and has Debian's
``chromium`` (``apt-get install -y chromium``) render it with networking disabled. Then checks
the screenshot is not blank and shows the spike colour, and prints where it is: look at it.
Screenshots stay out of git (bench/out/ and *.png are ignored).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.image import imread
from tests.trends_data import build_trends_db, trends_config_text

from newsradar.charts import SPIKE
from newsradar.config import load_config
from newsradar.report import write_report

OUT = Path(__file__).resolve().parent / "out"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


NO_CHROMIUM = "chromium not found; install it with `apt-get install -y chromium`"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(html: Path, png: Path, *, width: int = 1200, height: int = 2400) -> None:
    """Render ``html`` with headless Chromium into ``png``."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError(NO_CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="newsradar-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def spike_pixels(png: Path) -> tuple[float, int]:
    """(share of non-white pixels, pixels in the spike colour) of a screenshot."""
    image = imread(png)[..., :3]
    if image.dtype != np.float32:
        image = image.astype(np.float32) / 255.0
    ink = float((image.min(axis=2) < 0.95).mean())
    red = np.array([int(SPIKE[i : i + 2], 16) / 255.0 for i in (1, 3, 5)], dtype=np.float32)
    spike = int((np.abs(image - red).max(axis=2) < 0.06).sum())
    return ink, spike


def check(out: Path) -> dict[str, Any]:
    """Write the report for a planted spike, screenshot it, and measure what the page shows."""
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date()
    with tempfile.TemporaryDirectory(prefix="newsradar-report-") as tmp:
        database = Path(tmp) / "trends.duckdb"
        build_trends_db(database, last_day=today, spike_day=today - timedelta(days=6))
        config_dir = Path(tmp) / "config"
        config_dir.mkdir()
        for name, text in trends_config_text(database).items():
            (config_dir / name).write_text(text)
        html = out / "report.html"
        report = write_report(load_config(config_dir), html, days=30)
    png = out / "report.png"
    screenshot(html, png)
    ink, spike = spike_pixels(png)
    spikes = [(w.id, s.day.isoformat()) for w in report.watches for s in w.scan.spikes]
    ok = ink > 0.02 and spike > 50 and any(day == _iso(today, 6) for _, day in spikes)
    return {"html": html, "png": png, "ink": ink, "spike": spike, "spikes": spikes, "ok": ok}


def run(quick: bool) -> list[dict[str, Any]]:
    """Bench protocol row: does the report render in headless Chromium with its charts?"""
    row: dict[str, Any] = {
        "stage": "report",
        "measure": "report in headless Chromium: spike-coloured pixels (higher is better)",
        "baseline_name": None,
        "baseline": None,
        "ratio": None,
        "unit": "px",
        "target": "> 50, page not blank, planted spike found",
    }
    if find_chromium() is None:
        return [{**row, "newsradar": None, "met": None, "notes": NO_CHROMIUM}]
    result = check(OUT)
    return [
        {
            **row,
            "newsradar": result["spike"],
            "met": result["ok"],
            "notes": f"{result['ink']:.1%} of pixels inked; spikes {result['spikes']}; "
            f"screenshot {result['png']}",
        }
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="directory for report + png")
    args = parser.parse_args(argv)
    if find_chromium() is None:
        print(NO_CHROMIUM, file=sys.stderr)
        return 2
    result = check(args.out)
    print(f"report:     {result['html']} ({result['html'].stat().st_size:,} bytes)")
    print(f"screenshot: {result['png']}")
    print(f"spikes:     {result['spikes']}")
    print(f"ink:        {result['ink']:.1%} of pixels; spike-coloured pixels: {result['spike']}")
    ok = result["ok"]
    print("OK: charts rendered with the spike marked" if ok else "FAILED: look at the screenshot")
    return 0 if ok else 1


def _iso(today: date, days_ago: int) -> str:
    return (today - timedelta(days=days_ago)).isoformat()


if __name__ == "__main__":
    sys.exit(main())
