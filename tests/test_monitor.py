"""Watching the watcher: the pass summary for the Prefect UI and mail to the operator."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from newsradar.config import Config, load_config
from newsradar.monitor import (
    OperatorNotice,
    check_pass,
    kv,
    md_escape,
    notify_operator,
    operator_notices,
    summary_markdown,
)
from newsradar.pipeline import RunSummary
from newsradar.store.activity import StoreActivity
from tests.conftest import SmtpSink, write_config
from tests.sample_site import WATCHLIST

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NEVER = StoreActivity(None, None)


def summary(
    ok: tuple[str, ...] = ("wire",), failed: tuple[tuple[str, str, str], ...] = ()
) -> RunSummary:
    return RunSummary(
        run_id="20261129T120000-abcd", feeds_ok=ok, feeds_failed=failed, feeds_skipped=0,
        entries_new=2, articles_stored=2, matches_per_watch={"nato": 1, "north-korea": 2},
        alerts_sent=3, alerts_failed=0, alerts_pending=0, deliveries=(), seconds=1.5,
    )  # fmt: skip


def settings(operator: str | None = "ops@example.org", extra: str = "") -> str:
    line = f'operator = "{operator}"\n' if operator else ""
    return (
        '[storage]\ndatabase = "data/newsradar.duckdb"\n\n'
        f'[alerts]\noutbox_dir = "data/outbox"\n{line}\n'
        f"[schedule]\nstale_hours = 6\n\n{extra}"
    )


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST, settings=settings()))


def test_the_summary_lists_failing_feeds_matches_and_alerts() -> None:
    text = summary_markdown(summary(failed=(("dw", "http_5xx", "503 from https://dw.example"),)))

    assert "| dw | http\\_5xx | 503 from https://dw.example |" in text
    assert "| north-korea | 2 |\n| nato | 1 |" in text
    assert "alerts sent: **3**" in text


def test_hostile_feed_text_stays_inert_in_the_markdown() -> None:
    hostile = "<script>alert(1)</script> | [click](javascript:x)\n# heading"
    text = summary_markdown(summary(failed=(("evil", "parse_error", hostile),)))

    row = next(line for line in text.splitlines() if line.startswith("| evil"))
    assert "<script>" not in row and "[click](" not in row
    assert row.count(" | ") == 2  # the pipe inside the message does not open a column
    assert md_escape("a\nb") == "a b"


def test_log_lines_are_key_value_pairs() -> None:
    assert (
        kv("feed_failed", feed_id="dw", detail="503 gone")
        == 'feed_failed feed_id=dw detail="503 gone"'
    )


@pytest.mark.parametrize(
    ("ok", "failed", "activity", "kinds"),
    [
        (("a",), (), StoreActivity(NOW - timedelta(days=9), NOW - timedelta(hours=1)), []),
        ((), (("a", "dns", "x"), ("b", "timeout", "y")), NEVER, ["all_feeds_failed"]),
        (("a",), (("b", "dns", "x"),), NEVER, []),
        ((), (), NEVER, []),  # nothing was due: not a failure
        (("a",), (), StoreActivity(NOW - timedelta(days=9), NOW - timedelta(hours=7)),
         ["nothing_stored"]),
        (("a",), (), StoreActivity(NOW - timedelta(hours=7), None), ["nothing_stored"]),
        (("a",), (), StoreActivity(NOW - timedelta(hours=5), None), []),
        ((), (("a", "dns", "x"),), StoreActivity(NOW - timedelta(days=2), NOW - timedelta(days=1)),
         ["all_feeds_failed", "nothing_stored"]),
    ],
)  # fmt: skip
def test_operator_notices(
    config: Config,
    ok: tuple[str, ...],
    failed: tuple[tuple[str, str, str], ...],
    activity: StoreActivity,
    kinds: list[str],
) -> None:
    notices = operator_notices(config, summary(ok, failed), activity, NOW)
    assert [n.kind for n in notices] == kinds


DOWN = OperatorNotice("all_feeds_failed", "newsradar: every feed failed", "All 2 feeds failed")


def test_the_operator_hears_once_per_period_and_again_when_a_problem_returns(
    config: Config,
) -> None:
    outbox = config.alerts.outbox_dir

    first = notify_operator(config, [DOWN], NOW)
    again = notify_operator(config, [DOWN], NOW + timedelta(hours=1))
    later = notify_operator(config, [DOWN], NOW + timedelta(hours=7))
    notify_operator(config, [], NOW + timedelta(hours=8))  # fixed
    back = notify_operator(config, [DOWN], NOW + timedelta(hours=9))

    assert (len(first), len(again), len(later), len(back)) == (1, 0, 1, 1)
    mails = sorted(outbox.glob("*.eml"))
    assert len(mails) == 3
    msg = message_from_bytes(mails[0].read_bytes())
    assert msg["To"] == "ops@example.org"
    assert msg["Subject"] == "newsradar: every feed failed"


def test_without_an_operator_nothing_is_sent(tmp_path: Path) -> None:
    cfg = load_config(
        write_config(tmp_path, feeds="", watchlist=WATCHLIST, settings=settings(operator=None))
    )
    assert notify_operator(cfg, [DOWN], NOW) == []
    assert not cfg.alerts.outbox_dir.exists()


def test_operator_mail_goes_through_smtp_when_configured(
    tmp_path: Path, smtp_server: tuple[Controller, SmtpSink]
) -> None:
    controller, sink = smtp_server
    smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {controller.port}\ntls = "none"\n'
    cfg = load_config(
        write_config(tmp_path, feeds="", watchlist=WATCHLIST, settings=settings(extra=smtp))
    )

    assert len(notify_operator(cfg, [DOWN], NOW)) == 1

    assert [(to, msg["Subject"]) for _, to, msg in sink.messages] == [
        (["ops@example.org"], "newsradar: every feed failed")
    ]


def test_a_broken_mail_path_does_not_raise(tmp_path: Path) -> None:
    smtp = '[smtp]\nhost = "127.0.0.1"\nport = 9\ntls = "none"\ntimeout = 2\n'
    cfg = load_config(
        write_config(tmp_path, feeds="", watchlist=WATCHLIST, settings=settings(extra=smtp))
    )

    assert notify_operator(cfg, [DOWN], NOW) == []
    # Not recorded as sent, so the next pass tries again.
    assert notify_operator(cfg, [DOWN], NOW + timedelta(minutes=15)) == []
    assert (
        "all_feeds_failed" not in (cfg.storage.database.with_suffix(".operator.json")).read_text()
    )


def test_a_state_file_that_cannot_be_written_does_not_fail_the_pass(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    # Something else took the state file's name: the notice goes out, the failure is one line.
    state = config.storage.database.with_suffix(".operator.json")
    state.mkdir(parents=True)

    assert len(notify_operator(config, [DOWN], NOW)) == 1

    assert "operator_state_unsaved" in caplog.text
    assert [p.name for p in state.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_held_database_skips_the_silence_check_but_not_the_outage(tmp_path: Path) -> None:
    text = settings().replace(
        'database = "data/newsradar.duckdb"',
        'database = "data/newsradar.duckdb"\nlock_timeout = 0.2',
    )
    cfg = load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST, settings=text))
    cfg.storage.database.parent.mkdir(parents=True)
    # An analyst's session holds the file for the whole check.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]);"
         " print('held', flush=True); sys.stdin.read()", str(cfg.storage.database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        down = summary(ok=(), failed=(("a", "dns", "no such host"),))

        sent = check_pass(cfg, down, NOW)
    finally:
        holder.communicate("", timeout=10)

    assert len(sent) == 1 and "every feed failed" in Path(sent[0]).read_text()
