"""Baselines run trafilatura as it ships.

Importing ``newsradar.extract`` gives trafilatura's HTML parser lxml's C-level element class
lookup (a newsradar optimisation, see ``newsradar.extract._plain_element_classes``). The
benchmark process imports it, and pool workers forked from it would inherit the change, so
every baseline pool calls :func:`stock_trafilatura` in its initializer.
"""

from __future__ import annotations

import trafilatura.utils
from lxml.html import HtmlElementClassLookup

__all__ = ["stock_trafilatura"]


def stock_trafilatura() -> None:
    """Put back the element class lookup that ``lxml.html.HTMLParser`` starts with."""
    trafilatura.utils.HTML_PARSER.set_element_class_lookup(HtmlElementClassLookup())
