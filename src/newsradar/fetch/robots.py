"""robots.txt rules for article pages, decided once per origin per run.

The file is fetched with the same client, politeness and limits as everything else. A 4xx
means "no rules" (allow); a 5xx, a hang or an unreachable host means "disallow for this run",
as crawlers conventionally do. Files past the cap are cut there and parsed as far as read.
Rules are read as RFC 9309 says (protego): ``*`` and ``$`` are patterns and the longest
match wins; the standard library's parser takes both literally and stops at the first match,
so ``Allow: /`` before ``Disallow: /admin`` let every page through.
"""

from __future__ import annotations

from protego import Protego

from newsradar.errors import FetchError, TransientFetchError

__all__ = ["ROBOTS_CAP", "Rules", "rules_from_body", "rules_from_error"]

ROBOTS_CAP = 512 * 1024
AGENT = "newsradar"


class Rules:
    """Either a parsed robots.txt, or a blanket allow/deny."""

    def __init__(self, parser: Protego | None = None, *, allow: bool = True) -> None:
        self.parser = parser
        self.allow = allow
        self.reason = ""
        # robots.txt could not be read (5xx, timeout): no pages this run, but try again later.
        self.unavailable = False

    def allows(self, url: str) -> bool:
        if self.parser is None:
            return self.allow
        return self.parser.can_fetch(url, AGENT)


def rules_from_body(body: bytes) -> Rules:
    # utf-8-sig: a byte-order mark would otherwise glue itself to the first "User-agent".
    return Rules(Protego.parse(body.decode("utf-8-sig", "replace")))


def rules_from_error(exc: FetchError) -> Rules:
    """4xx allows everything; anything else (5xx, timeouts, blocked) disallows for this run."""
    if exc.kind == "http_4xx" and not isinstance(exc, TransientFetchError):
        return Rules(allow=True)
    rules = Rules(allow=False)
    rules.unavailable = True
    rules.reason = f"robots.txt could not be read ({exc.kind}); not fetching pages this run"
    return rules
