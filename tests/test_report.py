import re
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsradar.config import Config, load_config
from newsradar.errors import ConfigError, NewsradarError
from newsradar.report import collect_report, render_report, write_report
from newsradar.store import open_reader, open_writer
from tests.trends_data import HOSTILE_TITLE, build_trends_db, trends_config_text

LAST = date(2026, 11, 28)
SPIKE_DAY = LAST - timedelta(days=6)
NOW = datetime.combine(LAST, time(18, 0), tzinfo=UTC)


class Resources(HTMLParser):
    """Everything in a page that a browser could fetch, and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[tuple[str, str, str]] = []
        self.links: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            value = value or ""
            if tag == "a" and name == "href":
                self.links.append(value)
            elif name in ("src", "srcset", "href", "xlink:href", "data", "poster", "action"):
                self.fetched.append((tag, name, value))
            elif name == "style" and "url(" in value:
                self.fetched.append((tag, name, value))


def make_config(tmp_path: Path, **build: object) -> Config:
    database = tmp_path / "trends.duckdb"
    if build.get("days") != 0:
        build_trends_db(database, last_day=LAST, **build)  # type: ignore[arg-type]
    else:
        with open_writer(database, lock_timeout=5):
            pass
    directory = tmp_path / "config"
    directory.mkdir()
    for name, text in trends_config_text(database).items():
        (directory / name).write_text(text)
    return load_config(directory)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, str]:
    config = make_config(tmp_path_factory.mktemp("report"), spike_day=SPIKE_DAY)
    output = config.directory / "out" / "trends.html"
    write_report(config, output, days=30, now=NOW)
    return config, output.read_text()


def test_report_is_self_contained(planted: tuple[Config, str]) -> None:
    _, html = planted
    page = Resources()
    page.feed(html)
    for tag, attr, value in page.fetched:
        # Only in-document references: SVG ids ("#p1a2b") and inline data.
        assert value.startswith(("#", "data:")), (tag, attr, value)
        assert not re.search(r"https?://", value), (tag, attr, value)
    # The same by pattern, inside tags only (escaped feed text may say "src=https://").
    assert not re.search(r"""<[^<>]*\ssrc\s*=\s*["']?\s*https?://""", html, re.I)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html and "url(http" not in html.replace(" ", "")
    assert "default-src 'none'" in html  # and the browser is told so
    assert page.tags.count("svg") == 3  # one chart per watch, inline


def test_report_shows_the_spike_and_counts_stories(planted: tuple[Config, str]) -> None:
    _, html = planted
    assert f"Spike on {SPIKE_DAY}:</span> 25 stories" in html
    assert "spike: 25" in html  # the annotation inside the NATO chart
    assert "Top outlets" in html and "Deutsche Welle" in html
    assert "Watches on the same story" in html


def test_hostile_feed_text_is_escaped_and_bad_links_are_not_links(
    planted: tuple[Config, str],
) -> None:
    _, html = planted
    assert HOSTILE_TITLE not in html
    assert "&lt;script&gt;alert(" in html
    assert "<img" not in html
    page = Resources()
    page.feed(html)
    assert all(link.startswith(("https://news.example/", "#watch-")) for link in page.links)
    assert "javascript:" not in html


def test_empty_database_gives_a_report_that_says_so(tmp_path: Path) -> None:
    config = make_config(tmp_path, days=0)
    with open_reader(config.storage.database, lock_timeout=5) as con:
        report = collect_report(con, config, start=LAST - timedelta(days=13), end=LAST, now=NOW)
    assert [w.series.total for w in report.watches] == [0, 0, 0]
    assert any("No stories matched" in note for note in report.notes)
    assert any("holds no stories yet" in note for note in report.notes)
    html = render_report(report)
    assert "holds no stories yet" in html and html.count("<svg") == 3


def test_young_database_reports_counts_without_judging(tmp_path: Path) -> None:
    config = make_config(tmp_path, days=5)
    output = tmp_path / "young.html"
    report = write_report(config, output, days=14, now=NOW, watch_ids=["nato"])
    assert [w.id for w in report.watches] == ["nato"]
    assert report.watches[0].series.total > 0 and report.watches[0].scan.spikes == ()
    (note,) = report.notes
    assert "5 days of history" in note and "needs 14 days" in note
    html = output.read_text()
    assert "Watches on the same story" not in html  # one watch: no table
    assert "before monitoring began" in html  # the days before the first fetch are shaded


def test_unknown_watch_names_the_ones_that_exist(tmp_path: Path) -> None:
    config = make_config(tmp_path, days=2)
    with pytest.raises(ConfigError) as info:
        write_report(config, tmp_path / "x.html", watch_ids=["natto"], now=NOW)
    assert "natto" in str(info.value) and "nato, dprk, arms" in str(info.value)
    assert not (tmp_path / "x.html").exists()


def test_an_output_that_cannot_be_written_names_the_file_and_the_fix(tmp_path: Path) -> None:
    config = make_config(tmp_path, days=2)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(NewsradarError) as info:
        write_report(config, blocker / "x.html", now=NOW)
    assert str(info.value).startswith(f"cannot write the report to {blocker / 'x.html'}: ")
    assert "--output" in str(info.value)
