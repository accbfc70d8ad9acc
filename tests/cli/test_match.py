"""``newsradar match``: files in, mentions out, without a database."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from newsradar.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"
WATCHLIST = (
    '[[watch]]\nid = "nato"\nterms = ["NATO"]\n\n[[watch]]\nid = "seoul"\nterms = ["Seoul"]\n'
)
PAGE = """<html><head><title>NATO chief in Seoul</title></head><body><article>
<h1>NATO chief in Seoul</h1>
<p>The head of NATO arrived in Seoul on Sunday for talks with the government about
security in the region, arms and the war in Ukraine, officials said on Monday.</p>
<p>He is expected to travel on to Tokyo later in the week for further meetings.</p>
</article></body></html>"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "watchlist.toml").write_text(WATCHLIST)
    pages = tmp_path / "pages"
    (pages / "deeper").mkdir(parents=True)
    (pages / "story.txt").write_text("Talks in Seoul.\nNATO\u2019s chief", encoding="utf-8")
    (pages / "deeper" / "page.html").write_text(PAGE, encoding="utf-8")
    (pages / "ignored.md").write_text("NATO")
    return tmp_path


def test_json_lines_point_into_the_original_text(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["match", "--watchlist", str(files / "watchlist.toml"), "--json", str(files / "pages")]
    )
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    story = files / "pages" / "story.txt"
    text = story.read_text(encoding="utf-8")
    mine = [r for r in records if r["path"] == str(story)]
    assert [(r["watch"], r["field"], r["text"]) for r in mine] == [
        ("nato", "body", "NATO"),
        ("seoul", "body", "Seoul"),
    ]
    assert all(text[r["start"] : r["end"]] == r["text"] for r in mine)
    assert all(set(r) == {"path", "watch", "field", "start", "end", "text"} for r in records)
    html = [r for r in records if r["path"].endswith("page.html")]
    assert {(r["watch"], r["field"]) for r in html} >= {("nato", "title"), ("nato", "body")}
    assert not any(r["path"].endswith(".md") for r in records)


def test_table_output(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    story = files / "pages" / "story.txt"
    assert main(["match", "--watchlist", str(files / "watchlist.toml"), str(story)]) == 0
    out = capsys.readouterr().out
    assert "2 mention(s) in 1 file(s)" in out
    assert "seoul" in out and "9-14" in out


def test_default_watchlist_comes_from_the_config_dir(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = files / "pages" / "story.txt"
    assert main(["match", "--config", str(files), "--json", str(story)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_seed_story_with_the_example_watchlist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FIXTURES / "stoltenberg-asia-visit.txt", tmp_path / "seed.txt")
    watchlist = Path(__file__).parents[2] / "config" / "watchlist.toml"
    assert main(["match", "--watchlist", str(watchlist), "--json", str(tmp_path)]) == 0
    watches = {json.loads(line)["watch"] for line in capsys.readouterr().out.splitlines()}
    assert "united-states" in watches and "arms-transfers" in watches


def test_watchlist_error_exits_2_naming_file_watch_column_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "watchlist.toml"
    bad.write_text('[[watch]]\nid = "arms"\nquery = "(arms OR weapons NEAR/5 supply"\n')
    (tmp_path / "a.txt").write_text("arms")
    assert main(["match", "--watchlist", str(bad), str(tmp_path / "a.txt")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert str(bad) in err and "watch 'arms', column 1" in err and "add ')'" in err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("match", "rematch"):
        assert main([command, "--help"]) == 0
        assert "Example: newsradar " + command in " ".join(capsys.readouterr().out.split())


# (file name, bytes, mentions expected in it, what stderr says about it)
FILES = [
    ("utf8.txt", "T\u00fcrkiye and NATO".encode(), ["T\u00fcrkiye", "NATO"], ""),
    ("bom.txt", b"\xef\xbb\xbfNATO here", ["NATO"], ""),
    ("utf16.txt", "NATO in UTF-16".encode("utf-16"), ["NATO"], ""),
    ("latin1.txt", "NATO, T\u00fcrkiye".encode("latin-1"), ["NATO", "T\u00fcrkiye"], ""),
    ("empty.txt", b"", [], ""),
    ("elf.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 64 + b"NATO", [], "binary"),
    ("zip.html", b"PK\x03\x04" + b"\x00" * 64 + b"NATO", [], "binary"),
]


@pytest.mark.parametrize(("name", "data", "expected", "note"), FILES)
def test_files_are_decoded_or_skipped_with_a_note(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    data: bytes,
    expected: list[str],
    note: str,
) -> None:
    (tmp_path / "watchlist.toml").write_text('[[watch]]\nid = "w"\nterms = ["NATO", "Turkiye"]\n')
    (tmp_path / name).write_bytes(data)
    code = main(["match", "-w", str(tmp_path / "watchlist.toml"), "--json", str(tmp_path / name)])
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["text"] for r in records] == expected
    assert (note in err and name in err) if note else err == ""


def test_a_file_that_cannot_be_read_is_named_and_the_others_still_matched(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = files / "pages" / "locked.txt"
    locked.write_text("NATO")
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    code = main(["match", "-w", str(files / "watchlist.toml"), "--json", str(files / "pages")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "locked.txt" in err and "Permission denied" in err and "Traceback" not in err
    assert any(json.loads(line)["path"].endswith("story.txt") for line in out.splitlines())


def test_a_fifo_is_refused_not_waited_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "watchlist.toml").write_text(WATCHLIST)
    os.mkfifo(tmp_path / "pipe.txt")
    code = main(["match", "-w", str(tmp_path / "watchlist.toml"), str(tmp_path / "pipe.txt")])
    assert code == 1
    assert "pipe.txt" in capsys.readouterr().err


def test_json_lines_survive_unicode_line_separators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # str.splitlines() also splits at U+2028, U+2029 and NEL: each must stay escaped.
    (tmp_path / "watchlist.toml").write_text('[[watch]]\nid = "k"\nterms = ["Kim Jong Un"]\n')
    story = tmp_path / "story.txt"
    story.write_text("Kim\u2028Jong\u2029Un and Kim\x85Jong Un", encoding="utf-8")
    assert main(["match", "-w", str(tmp_path / "watchlist.toml"), "--json", str(story)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == ["Kim\u2028Jong\u2029Un", "Kim\x85Jong Un"]
