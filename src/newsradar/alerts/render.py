"""Rendering a :class:`~newsradar.alerts.digest.Digest` to text and HTML with Jinja2.

The HTML template is autoescaped (every value in a digest came from outside); the text template
is not HTML and is rendered without escaping. Links were reduced to http(s) by the digest.

    >>> text, html = render_digest(digest)            # doctest: +SKIP
"""

from __future__ import annotations

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


def render_html(digest: Digest) -> str:
    return _environment().get_template("digest.html.j2").render(digest=digest)


def render_digest(digest: Digest) -> tuple[str, str]:
    """The plain-text and HTML bodies of one digest."""
    return render_text(digest), render_html(digest)
