"""Charts of stories per day, rendered offline by matplotlib (Agg / SVG, no pyplot).

Figures are built with the object API rather than ``pyplot``, so nothing global changes and
rendering is safe from any thread or flow task. Fonts are matplotlib's bundled DejaVu: nothing
is fetched.

    >>> svg = story_chart_svg(series, scan, title="NATO")     # doctest: +SKIP
    >>> png = digest_chart_png(con, ["nato", "dprk"], days=14)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage, MIMEPart
from typing import Any, cast
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import numpy.typing as npt
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from newsradar.identity import stable_id
from newsradar.store.trends import daily_story_counts
from newsradar.trends import Series, SpikeScan, build_series

__all__ = [
    "DigestChart",
    "digest_chart",
    "digest_chart_alt",
    "digest_chart_png",
    "digest_series",
    "embed_chart",
    "story_chart_svg",
]

BAR = "#4c72b0"
SPIKE = "#c44e52"
BAND = "#8c8c8c"
# Colour-blind-safe cycle (Okabe-Ito) for several watches on one digest chart.
LINES = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")

_RC: dict[str, Any] = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # keep text as <text>: smaller, selectable, no glyph paths
}


def _style(**extra: Any) -> AbstractContextManager[None]:
    # rc_context's stub wants literal keys; ours are checked by matplotlib at run time.
    return rc_context(cast(Any, {**_RC, **extra}))


def _x(days: Sequence[date]) -> npt.NDArray[np.datetime64]:
    return np.array(days, dtype="datetime64[D]")


def _format_days(ax: Axes) -> None:
    locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
    ax.set_ylim(bottom=0)


def story_chart_svg(
    series: Series,
    scan: SpikeScan | None = None,
    *,
    title: str = "",
    observed_from: date | None = None,
) -> str:
    """Bars of stories per day, spike days in red with their count, the threshold dashed.

    Days before ``observed_from`` (the first fetch) are shaded: their counts are only what
    feeds still listed when monitoring began.

    Returns an ``<svg>`` element ready to inline in HTML (no XML prologue, no metadata); ids
    inside are salted with the watch id so several charts can share one page.
    """
    with _style(**{"svg.hashsalt": f"newsradar-{series.watch_id}"}):
        fig = Figure(figsize=(7.5, 2.6), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        spike_days = {spike.day: spike for spike in scan.spikes} if scan else {}
        colours = [SPIKE if day in spike_days else BAR for day in series.days]
        ax.bar(_x(series.days), series.counts, width=0.8, color=colours, label="stories")
        half = np.timedelta64(12, "h")
        shaded = bool(series.days) and (observed_from is None or observed_from > series.days[0])
        if shaded:
            last = series.days[-1] + timedelta(days=1)
            edge = min(observed_from, last) if observed_from else last
            ax.axvspan(
                _x([series.days[0]])[0] - half,
                _x([edge])[0] - half,
                color=BAND,
                alpha=0.12,
                linewidth=0,
                label="before monitoring began",
            )
        if scan and scan.thresholds:
            days = sorted(scan.thresholds)
            ax.step(
                _x(days),
                [scan.thresholds[day] for day in days],
                where="mid",
                color=BAND,
                linestyle="--",
                linewidth=1,
                label="spike threshold",
            )
        if shaded or (scan and scan.thresholds):
            ax.legend(loc="upper left", frameon=False, fontsize=8)
        for day, spike in spike_days.items():
            ax.annotate(
                f"spike: {spike.count}",
                (_x([day])[0], spike.count),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=SPIKE,
            )
        _format_days(ax)
        top = max(series.counts, default=0)
        ax.set_ylim(top=max(2, top * 1.2))
        ax.set_ylabel("stories per day")
        if title:
            ax.set_title(title, loc="left", fontsize=10)
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
    return _inline_svg(buf.getvalue())


def _inline_svg(document: str) -> str:
    """Drop the XML prologue, DOCTYPE and metadata: only the drawing goes into the page."""
    svg = document[document.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # Group ids ("figure_1", "axes_1") repeat in every chart and nothing refers to them.
    svg = re.sub(r'<g id="[^"]*">', "<g>", svg)
    return svg.strip()


def digest_series(
    con: duckdb.DuckDBPyConnection,
    watch_ids: Sequence[str],
    *,
    days: int = 14,
    today: date | None = None,
    tz: str = "UTC",
) -> list[Series]:
    """Stories per day of ``watch_ids`` over the ``days`` days ending ``today`` (local)."""
    end = today or datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
    start = end - timedelta(days=days - 1)
    counts = daily_story_counts(con, watch_ids, start, end, tz)
    return [build_series(watch, counts[watch], start, end) for watch in watch_ids]


def digest_chart_png(
    source: duckdb.DuckDBPyConnection | Sequence[Series],
    watch_ids: Sequence[str],
    days: int = 14,
    *,
    today: date | None = None,
    tz: str = "UTC",
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """A small PNG (1200x440 px, shown at 600x220) of the last ``days`` days, one line per watch.

    ``source`` is an open connection (read through :mod:`newsradar.store.trends`) or series
    already loaded. For the digest mail: attach it as an inline image part with a Content-ID
    and the text of :func:`digest_chart_alt` as its alt text.
    """
    if isinstance(source, duckdb.DuckDBPyConnection):
        series = digest_series(source, watch_ids, days=days, today=today, tz=tz)
    else:
        wanted = set(watch_ids)
        series = [s for s in source if s.watch_id in wanted]
    labels = labels or {}
    with _style():
        # Drawn at twice the size it is shown (600x220), so it stays sharp on high-DPI screens.
        fig = Figure(figsize=(6.0, 2.2), dpi=200, layout="constrained")
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for i, one in enumerate(series):
            ax.plot(
                _x(one.days),
                one.counts,
                marker="o",
                markersize=3,
                linewidth=1.5,
                color=LINES[i % len(LINES)],
                label=labels.get(one.watch_id, one.watch_id),
            )
        _format_days(ax)
        top = max((max(s.counts, default=0) for s in series), default=0)
        ax.set_ylim(top=max(2, top * 1.15))
        ax.set_title(f"Stories per day, last {days} days", loc="left", fontsize=9)
        if series:
            ax.legend(loc="upper left", frameon=False, fontsize=7, ncols=min(4, len(series)))
        canvas.draw()  # type: ignore[no-untyped-call]
        rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
    # A 64-colour palette keeps the antialiasing and makes the mail part ~18 KB instead of ~80.
    image = Image.fromarray(rgba).convert("RGB").quantize(64, method=Image.Quantize.MEDIANCUT)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def digest_chart_alt(series: Sequence[Series], labels: Mapping[str, str] | None = None) -> str:
    """Alt text saying what the digest chart shows, for clients that do not show images."""
    labels = labels or {}
    if not series or not series[0].days:
        return "Stories per day: no data yet."
    first, last = series[0].days[0], series[0].days[-1]
    parts = []
    for one in series:
        name = labels.get(one.watch_id, one.watch_id)
        if one.total == 0:
            parts.append(f"{name} none")
            continue
        peak = max(range(len(one.counts)), key=lambda i: (one.counts[i], one.days[i]))
        parts.append(f"{name} {one.total} (peak {one.counts[peak]} on {one.days[peak]:%d %b})")
    return f"Stories per day, {first:%d %b} to {last:%d %b}: " + "; ".join(parts) + "."


@dataclass(frozen=True, slots=True)
class DigestChart:
    """The digest's chart: PNG bytes, what it says in words, and the Content-ID it goes by."""

    png: bytes
    alt: str
    # Without angle brackets; the HTML refers to it as ``src="cid:<cid>"`` (see :attr:`src`).
    cid: str

    @property
    def src(self) -> str:
        return f"cid:{self.cid}"


def digest_chart(
    con: duckdb.DuckDBPyConnection,
    watch_ids: Sequence[str],
    *,
    days: int = 14,
    today: date | None = None,
    tz: str = "UTC",
    labels: Mapping[str, str] | None = None,
) -> DigestChart:
    """Chart, alt text and a stable Content-ID for a digest covering ``watch_ids``.

    The digest template shows it with
    ``<img src="{{ chart.src }}" alt="{{ chart.alt }}" width="600" height="220">`` and
    :func:`embed_chart` attaches the PNG to the mail.
    """
    series = digest_series(con, watch_ids, days=days, today=today, tz=tz)
    png = digest_chart_png(series, watch_ids, days, labels=labels)
    alt = digest_chart_alt(series, labels)
    last = series[0].days[-1].isoformat() if series and series[0].days else ""
    cid = f"trends-{stable_id('chart', last, str(days), *watch_ids)}@newsradar.invalid"
    return DigestChart(png, alt, cid)


def embed_chart(msg: EmailMessage, chart: DigestChart) -> None:
    """Attach the chart to ``msg``'s HTML body as an inline image (multipart/related).

    Call after the HTML alternative is added; the HTML must refer to ``chart.src``. Mail
    clients show it without loading anything remote.
    """
    html = msg.get_body(preferencelist=("html",))
    if not isinstance(html, MIMEPart):
        raise ValueError("the message has no HTML body to attach the chart to")
    html.add_related(
        chart.png,
        maintype="image",
        subtype="png",
        cid=f"<{chart.cid}>",
        disposition="inline",
        filename="trends.png",
    )
