"""``write_atomic``: the previous file or the new one, never a part; modes and links kept."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsradar.atomic import replace_durably, write_atomic
from tests.limits import run_file_size_limited

ORIGINAL = b'[[feed]]\nname = "calm"\nurl = "https://calm.example.org/feed"\n'


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("umask_027")
def test_a_new_file_gets_the_umask_mode_like_a_plain_open(tmp_path: Path) -> None:
    target = tmp_path / "new.toml"
    write_atomic(target, "Südbaden\n")
    assert target.read_bytes() == "Südbaden\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["new.toml"]


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o755])
def test_replacing_keeps_the_permission_bits(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "feeds.toml"
    target.write_bytes(ORIGINAL)
    target.chmod(mode)
    write_atomic(target, b"new\x00bytes")
    assert target.read_bytes() == b"new\x00bytes"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere" / "feeds.toml"
    real.parent.mkdir()
    real.write_bytes(ORIGINAL)
    link = tmp_path / "feeds.toml"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert os.listdir(real.parent) == ["feeds.toml"]


def test_a_write_the_disk_refuses_half_way_leaves_the_original_whole(tmp_path: Path) -> None:
    target = tmp_path / "feeds.toml"
    target.write_bytes(ORIGINAL)
    target.chmod(0o640)
    # A child whose files may not grow past the original: the new contents fail part way.
    code = (
        "import sys; from pathlib import Path; from newsradar.atomic import write_atomic\n"
        "try:\n    write_atomic(Path(sys.argv[1]), 'x' * 100_000)\n"
        "except OSError as exc:\n    print(exc.errno)"
    )
    done = run_file_size_limited(["-c", code, str(target)], limit=len(ORIGINAL))
    assert done.stdout.strip() == str(errno.EFBIG), done.stderr
    assert target.read_bytes() == ORIGINAL
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["feeds.toml"]  # the temporary file is gone


def test_a_rename_that_fails_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.mkdir()  # a directory in the way: the rename fails after the data was written
    (target / "kept").write_text("mine")
    with pytest.raises(IsADirectoryError):
        write_atomic(target, "<html>")
    assert os.listdir(tmp_path) == ["report.html"]
    assert (target / "kept").read_text() == "mine"


def test_a_missing_directory_is_the_callers_to_make(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no-such-dir" / "x.eml", b"mail")
    assert os.listdir(tmp_path) == []


def test_replace_durably_moves_a_finished_file_over_the_target(tmp_path: Path) -> None:
    partial, final = tmp_path / ".articles.csv.partial", tmp_path / "articles.csv"
    partial.write_text("id\n1\n")
    final.write_text("id\n0\n")
    replace_durably(partial, final)
    assert final.read_text() == "id\n1\n" and not partial.exists()
