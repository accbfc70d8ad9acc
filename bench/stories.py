"""Story clustering benchmark: near-duplicates found, false merges, and speed.

Rows:
1. Recall on synthetic syndication: each AEB article body re-published with another outlet's
   boilerplate (a header and a footer from other pages' text) or trimmed to its first 70%;
   the share of copies that join the original's story.
2. Reuters-21578 (19,043 newswires, re-sent and corrected wires included): duplicate pairs
   found by ``StoryIndex`` vs by exact content hash (the only dedup a feed reader without
   clustering has), and the share of merged pairs whose exact shingle Jaccard is >= 0.4 or
   containment >= 0.7 (a precision proxy; the rest are mostly templated market reports).
3. Articles assigned per second.

Run: ``python -m bench.stories [--quick]``.
"""

from __future__ import annotations

import gzip
import html
import re
import sys
import time
from typing import Any

from bench._aeb import aeb_dir, load_truth, shared_dir
from bench._row import row
from newsradar.dedup import StoryIndex, _shingle_hashes
from newsradar.identity import EMPTY_HASH, content_hash


def _row(measure: str, value: float, name: str, base: float | None, **kw: Any) -> dict[str, Any]:
    return row("stories", measure, value, name, base, **kw)


def _syndication_recall() -> tuple[float, int]:
    bodies = [t for t in load_truth(aeb_dir()).values() if len(t.split()) >= 60]
    index = StoryIndex()
    for i, body in enumerate(bodies):
        index.assign(f"orig{i}", body)
    joined = total = 0
    for i, body in enumerate(bodies):
        donor = bodies[(i + 1) % len(bodies)].split()
        boiler = " ".join(donor[:40]), " ".join(donor[-40:])
        words = body.split()
        copies = [f"{boiler[0]}\n{body}\n{boiler[1]}", " ".join(words[: len(words) * 7 // 10])]
        for copy in copies:
            total += 1
            joined += index.find(copy) == f"orig{i}"
    return joined / total, total


def _reuters(limit: int | None) -> dict[str, float]:
    root = shared_dir() / "corpus" / "reuters21578"
    docs: list[str] = []
    for path in sorted(root.glob("reut2-*.sgm.gz")):
        raw = gzip.decompress(path.read_bytes()).decode("latin-1")
        docs += [html.unescape(m.group(1)) for m in re.finditer(r"<BODY>(.*?)</BODY>", raw, re.S)]
    docs = docs[:limit] if limit else docs
    index = StoryIndex()
    story_of: dict[int, str] = {}
    t0 = time.perf_counter()
    for i, doc in enumerate(docs):
        story_of[i] = index.assign(str(i), doc)[0]
    seconds = time.perf_counter() - t0
    first_with_hash: dict[str, int] = {}
    hash_pairs = 0
    for i, doc in enumerate(docs):
        h = content_hash(doc)
        if h != EMPTY_HASH:
            hash_pairs += h in first_with_hash
            first_with_hash.setdefault(h, i)
    merged = [(int(s), i) for i, s in story_of.items() if s != str(i)]
    plausible = 0
    for lead, member in merged:
        a, b = (set(_shingle_hashes(docs[k]).tolist()) for k in (lead, member))
        common = len(a & b)
        if common / len(a | b) >= 0.4 or common / min(len(a), len(b)) >= 0.7:
            plausible += 1
    return {
        "docs": len(docs),
        "pairs": len(merged),
        "hash_pairs": hash_pairs,
        "precision": plausible / len(merged) if merged else 1.0,
        "per_second": len(docs) / seconds,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    recall, copies = _syndication_recall()
    reuters = _reuters(4000 if quick else None)
    return [
        _row(
            "share of syndicated copies joining the original's story (higher is better)",
            recall,
            "exact content hash",
            0.0,
            unit="share",
            target=">= 0.95",
            met=recall >= 0.95,
            notes=f"{copies} synthetic copies of AEB bodies: other boilerplate, or trimmed to 70%",
        ),
        _row(
            "Reuters-21578 duplicate pairs found (higher is better)",
            reuters["pairs"],
            "exact content hash",
            reuters["hash_pairs"],
            unit="pairs",
            target=">= 1x",
            met=reuters["pairs"] >= reuters["hash_pairs"],
            notes=(
                f"{reuters['docs']:.0f} wires; {reuters['precision']:.1%} of merged pairs have "
                "exact shingle Jaccard >= 0.4 or containment >= 0.7"
            ),
        ),
        _row(
            "articles assigned to stories per second (higher is better)",
            reuters["per_second"],
            "",
            None,
            unit="articles/s",
            target=">= 500",
            met=reuters["per_second"] >= 500,
            notes="one core, index growing to all wires",
        ),
    ]


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
