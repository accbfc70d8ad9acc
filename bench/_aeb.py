"""The Article Extraction Benchmark metric (scrapinghub/article-extraction-benchmark).

Written from the corpus' ``SCORING_NOTES.md``: ``\\w+`` tokens, word 4-gram shingles as
multisets, per-document (tp, fp, fn) normalised to sum 1, corpus precision and recall as means
over documents, F1 as the harmonic mean of those two means.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "aeb_dir",
    "load_pages",
    "load_urls",
    "load_predictions",
    "load_truth",
    "score",
    "shared_dir",
]

_TOKEN = re.compile(r"\w+")


def shared_dir() -> Path:
    """``../shared`` next to the repository, or ``$NEWSRADAR_SHARED``."""
    override = os.environ.get("NEWSRADAR_SHARED")
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[1]
    # A worktree sits one level deeper (/work/wt/<name>); look upwards for the first match.
    for parent in repo.parents:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared"
    return repo.parent / "shared"


def aeb_dir() -> Path:
    return shared_dir() / "corpus" / "aeb"


def load_truth(root: Path) -> dict[str, str]:
    data = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: item["articleBody"] for key, item in data.items()}


def load_urls(root: Path) -> dict[str, str]:
    data = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: item["url"] for key, item in data.items()}


def load_predictions(path: Path) -> dict[str, str]:
    """A system's output file: the bare mapping or ``{"version", "output": mapping}``."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if "output" in data and isinstance(data["output"], dict):
        data = data["output"]
    return {key: (item.get("articleBody") or "") for key, item in data.items()}


def load_pages(root: Path, ids: list[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """(page id, raw HTML bytes) for every page (or the given ids), in sorted order."""
    wanted = sorted(ids) if ids is not None else sorted(load_truth(root))
    for key in wanted:
        yield key, gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _document(truth: str, pred: str) -> tuple[float, float, float]:
    t, p = _shingles(truth), _shingles(pred)
    tp = sum(min(c, p[s]) for s, c in t.items())
    fp = sum(max(c - t[s], 0) for s, c in p.items())
    fn = sum(max(c - p[s], 0) for s, c in t.items())
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def score(truth: Mapping[str, str], predictions: Mapping[str, str]) -> dict[str, float]:
    """Corpus precision, recall, F1 and accuracy, as the AEB's evaluate.py computes them."""
    precisions: list[float] = []
    recalls: list[float] = []
    exact = 0
    for key, true_text in truth.items():
        pred = predictions.get(key, "")
        tp, fp, fn = _document(true_text, pred)
        if fp == 0 and fn == 0:
            prec = rec = 1.0
        else:
            prec = tp / (tp + fp) if tp + fp > 0 else 0.0
            rec = tp / (tp + fn) if tp + fn > 0 else 0.0
        if tp + fp > 0:
            precisions.append(prec)
        if tp + fn > 0:
            recalls.append(rec)
        exact += _TOKEN.findall(true_text) == _TOKEN.findall(pred)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"precision": p, "recall": r, "f1": f1, "accuracy": exact / max(len(truth), 1)}
