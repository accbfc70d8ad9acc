"""A whole pass through the library stages (no Prefect) against loopback servers."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

import duckdb
import pytest

from newsradar import pipeline
from newsradar.config import Config, load_config
from newsradar.errors import StoreLockedError
from newsradar.maintenance import close_interrupted
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer, Request, Response
from tests.processes import run_as_main
from tests.sample_site import SEED, WATCHLIST, html_page, rss, serve_seed

ROOT = Path(__file__).resolve().parents[1]

SEED_WATCHES = {
    "nato", "north-korea", "south-korea", "japan", "china", "russia", "ukraine", "arms-transfers",
}  # fmt: skip


def run_pass(config: Config) -> pipeline.RunSummary:
    ctx = pipeline.begin_pass(config)
    polled = pipeline.poll_feeds(config, ctx)
    stored = pipeline.store_entries(config, ctx, polled)
    delivered = pipeline.deliver_alerts(config)
    return pipeline.finish_pass(config, ctx, polled, stored, delivered)


def feeds_toml(*feeds: tuple[str, str]) -> str:
    return "".join(f'[[feed]]\nname = "{n}"\nurl = "{u}"\n\n' for n, u in feeds)


@pytest.fixture
def seed_config(tmp_path: Path, http_server: LoopbackHTTPServer) -> Config:
    serve_seed(http_server)
    directory = write_config(
        tmp_path / "cfg",
        feeds=feeds_toml(("wire", http_server.url("/feed.xml"))),
        watchlist=WATCHLIST,
    )
    return load_config(directory)


def db(config: Config) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(config.storage.database), read_only=True)


def test_seed_story_is_stored_with_a_match_for_every_watch_it_mentions(
    seed_config: Config,
) -> None:
    summary = run_pass(seed_config)

    assert summary.feeds_ok == ("wire",)
    assert summary.articles_stored == 2
    with db(seed_config) as con:
        (article_id, text) = con.execute(
            "SELECT id, text FROM articles WHERE guid = 'seed-1'"
        ).fetchone() or ("", "")
        watches = {
            w for (w,) in con.execute(
                "SELECT DISTINCT watch_id FROM matches WHERE article_id = ?", [article_id]
            ).fetchall()
        }  # fmt: skip
        spans = con.execute(
            'SELECT "start", "end", text FROM matches WHERE article_id = ? AND field = \'body\'',
            [article_id],
        ).fetchall()
        football = con.execute(
            "SELECT count(*) FROM matches m JOIN articles a ON a.id = m.article_id"
            " WHERE a.guid = 'sport-1'"
        ).fetchone()
    assert watches == SEED_WATCHES
    assert "direct arms transfers" in text and "Stoltenberg" in text
    assert all(text[s:e] == t for s, e, t in spans)
    assert football == (0,)
    assert summary.matches_per_watch.keys() == SEED_WATCHES


def test_second_pass_over_unchanged_feeds_stores_and_sends_nothing(seed_config: Config) -> None:
    first = run_pass(seed_config)
    outbox = seed_config.alerts.outbox_dir
    mails = sorted(outbox.iterdir())
    assert first.alerts_sent > 0 and len(mails) == 1

    second = run_pass(seed_config)

    assert (second.entries_new, second.articles_stored, second.alerts_sent) == (0, 0, 0)
    assert sorted(outbox.iterdir()) == mails
    with db(seed_config) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (2,)
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM runs").fetchone() == (2, 2)
    message = message_from_bytes(mails[0].read_bytes())
    assert message["To"] == "analyst@example.org"
    assert "nato" in str(message["Subject"])


def test_failed_feed_is_reported_and_the_others_still_run(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    serve_seed(http_server)
    http_server.route("/gone.xml", b"gone", status=410)
    config = load_config(
        write_config(
            tmp_path,
            feeds=feeds_toml(
                ("gone", http_server.url("/gone.xml")), ("wire", http_server.url("/feed.xml"))
            ),
            watchlist=WATCHLIST,
        )
    )

    summary = run_pass(config)

    assert summary.feeds_ok == ("wire",)
    assert [(f, k) for f, k, _ in summary.feeds_failed] == [("gone", "http_4xx")]
    with db(config) as con:
        row = con.execute(
            "SELECT error_class, consecutive_failures, http_status FROM feeds WHERE id = 'gone'"
        ).fetchone()
        events = con.execute("SELECT stage, kind FROM events WHERE subject = 'gone'").fetchall()
    assert row == ("http_4xx", 1, 410)
    assert events == [("fetch", "http_4xx")]


def test_non_html_article_falls_back_to_the_feed_summary(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    http_server.route(
        "/report.pdf", b"%PDF-1.7 binary", headers={"Content-Type": "application/pdf"}
    )
    http_server.route(
        "/feed.xml",
        "<rss version='2.0'><channel><title>t</title><item><guid>pdf-1</guid>"
        f"<title>Report on NATO</title><link>{http_server.url('/report.pdf')}</link>"
        "<description>Pyongyang and NATO in a PDF</description></item></channel></rss>",
        headers={"Content-Type": "application/rss+xml"},
    )
    config = load_config(
        write_config(
            tmp_path, feeds=feeds_toml(("wire", http_server.url("/feed.xml"))), watchlist=WATCHLIST
        )
    )

    run_pass(config)

    with db(config) as con:
        row = con.execute("SELECT text, text_source, status FROM articles").fetchone()
        watches = con.execute("SELECT DISTINCT watch_id FROM matches ORDER BY 1").fetchall()
    assert row == ("Pyongyang and NATO in a PDF", "feed", "unsupported_content_type")
    assert watches == [("nato",), ("north-korea",)]


def _hold_lock(
    path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:
    con = duckdb.connect(path)
    ready.set()
    done.wait(30)
    con.close()


def test_a_pass_waits_for_a_held_database_then_fails_cleanly_and_loses_nothing(
    seed_config: Config,
) -> None:
    run_pass(seed_config)  # creates the database
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(seed_config.storage.database), ready, done))
    holder.start()
    try:
        assert ready.wait(30)
        quick = seed_config.model_copy(
            update={"storage": seed_config.storage.model_copy(update={"lock_timeout": 0.5})}
        )
        with pytest.raises(StoreLockedError, match="locked by process"):
            pipeline.begin_pass(quick)
    finally:
        done.set()
        holder.join(30)
    again = run_pass(seed_config)
    assert again.articles_stored == 0
    with db(seed_config) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (2,)


def test_digest_goes_to_the_smtp_server_once_per_recipient(
    tmp_path: Path, http_server: LoopbackHTTPServer, smtp_server: tuple[object, object]
) -> None:
    controller, sink = smtp_server
    serve_seed(http_server)
    settings = (
        '[storage]\ndatabase = "db.duckdb"\n[alerts]\noutbox_dir = "outbox"\n'
        'recipients = ["a@example.org", "b@example.org"]\n'
        '[fetch]\nallow_networks = ["127.0.0.1/32"]\nmin_host_delay = 0\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {controller.port}\ntls = "none"\n'  # type: ignore[attr-defined]
        'sender = "radar@example.org"\n'
    )
    config = load_config(
        write_config(
            tmp_path,
            feeds=feeds_toml(("wire", http_server.url("/feed.xml"))),
            watchlist=WATCHLIST,
            settings=settings,
        )
    )

    run_pass(config)
    run_pass(config)

    received = sink.messages  # type: ignore[attr-defined]
    assert sorted(r for _, rcpts, _ in received for r in rcpts) == [
        "a@example.org",
        "b@example.org",
    ]
    assert not config.alerts.outbox_dir.exists()
    assert all("Stoltenberg" in m.get_payload(decode=False) or True for *_, m in received)
    assert SEED  # the fixture is the real seed text


def test_a_database_taken_mid_pass_advances_no_feed_state_and_the_next_pass_stores_it_all(
    seed_config: Config, http_server: LoopbackHTTPServer
) -> None:
    """RELIABILITY D28: an analyst opens the file while the pass fetches its pages. The pass
    gives up at its first write; the feed's state is not advanced, so the next pass fetches
    the same entries again and stores everything, once."""
    database = seed_config.storage.database
    holders: list[subprocess.Popen[str]] = []
    page = html_page("NATO chief visits South Korea and Japan", SEED).encode()

    def analyst_opens_the_file(request: Request) -> Response:
        if not holders:
            holder = subprocess.Popen(
                [sys.executable, "-m", "tests.store.holder", str(database), "read", "0"],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            holders.append(holder)
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    http_server.route("/seed.html", handler=analyst_opens_the_file)
    quick = seed_config.model_copy(
        update={"storage": seed_config.storage.model_copy(update={"lock_timeout": 0.5})}
    )
    try:
        ctx = pipeline.begin_pass(quick)
        polled = pipeline.poll_feeds(quick, ctx)
        assert polled.new_entries == 2
        with pytest.raises(StoreLockedError, match="locked by process"):
            pipeline.store_entries(quick, ctx, polled)
    finally:
        for holder in holders:
            assert holder.stdin is not None and holder.stdout is not None
            holder.stdin.close()
            holder.wait(30)
            holder.stdout.close()
    assert len(holders) == 1
    with db(seed_config) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
        state = con.execute(
            "SELECT body_hash, etag, last_success_at, last_new_item_at FROM feeds"
        ).fetchone()
    assert state == (None, None, None, None), "the feed's state moved on without its entries"

    again = run_pass(seed_config)

    assert (again.entries_new, again.articles_stored) == (2, 2)
    assert again.alerts_sent == len(SEED_WATCHES)
    with db(seed_config) as con:
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchone() == (2, 2)
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM alerts").fetchone() == (
            len(SEED_WATCHES), len(SEED_WATCHES),
        )  # fmt: skip
        assert con.execute("SELECT body_hash IS NOT NULL FROM feeds").fetchone() == (True,)


@pytest.mark.parametrize(
    ("total", "size", "sizes"),
    [
        (0, 200, []),
        (10, 200, [10]),
        (30, 200, [25, 5]),
        (18, 4, [1, 2, 4, 4, 4, 2, 1]),
        (5, 1, [1, 1, 1, 1, 1]),
        (3000, 200, [25, 50, 100, *[200] * 13, 50, 100, 50, 25]),
    ],
)
def test_batches_ramp_up_and_down_and_cover_every_entry(
    total: int, size: int, sizes: list[int]
) -> None:
    assert pipeline.batch_sizes(total, size) == sizes
    assert sum(sizes) == total and all(0 < s <= size for s in sizes)


def test_small_batches_store_every_article_and_every_feeds_state(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    feeds = []
    for feed in ("east", "west"):
        items = []
        for i in range(9):
            path = f"/{feed}/{i}.html"
            text = f"Report {i} from the {feed} desk.\n" + f"Paragraph about topic {i}. " * 20
            http_server.route(
                path, html_page(f"{feed} {i}", text), headers={"Content-Type": "text/html"}
            )
            items.append((f"{feed}-{i}", f"{feed} {i}", http_server.url(path), "summary"))
        http_server.route(
            f"/{feed}.xml",
            rss(items),
            headers={"Content-Type": "application/rss+xml", "ETag": f'"{feed}"'},
        )
        feeds.append((feed, http_server.url(f"/{feed}.xml")))
    directory = write_config(tmp_path, feeds=feeds_toml(*feeds), watchlist=WATCHLIST)
    settings = (directory / "newsradar.toml").read_text()
    (directory / "newsradar.toml").write_text(
        settings.replace("lock_timeout = 5\n", "lock_timeout = 5\nbatch_size = 4\n")
    )
    config = load_config(directory)

    summary = run_pass(config)

    assert summary.articles_stored == 18
    with db(config) as con:
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchone() == (
            18,
            18,
        )
        assert con.execute(
            "SELECT count(*) FROM articles WHERE text LIKE '%Report % desk.%'"
        ).fetchone() == (18,)
        assert con.execute("SELECT id, etag FROM feeds ORDER BY id").fetchall() == [
            ("east", '"east"'),
            ("west", '"west"'),
        ]
    assert run_pass(config).articles_stored == 0


def test_a_retried_begin_reuses_its_passs_runs_row(tmp_path: Path) -> None:
    """An attempt of begin-pass that committed its row and then failed is retried with the same
    run id: the retry finds the row, neither marks it interrupted nor adds another."""
    config = load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST))
    run_id = pipeline.new_run_id(datetime.now(UTC))
    first = pipeline.begin_pass(config, run_id=run_id)  # committed, then the attempt failed

    assert close_interrupted(config, current=run_id) == 0  # the retry's first step
    again = pipeline.begin_pass(config, run_id=run_id)

    assert (first.run_id, again.run_id) == (run_id, run_id)
    assert again.started_at == first.started_at  # the row's start, not the retry's
    with db(config) as con:
        assert con.execute("SELECT id, status FROM runs").fetchall() == [(run_id, "running")]


def test_the_workers_forkserver_starts_ahead_of_any_pool_without_rerunning_main(
    tmp_path: Path,
) -> None:
    script = (
        "print('main ran', flush=True)\n"
        "import multiprocessing.forkserver as fs, threading\n"
        "from newsradar.pipeline import start_workers\n"
        "start_workers()\n"
        "for t in threading.enumerate():\n"
        "    if t.name == 'newsradar-parser-start': t.join()\n"
        "print(fs._forkserver._forkserver_pid, flush=True)\n"
    )
    ran, pid = run_as_main(tmp_path, script)
    assert ran == "main ran"
    assert int(pid) > 0  # the server existed before any extraction pool asked for it
