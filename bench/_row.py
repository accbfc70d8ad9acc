"""One report row in the format ``bench/__main__`` collects (see the brief's protocol)."""

from __future__ import annotations

from typing import Any


def row(
    stage: str, measure: str, value: float, baseline_name: str, baseline: float | None, **kw: Any
) -> dict[str, Any]:
    """``kw`` carries ``unit``, ``target``, ``met`` and ``notes``; the ratio is computed here."""
    return {
        "stage": stage,
        "measure": measure,
        "newsradar": round(value, 4),
        "baseline_name": baseline_name,
        "baseline": round(baseline, 4) if baseline is not None else None,
        "ratio": round(value / baseline, 3) if baseline else None,
        **kw,
    }
