"""`newsradar feeds`, `feeds import` and `feeds export` as a user runs them."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsradar.cli import main
from newsradar.cli.app import console
from newsradar.config import load_config
from newsradar.models import FeedPoll
from newsradar.store import open_writer
from newsradar.store.feeds import save_polls, sync_feeds
from tests.conftest import write_config
from tests.limits import run_file_size_limited

WATCHLIST = '[[watch]]\nid = "nato"\nterms = ["NATO"]\n'
FEEDS = "".join(
    f'[[feed]]\nname = "{n}"\nurl = "https://{n}.example.org/feed"\n\n'
    for n in ("calm", "walled", "never")
)


def test_feeds_table_is_worst_first_with_a_diagnosis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 240)  # one line per feed, as on a wide terminal
    config = write_config(tmp_path, feeds=FEEDS, watchlist=WATCHLIST)
    cfg = load_config(config)
    now = datetime.now(UTC)
    message = "http_4xx: u: answered 403 from a bot wall (Cloudflare)"
    with open_writer(cfg.storage.database) as con:
        sync_feeds(con, cfg.feeds, datetime.now(UTC))
        save_polls(
            con,
            [
                FeedPoll("calm", now - timedelta(hours=1), "ok", 200, new_items=1),
                FeedPoll(
                    "walled", now, "failed", 403, error_class="http_4xx", error_message=message
                ),
            ],
            cfg.fetch,
        )
    assert main(["feeds", "--config", str(config)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.index("walled") < out.index("never") < out.index("calm")
    assert "403 from a bot wall: try a different" in out
    assert "failing" in out and "never polled" in out


def test_import_appends_and_export_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "cfg", feeds=FEEDS, watchlist=WATCHLIST)
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="New One" xmlUrl="https://new.example.org/rss"/>'
        '<outline text="Calm again" xmlUrl="https://calm.example.org/feed"/></body></opml>'
    )
    assert main(["feeds", "import", str(opml), "--config", str(config)]) == 0
    assert "Added 1 feeds" in capsys.readouterr().out
    assert [f.name for f in load_config(config).feeds] == ["calm", "walled", "never", "new-one"]
    assert main(["feeds", "export", "--config", str(config)]) == 0
    exported = capsys.readouterr().out
    assert exported.count("<outline") == 4 and 'xmlUrl="https://new.example.org/rss"' in exported


def test_import_of_a_missing_or_broken_file_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "cfg", feeds=FEEDS, watchlist=WATCHLIST)
    assert main(["feeds", "import", str(tmp_path / "nope.opml"), "--config", str(config)]) == 1
    (tmp_path / "bad.opml").write_text("<opml")
    assert main(["feeds", "import", str(tmp_path / "bad.opml"), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "nope.opml" in err and "bad.opml" in err and "Traceback" not in err


def stored_config(directory: Path, *configured: int) -> Path:
    """A configuration whose database stored FEEDS, then saw only the feeds ``configured``."""
    config = write_config(directory, feeds=FEEDS, watchlist=WATCHLIST)
    cfg = load_config(config)
    with open_writer(cfg.storage.database) as con:
        sync_feeds(con, cfg.feeds, datetime.now(UTC))
        sync_feeds(con, [cfg.feeds[i] for i in configured], datetime.now(UTC))
    return config


def test_export_refuses_to_overwrite_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stored_config(tmp_path / "cfg", 0, 1, 2)
    cfg = load_config(config)
    before = cfg.storage.database.read_bytes()
    code = main(["feeds", "export", "--config", str(config), "-o", str(cfg.storage.database)])
    assert code == 2
    assert "is the database" in capsys.readouterr().err
    assert cfg.storage.database.read_bytes() == before


def test_export_to_a_path_that_cannot_be_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "cfg", feeds=FEEDS, watchlist=WATCHLIST)
    target = tmp_path / "no-such-dir" / "feeds.opml"
    assert main(["feeds", "export", "--config", str(config), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    assert f"cannot write {target}" in err


def test_import_never_reuses_the_name_of_a_removed_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A feed taken out of feeds.toml keeps its row and articles under its name, and "comes
    # back as it was" with that name: an unrelated feed imported under it would inherit them.
    config = stored_config(tmp_path / "cfg", 0, 1)  # "never" removed from feeds.toml
    (config / "feeds.toml").write_text(FEEDS.split('[[feed]]\nname = "never"')[0])
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="Never" xmlUrl="https://other.example.org/rss"/>'
        '<outline text="Back again" xmlUrl="https://NEVER.example.org/feed"/></body></opml>'
    )
    assert main(["feeds", "import", str(opml), "--config", str(config)]) == 0
    added = {f.url: f.name for f in load_config(config).feeds[2:]}
    # The removed feed's own URL brings it back under its name, as it was.
    assert added == {
        "https://other.example.org/rss": "never-2",
        "https://NEVER.example.org/feed": "never",
    }


def subscriptions(directory: Path, count: int) -> Path:
    opml = directory / "subs.opml"
    outlines = "".join(
        f'<outline text="Wire {i}" xmlUrl="https://wire{i}.example.org/rss"/>' for i in range(count)
    )
    opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>')
    return opml


def test_import_the_disk_refuses_leaves_feeds_toml_as_it_was(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", feeds=FEEDS, watchlist=WATCHLIST)
    feeds = config / "feeds.toml"
    feeds.chmod(0o640)
    before, listing = feeds.read_bytes(), sorted(os.listdir(config))
    opml = subscriptions(tmp_path, 20)
    # The new feeds.toml may not grow past the old one: the write fails half way, as on a
    # disk that fills up during it.
    done = run_file_size_limited(
        ["-m", "newsradar", "feeds", "import", str(opml), "--config", str(config)],
        limit=len(before) + 16,
    )
    assert feeds.read_bytes() == before
    assert sorted(os.listdir(config)) == listing  # no temporary file left behind
    assert stat.S_IMODE(feeds.stat().st_mode) == 0o640
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"cannot write {feeds}" in lines[0] and "File too large" in lines[0]
    assert "feeds.toml is unchanged" in lines[0]


def test_import_keeps_the_mode_and_the_link_of_feeds_toml(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", feeds=FEEDS, watchlist=WATCHLIST)
    # A configuration kept elsewhere (dotfiles) and linked in: the link must stay a link.
    real = tmp_path / "dotfiles" / "feeds.toml"
    real.parent.mkdir()
    (config / "feeds.toml").rename(real)
    (config / "feeds.toml").symlink_to(real)
    real.chmod(0o600)
    assert main(["feeds", "import", str(subscriptions(tmp_path, 2)), "--config", str(config)]) == 0
    assert (config / "feeds.toml").is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert [f.name for f in load_config(config).feeds][-2:] == ["wire-0", "wire-1"]
    assert sorted(os.listdir(real.parent)) == ["feeds.toml"]
