"""Planning and queueing alert rows: one per (recipient, watch, story), ever."""

from datetime import timedelta
from pathlib import Path

from newsradar.alerts import MatchedArticle, plan_alerts
from newsradar.alerts.outbox import alert_id
from newsradar.store import open_writer
from newsradar.store.alerts import load_copies, queue_alerts
from tests.alerts.support import NOW, WATCHLIST, alert_rows, article, make_config, seed

TWO_RECIPIENTS = WATCHLIST.replace(
    'terms = ["North Korea"]',
    'terms = ["North Korea"]\nrecipients = ["desk@example.org", "analyst@example.org"]',
)


def test_one_row_per_recipient_watch_story(tmp_path: Path) -> None:
    config = make_config(tmp_path, watchlist=TWO_RECIPIENTS)
    a = article("a1")
    rows = plan_alerts(config, [MatchedArticle(a, ("nato", "north-korea", "nato"))], NOW)
    keys = sorted((r.recipient, r.watch_id, r.story_id, r.kind) for r in rows)
    assert keys == [
        ("analyst@example.org", "nato", "a1", "match"),
        ("analyst@example.org", "north-korea", "a1", "match"),
        ("desk@example.org", "north-korea", "a1", "match"),
    ]
    assert all(
        r.id == alert_id(*k)
        for r, k in zip(sorted(rows, key=lambda r: (r.recipient, r.watch_id)), keys, strict=True)
    )


def test_same_story_in_one_batch_is_planned_once_with_the_first_article(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    first, copy = article("a1", story_id="s1"), article("a2", story_id="s1", feed_id="daily")
    rows = plan_alerts(
        config, [MatchedArticle(first, ("nato",)), MatchedArticle(copy, ("nato",))], NOW
    )
    assert [(r.story_id, r.article_id) for r in rows] == [("s1", "a1")]


def test_unknown_watch_and_update_kind(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    rows = plan_alerts(config, [MatchedArticle(article("a1"), ("gone", "nato"), True)], NOW)
    assert [(r.watch_id, r.kind) for r in rows] == [("nato", "update")]


def test_due_at_follows_the_recipients_mode(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        alerts='recipients = ["analyst@example.org"]\ndelivery = "daily at 09:00"\n'
        'timezone = "Europe/Berlin"\n',
        watchlist=WATCHLIST.replace('terms = ["NATO"]', 'terms = ["NATO"]\ndelivery = "immediate"'),
    )
    rows = plan_alerts(config, [MatchedArticle(article("a1"), ("nato", "north-korea"))], NOW)
    due = {r.watch_id: r.due_at for r in rows}
    assert due["nato"] == NOW
    assert due["north-korea"] == NOW + timedelta(hours=1)  # 09:00 CET is 08:00 UTC


def test_nodup_across_passes_watches_and_syndicated_copies(tmp_path: Path) -> None:
    """RELIABILITY F35: same story, two watches, fetched again, republished with a new guid."""
    config = make_config(tmp_path)
    assert seed(config, [article("a1", story_id="s1")]) == 2
    # Next pass: the same article again, and another outlet's copy of the story.
    matched = [
        MatchedArticle(article("a1", story_id="s1"), ("nato", "north-korea")),
        MatchedArticle(article("a9", story_id="s1", feed_id="daily"), ("nato", "north-korea")),
    ]
    with open_writer(config.storage.database) as con:
        assert queue_alerts(con, plan_alerts(config, matched, NOW + timedelta(hours=1))) == 0
        assert queue_alerts(con, []) == 0
    assert [(r[0], r[1], r[2]) for r in alert_rows(config)] == [
        ("analyst@example.org", "nato", "s1"),
        ("analyst@example.org", "north-korea", "s1"),
    ]


def test_an_update_of_another_copy_does_not_alert_a_story_again(tmp_path: Path) -> None:
    """A copy in an alerted story, edited so that it newly fires the watch: no second alert."""
    config = make_config(tmp_path)
    assert seed(config, [article("a1", story_id="s1")]) == 2
    copy = article("a9", story_id="s1", feed_id="daily")
    later = NOW + timedelta(hours=1)
    with open_writer(config.storage.database) as con:
        rows = plan_alerts(config, [MatchedArticle(copy, ("nato", "north-korea"), True)], later)
        assert queue_alerts(con, rows) == 0
    assert [(r[1], r[2]) for r in alert_rows(config)] == [("nato", "s1"), ("north-korea", "s1")]


def test_a_recipient_written_with_another_domain_case_is_one_recipient(tmp_path: Path) -> None:
    # Domains are case-insensitive: the override applies, and the mailbox is named one way.
    config = make_config(
        tmp_path,
        alerts='recipients = ["boss@example.org"]\n'
        'delivery_by_recipient = { "boss@EXAMPLE.org" = "daily at 07:30" }\n',
        watchlist=WATCHLIST.replace(
            'terms = ["North Korea"]', 'terms = ["North Korea"]\nrecipients = ["boss@Example.ORG"]'
        ),
    )
    rows = plan_alerts(config, [MatchedArticle(article("a1"), ("nato", "north-korea"))], NOW)
    assert [(r.recipient, r.due_at) for r in rows] == [
        ("boss@example.org", NOW + timedelta(minutes=30)),
        ("boss@example.org", NOW + timedelta(minutes=30)),
    ]


def test_copies_of_a_story_come_oldest_first_capped_and_without_bodies(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    copies = [
        article(f"c{i}", story_id="s1", feed_id="daily", fetched_at=NOW + timedelta(minutes=i))
        for i in (3, 1, 2)
    ]
    seed(config, [article("lead", story_id="s1"), *copies, article("other", story_id="s2")])
    with open_writer(config.storage.database) as con:
        got = load_copies(con, ["s1"], limit=2)
    # The limit counts links besides the lead, which comes along (the digest drops it).
    assert [a.id for a in got] == ["lead", "c1", "c2"]
    assert {(a.story_id, a.feed_title, a.text, a.summary) for a in got[1:]} == {
        ("s1", "The Daily Planet", None, None)
    }
