"""``python -m newsradar.native``: compile once, skip when current, never fail the install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import newsradar
from newsradar import native
from newsradar.native.build import build, closure

SOURCES = Path(newsradar.__file__).parents[1]


def test_a_current_build_is_not_compiled_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = native.sources(closure(SOURCES, native.MODULES), SOURCES)
    tmp_path.joinpath(native.RECORD).write_text(json.dumps(record))
    (tmp_path / "newsradar").mkdir()
    for module in native.modules(tmp_path):
        module.write_bytes(b"")
    assert build(tmp_path) is True
    assert "up to date" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newsradar", native.RECORD]


def test_a_failed_compile_says_so_and_leaves_pure_python(tmp_path: Path) -> None:
    """No working C compiler: one line, exit 0, no build, and the package still imports."""
    where = tmp_path / "native"
    # A record of these very sources, but no modules (a build cut short): not up to date.
    where.mkdir()
    record = native.sources(closure(SOURCES, native.MODULES), SOURCES)
    where.joinpath(native.RECORD).write_text(json.dumps(record))
    env = {**os.environ, "CC": "false", "LDSHARED": "false"}
    env.pop(native.DISABLE, None)
    script = (
        "from pathlib import Path; from newsradar.native.build import build; "
        f"build(Path({str(where)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "could not compile the matching engine" in done.stdout
    assert "it runs as pure Python" in done.stdout
    assert "up to date" not in done.stdout
    assert not any(module.exists() for module in native.modules(where))
