"""``newsradar run``'s end-of-pass report."""

from __future__ import annotations

from newsradar.cli.app import console
from newsradar.cli.run import print_summary
from newsradar.pipeline import RunSummary


def test_failed_feed_details_from_servers_are_never_read_as_markup() -> None:
    # The detail quotes what a server sent (here its Content-Type): Rich markup in it must be
    # shown as written, not turned into styles or a terminal hyperlink.
    hostile = "image/[red]png[/red] [link=https://evil.example]x[/link]"
    summary = RunSummary(
        run_id="r", feeds_ok=(), feeds_failed=(("f", "not_a_feed", f"not_a_feed: {hostile}"),),
        feeds_skipped=0, entries_new=0, articles_stored=0, matches_per_watch={"[i]w[/i]": 1},
        alerts_sent=0, alerts_failed=0, alerts_pending=0, deliveries=(), seconds=0.1,
        alert_problems=(),
    )  # fmt: skip
    with console.capture() as captured:
        print_summary(summary)
    # The table wraps long cells: compare without spaces and cell borders.
    text = "".join(c for c in captured.get() if not c.isspace() and c != "│")
    assert "[red]png[/red]" in text and "[link=https://evil.example]" in text
    assert "[i]w[/i]" in text
