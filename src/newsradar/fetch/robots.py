"""robots.txt rules for article pages, decided once per origin per run.

The file is fetched with the same client, politeness and limits as everything else. A 4xx
means "no rules" (allow); a 5xx, a hang or an unreachable host means "disallow for this run",
as crawlers conventionally do. Files past the cap are cut there and parsed as far as read.
"""

from __future__ import annotations

from urllib.robotparser import RobotFileParser

from newsradar.errors import FetchError, TransientFetchError

__all__ = ["ROBOTS_CAP", "Rules", "rules_from_body", "rules_from_error"]

ROBOTS_CAP = 512 * 1024
AGENT = "newsradar"


class Rules:
    """Either a parsed robots.txt, or a blanket allow/deny."""

    def __init__(self, parser: RobotFileParser | None = None, *, allow: bool = True) -> None:
        self.parser = parser
        self.allow = allow
        self.reason = ""
        # robots.txt could not be read (5xx, timeout): no pages this run, but try again later.
        self.unavailable = False

    def allows(self, url: str) -> bool:
        if self.parser is None:
            return self.allow
        return self.parser.can_fetch(AGENT, url)


def rules_from_body(body: bytes) -> Rules:
    parser = RobotFileParser()
    # utf-8-sig: a byte-order mark would otherwise glue itself to the first "User-agent".
    parser.parse(body.decode("utf-8-sig", "replace").splitlines())
    return Rules(parser)


def rules_from_error(exc: FetchError) -> Rules:
    """4xx allows everything; anything else (5xx, timeouts, blocked) disallows for this run."""
    if exc.kind == "http_4xx" and not isinstance(exc, TransientFetchError):
        return Rules(allow=True)
    rules = Rules(allow=False)
    rules.unavailable = True
    rules.reason = f"robots.txt could not be read ({exc.kind}); not fetching pages this run"
    return rules
