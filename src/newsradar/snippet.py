"""Context around a mention, cut at whole words, for alerts and the ``match`` command."""

from __future__ import annotations

import re

__all__ = ["snippet"]

_SPACE = re.compile(r"\s+")


def snippet(text: str, start: int, end: int, width: int = 160) -> str:
    """About ``width`` characters of ``text`` around ``[start, end)``, with … where cut.

    >>> snippet("The head of NATO also urged Seoul to approve arms transfers.", 12, 16, 30)
    '… head of NATO also urged …'
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    room = max(width - (end - start), 0)
    left = min(start, room // 2)
    right = min(len(text) - end, room - left)
    left = min(start, room - right)  # give the room the right side cannot use to the left
    first, last = start - left, end + right
    if first > 0:
        # Cut at the first space inside the window so no word is shown in half.
        gap = _SPACE.search(text, first, start)
        first = gap.end() if gap else start
    if last < len(text):
        gaps = list(_SPACE.finditer(text, end, last + 1))
        last = gaps[-1].start() if gaps else end
    body = _SPACE.sub(" ", text[first:last]).strip()
    return ("… " if first > 0 else "") + body + (" …" if last < len(text) else "")
