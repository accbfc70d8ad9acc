"""``newsradar rematch``: backtest a watchlist edit on stored articles, then apply it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from newsradar.cli import main
from newsradar.config import load_config
from newsradar.runlock import run_lock
from newsradar.store import open_writer
from tests.conftest import write_config

V1 = '[[watch]]\nid = "nato"\nterms = ["NATO"]\n\n[[watch]]\nid = "korea"\nterms = ["Korea"]\n'
V2 = (
    '[[watch]]\nid = "nato"\nterms = [\'cs("NATO")\']\n\n'
    '[[watch]]\nid = "korea"\nterms = ["Korea"]\n\n'
    '[[watch]]\nid = "missiles"\nterms = ["missile*"]\n'
)
ARTICLES = [
    ("a1", "NATO summit opens", "Leaders gather.", datetime(2026, 1, 5, tzinfo=UTC)),
    ("a2", "North Korea test", "It fired two missiles.", datetime(2026, 1, 10, tzinfo=UTC)),
    ("a3", "Nato allies meet", "A meeting.", datetime(2025, 12, 1, tzinfo=UTC)),
]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = write_config(tmp_path / "cfg", feeds="", watchlist=V1)
    cfg = load_config(directory)
    with open_writer(cfg.storage.database) as con:
        for article_id, title, text, published in ARTICLES:
            con.execute(
                "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text,"
                " published_at, fetched_at, text_source, status, content_hash, story_id)"
                " VALUES (?, 'f', ?, '', '', ?, ?, ?, ?, 'page', 'ok', ?, ?)",
                [article_id, article_id, title, text, published, published, article_id, article_id],
            )
    return directory


def stored(directory: Path) -> list[tuple[str, str, str, str, int, int, str]]:
    database = load_config(directory).storage.database
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            'SELECT watch_id, article_id, rule_hash, field, "start", "end", text FROM matches'
            " ORDER BY watch_id, article_id"
        ).fetchall()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_rematch_reports_then_replaces_changed_watches(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rematch", "--config", str(config_dir)]) == 0
    first = stored(config_dir)
    assert [(w, a, f, s, e, t) for w, a, _, f, s, e, t in first] == [
        ("korea", "a2", "title", 6, 11, "Korea"),
        ("nato", "a1", "title", 0, 4, "NATO"),
        ("nato", "a3", "title", 0, 4, "Nato"),
    ]
    capsys.readouterr()

    (config_dir / "watchlist.toml").write_text(V2)
    assert main(["rematch", "--config", str(config_dir), "--dry-run"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[1]: line.split()[2:] for line in out.splitlines() if "│" in line}
    assert rows["nato"] == ["│", "edited", "│", "2", "│", "1", "│", "+0", "│", "-1", "│"]
    assert rows["korea"] == ["│", "same", "│", "1", "│", "1", "│", "+0", "│", "-0", "│"]
    assert rows["missiles"] == ["│", "new", "│", "0", "│", "1", "│", "+1", "│", "-0", "│"]
    assert "nothing written" in out
    assert stored(config_dir) == first

    assert main(["rematch", "--config", str(config_dir), "--since", "2026-01-01"]) == 0
    after = stored(config_dir)
    old_nato_hash = next(r[2] for r in first if r[0] == "nato")
    by_key = {(r[0], r[1]): r for r in after}
    assert set(by_key) == {("korea", "a2"), ("missiles", "a2"), ("nato", "a1"), ("nato", "a3")}
    assert by_key[("nato", "a1")][2] != old_nato_hash  # re-stored under the new rule
    assert by_key[("nato", "a3")][2] == old_nato_hash  # before --since: left alone
    assert by_key[("missiles", "a2")][3:] == ("body", 13, 21, "missiles")
    assert by_key[("korea", "a2")] == next(r for r in first if r[0] == "korea")
    assert "replaced the matches of 2 changed watch(es) over 2 article(s)" in " ".join(
        capsys.readouterr().out.split()
    )


def test_rematch_without_a_database_is_one_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = write_config(tmp_path / "cfg", feeds="", watchlist=V1)
    assert main(["rematch", "--config", str(directory)]) == 1
    assert "does not exist yet" in capsys.readouterr().err


def test_rematch_waits_for_a_running_pass_then_gives_up_in_one_line(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = config_dir / "newsradar.toml"
    settings.write_text(settings.read_text().replace("lock_timeout = 5", "lock_timeout = 0.2"))
    (config_dir / "watchlist.toml").write_text(V2)
    database = load_config(config_dir).storage.database
    with run_lock(database.with_suffix(".lock")):
        assert main(["rematch", "--config", str(config_dir)]) == 1
        err = capsys.readouterr().err
        assert "another pass" in err
        assert "rematch was skipped" in err
        assert stored(config_dir) == []
        # A dry run only reads: it does not wait.
        assert main(["rematch", "--config", str(config_dir), "--dry-run"]) == 0
    assert main(["rematch", "--config", str(config_dir)]) == 0
    assert {row[0] for row in stored(config_dir)} == {"nato", "korea", "missiles"}


def test_rematch_after_retention_keeps_the_matches_of_pruned_bodies(tmp_path: Path) -> None:
    directory = write_config(tmp_path / "cfg", feeds="", watchlist=V1)
    cfg = load_config(directory)
    at = datetime(2026, 1, 5, tzinfo=UTC)
    with open_writer(cfg.storage.database) as con:
        # "pruned": a page body that retention cleared; "brief": the feed's text was the body.
        for article_id, summary, source in [
            ("pruned", "Leaders gather.", "page"),
            ("brief", "NATO and Korea talks.", "feed"),
        ]:
            con.execute(
                "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, summary,"
                " text, published_at, fetched_at, text_source, status, content_hash, story_id)"
                " VALUES (?, 'f', ?, '', '', 'Talks', ?, NULL, ?, ?, ?, 'ok', ?, ?)",
                [article_id, article_id, summary, at, at, source, article_id, article_id],
            )
        con.execute(
            "INSERT INTO matches VALUES ('pruned', 'nato', 'old', 'body', 40, 44, 'NATO', 's', ?)",
            [at],
        )

    assert main(["rematch", "--config", str(directory)]) == 0

    # The pruned body cannot be matched again: its stored mention stays as it was. The brief's
    # body is its feed text, still stored as the summary, so it is matched again.
    assert [(w, a, h == "old", f, s) for w, a, h, f, s, _, _ in stored(directory)] == [
        ("korea", "brief", False, "body", 9),
        ("nato", "brief", False, "body", 0),
        ("nato", "pruned", True, "body", 40),
    ]
