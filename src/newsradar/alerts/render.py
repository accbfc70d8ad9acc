"""Rendering a :class:`~newsradar.alerts.digest.Digest` to text and HTML with Jinja2.

The HTML template is autoescaped (every value in a digest came from outside); the text template
is not HTML and is rendered without escaping. Links were reduced to http(s) by the digest.

    >>> text, html = render_digest(digest)            # doctest: +SKIP
"""

from __future__ import annotations

import base64
from functools import cache

import jinja2

from newsradar.alerts.digest import Digest

__all__ = ["render_digest", "render_html", "render_text"]


def _autoescape(name: str | None) -> bool:
    # Escape everything except the plain-text template: failing safe for new templates.
    return not (name or "").endswith(".txt.j2")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("newsradar.alerts", "templates"),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_text(digest: Digest) -> str:
    return _environment().get_template("digest.txt.j2").render(digest=digest)


def render_html(digest: Digest, *, inline_chart: bool = False) -> str:
    """The HTML body; ``inline_chart`` embeds the chart as a data: URI (for a browser preview)."""
    src = f"cid:{digest.chart_cid}"
    if inline_chart and digest.chart_png:
        src = "data:image/png;base64," + base64.b64encode(digest.chart_png).decode("ascii")
    return _environment().get_template("digest.html.j2").render(digest=digest, chart_src=src)


def _encodable(text: str) -> str:
    # Last line of defence: a lone surrogate anywhere would make the mail unencodable.
    return text.encode("utf-8", "replace").decode("utf-8")


def render_digest(digest: Digest) -> tuple[str, str]:
    """The plain-text and HTML bodies of one digest (the chart, if any, as a cid: reference)."""
    return _encodable(render_text(digest)), _encodable(render_html(digest))
