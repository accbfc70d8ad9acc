"""Extractors the pool tests send to worker processes (module level, so they pickle by name).

Each behaves like ``extract_page`` except on marker bodies that only tests produce.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from newsradar.extract import ExtractedPage, extract_page


def misbehaving_extract(html: bytes, url: str | None = None, **kw: Any) -> ExtractedPage:
    if html == b"HANG":
        while True:  # a busy loop, like a regex or tree walk that never ends
            time.sleep(0.01)
    if html == b"CRASH":
        os.kill(os.getpid(), signal.SIGKILL)
    if html == b"HOG":
        hog = bytearray(4 * 1024**3)  # 4 GB: far over any cap the tests set
        return ExtractedPage(text=str(len(hog)))
    if html == b"RAISE":
        raise ValueError("extractor bug")
    if html == b"LIMIT":
        import resource

        return ExtractedPage(text=str(resource.getrlimit(resource.RLIMIT_AS)[0]))
    if html.startswith(b"ECHO"):
        return ExtractedPage(text=html.decode())  # a result as large as the page
    if html == b"STOPLIST":  # trafilatura's lazy justext cache, as the worker starts
        from trafilatura import external

        return ExtractedPage(text=str(len(getattr(external, "JT_STOPLIST", None) or ())))
    if html == b"PID":
        return ExtractedPage(text=str(os.getpid()))
    return extract_page(html, url, **kw)
