"""``newsradar alerts preview|send`` and the configuration checks behind them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsradar.cli import main
from newsradar.demo.__main__ import free_port
from newsradar.errors import ConfigError
from newsradar.runlock import run_lock
from tests.alerts.support import (
    WATCHLIST,
    ProgrammableSink,
    alert_rows,
    article,
    make_config,
    seed,
    smtp_server,
)


def test_preview_writes_html_and_marks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "cfg", alerts='recipients = ["analyst@example.org"]\n'
                         'delivery = "weekly"\n')  # fmt: skip
    seed(config, [article("a1", title="<script>x</script> NATO")])
    out = tmp_path / "preview.html"
    code = main(["alerts", "preview", "-c", str(config.directory), "-o", str(out)])
    assert code == 0
    html = out.read_text()
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert (
        "newsradar: 1 story for NATO, North Korea → analyst@example.org" in capsys.readouterr().out
    )
    assert {(r[3], r[5]) for r in alert_rows(config)} == {("pending", None)}


def test_preview_with_nothing_pending(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path / "cfg")
    seed(config, [])
    args = ["alerts", "preview", "-c", str(config.directory), "-r", "nobody@example.org"]
    assert main(args) == 0
    assert "no pending alerts for nobody@example.org" in capsys.readouterr().out


def test_send_delivers_then_has_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "cfg")
    seed(config, [article("a1")], now=datetime.now(UTC))
    assert main(["alerts", "send", "-c", str(config.directory)]) == 0
    out = capsys.readouterr().out
    assert "alerts sent: 2, retrying: 0, failed: 0, pending: 0" in out and ".eml" in out
    assert main(["alerts", "send", "-c", str(config.directory)]) == 0
    assert "no alerts due; nothing sent" in capsys.readouterr().out


def test_send_exits_1_when_delivery_is_blocked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server(ProgrammableSink()) as server:
        smtp = f'host = "127.0.0.1"\nport = {server.port}\ntls = "starttls"\n'
        config = make_config(tmp_path / "cfg", smtp=smtp)
        seed(config, [article("a1")], now=datetime.now(UTC))
        assert main(["alerts", "send", "-c", str(config.directory)]) == 1
    captured = capsys.readouterr()
    assert "pending: 2" in captured.out
    assert "blocked: SMTP server 127.0.0.1" in captured.err
    assert "does not offer STARTTLS" in captured.err


def test_send_waits_for_a_running_pass_then_gives_up_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "cfg", lock_timeout=0.2)
    seed(config, [article("a1")], now=datetime.now(UTC))
    with run_lock(config.storage.database.with_suffix(".lock")):
        assert main(["alerts", "send", "-c", str(config.directory)]) == 1
    assert "another pass" in capsys.readouterr().err
    assert {r[3] for r in alert_rows(config)} == {"pending"}


@pytest.mark.parametrize("command", [["alerts"], ["alerts", "preview"], ["alerts", "send"]])
def test_help_has_an_example(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    assert "Example: newsradar alerts" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("alerts", "watch_extra", "needle"),
    [
        ('recipients = ["not an address"]\n', "", "alerts.recipients"),
        ('recipients = ["a@example.org\\r\\nBcc: x@example.org"]\n', "", "not a mail address"),
        ('delivery = "fortnightly"\n', "", "alerts.delivery"),
        ('delivery_by_recipient = { "a@example.org" = "daily at 31:00" }\n', "", "not a time"),
        ('timezone = "Mars/Olympus"\n', "", "alerts.timezone"),
        ("", 'delivery = "sometimes"\n', "watch 'nato'.delivery"),
        ("", 'recipients = ["x"]\n', "watch 'nato'.recipients"),
    ],
)
def test_bad_alert_settings_name_the_key(
    tmp_path: Path, alerts: str, watch_extra: str, needle: str
) -> None:
    watchlist = WATCHLIST.replace('terms = ["NATO"]\n', f'terms = ["NATO"]\n{watch_extra}')
    with pytest.raises(ConfigError) as info:
        make_config(tmp_path, alerts=alerts, watchlist=watchlist)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("smtp", "needle"),
    [
        ('host = "127.0.0.1"\nport = {port}\ntls = "none"\n', "127.0.0.1:{port}"),
        ("", "check [alerts] outbox_dir"),
    ],
    ids=["smtp-refuses-connections", "outbox-is-a-file"],
)
def test_send_says_why_alerts_wait_for_a_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], smtp: str, needle: str
) -> None:
    port = free_port()  # nothing listens there
    config = make_config(tmp_path / "cfg", smtp=smtp.format(port=port))
    seed(config, [article("a1")], now=datetime.now(UTC))
    config.alerts.outbox_dir.write_text("a file where the outbox directory should be")

    assert main(["alerts", "send", "-c", str(config.directory)]) == 0

    captured = capsys.readouterr()
    assert "retrying: 2" in captured.out
    lines = [line for line in captured.err.splitlines() if line.startswith("will retry: ")]
    assert len(lines) == 1, captured.err
    assert needle.format(port=port) in lines[0]


def test_preview_to_a_path_that_cannot_be_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "cfg")
    seed(config, [article("a1")])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code = main(["alerts", "preview", "-c", str(config.directory), "-o", str(blocker / "x.html")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "internal error" not in err
    assert f"cannot write the preview to {blocker / 'x.html'}" in err and "--output" in err


def test_preview_finds_a_recipient_written_as_in_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "cfg", alerts='recipients = ["analyst@bücher.example"]\n')
    seed(config, [article("a1")])
    out = tmp_path / "preview.html"
    argv = ["alerts", "preview", "-c", str(config.directory), "-o", str(out)]
    assert main([*argv, "--recipient", "analyst@Bücher.example"]) == 0
    assert "→ analyst@xn--bcher-kva.example" in capsys.readouterr().out and out.exists()


def test_preview_refuses_to_overwrite_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "cfg", alerts='recipients = ["analyst@example.org"]\n'
                         'delivery = "weekly"\n')  # fmt: skip
    seed(config, [article("a1")])
    database = config.storage.database
    before = database.read_bytes()
    code = main(["alerts", "preview", "-c", str(config.directory), "-o", str(database)])
    assert code == 2
    assert "is the database" in capsys.readouterr().err
    assert database.read_bytes() == before
    assert {r[3] for r in alert_rows(config)} == {"pending"}


def test_send_before_any_pass_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A mistyped --config or database path must not leave an empty database behind.
    config = make_config(tmp_path / "cfg")
    assert main(["alerts", "send", "-c", str(config.directory)]) == 1
    assert "does not exist yet" in capsys.readouterr().err
    assert not config.storage.database.exists()
    assert not config.storage.database.parent.exists()


def test_preview_for_an_empty_recipient_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "cfg")
    seed(config, [])
    assert main(["alerts", "preview", "-c", str(config.directory), "-r", " "]) == 2
    assert "--recipient" in capsys.readouterr().err
