"""Imported once by the extraction pool's forkserver, before it forks any worker.

trafilatura fills some caches on first use: building the union of justext's stoplists alone
takes about 0.2 s of CPU. Filled here, every worker starts with them, instead of paying on its
first pages and again after each retirement (every 1,000 pages).
"""

from __future__ import annotations

from trafilatura import external

from newsradar.extract import extract_page

__all__ = ["warm"]

_SAMPLE = (
    "<html><head><title>Warm-up</title></head><body><article>"
    + "".join(
        f"<p>Paragraph {i} of a page that exists only to warm the caches.</p>" for i in range(8)
    )
    + "</article></body></html>"
).encode()


def warm() -> None:
    """Fill trafilatura's lazy caches (another trafilatura without them is left alone)."""
    init = getattr(external, "jt_stoplist_init", None)
    if callable(init) and not getattr(external, "JT_STOPLIST", None):
        init()
    extract_page(_SAMPLE)


warm()
