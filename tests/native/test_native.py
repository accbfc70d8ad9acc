"""newsradar.native: the compiled hot path is used only while it matches the sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import newsradar
from newsradar import native
from newsradar.native.build import closure

SOURCES = Path(newsradar.__file__).parents[1]
FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A package's sources and a build of them, recorded as native.build does."""
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "hot.py").write_text("X = 1\n")
    (tmp_path / "src" / "pkg" / "used.py").write_text("Y = 2\n")
    where = tmp_path / "build"
    (where / "newsradar").mkdir(parents=True)
    for module in native.modules(where):
        module.write_bytes(b"")
    record = native.sources(["pkg/hot.py", "pkg/used.py"], tmp_path / "src")
    (where / native.RECORD).write_text(json.dumps(record))
    return tmp_path / "src" / "pkg", where


@pytest.fixture(autouse=True)
def _keep_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "status", native.status)
    monkeypatch.delenv(native.DISABLE, raising=False)


def test_a_current_build_goes_first_on_the_search_path(tree: tuple[Path, Path]) -> None:
    package, where = tree
    path = [str(package)]
    assert native.activate(path, where) == "compiled with mypyc" == native.status
    assert path == [str(where / "newsradar"), str(package)]


@pytest.mark.parametrize("edit", ["change", "delete"])
def test_an_edited_source_is_never_shadowed_by_an_old_build(
    tree: tuple[Path, Path], edit: str
) -> None:
    package, where = tree
    if edit == "change":
        (package / "used.py").write_text("Y = 3\n")
    else:
        (package / "used.py").unlink()
    path = [str(package)]
    status = native.activate(path, where)
    assert path == [str(package)]
    assert status.startswith("pure Python (sources changed") and "make install" in status


@pytest.mark.parametrize("record", [None, "{not json", '["a list"]', '{"pkg/hot.py": 1}'])
def test_a_missing_or_damaged_record_means_pure_python(
    tree: tuple[Path, Path], record: str | None
) -> None:
    package, where = tree
    if record is None:
        (where / native.RECORD).unlink()
    else:
        (where / native.RECORD).write_text(record)
    path = [str(package)]
    assert native.activate(path, where) == "pure Python (not compiled: run `make install`)"
    assert path == [str(package)]


def test_a_build_missing_a_module_is_not_used_at_all(tree: tuple[Path, Path]) -> None:
    # Half compiled, half pure would give two classes of one name: all or nothing.
    package, where = tree
    native.modules(where)[1].unlink()
    path = [str(package)]
    assert native.activate(path, where) == "pure Python (not compiled: run `make install`)"
    assert path == [str(package)]


def test_the_switch_turns_a_current_build_off(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    package, where = tree
    monkeypatch.setenv(native.DISABLE, "1")
    path = [str(package)]
    assert "NEWSRADAR_PURE_PYTHON is set" in native.activate(path, where)
    assert path == [str(package)]


def test_the_record_covers_every_newsradar_module_the_hot_path_imports() -> None:
    files = closure(SOURCES, native.MODULES)
    # The compiled modules, what they import directly, and what those import in turn.
    assert {"newsradar/match.py", "newsradar/scanner.py", "newsradar/config.py"} <= set(files)
    assert "newsradar/query.py" in files  # through newsradar.compiler
    assert "newsradar/errors.py" in files  # through newsradar.config
    assert not any(f.startswith("newsradar/cli/") for f in files)
    # Imported inside config's validators only: never reached from compiled code.
    assert "newsradar/alerts/message.py" not in files
    assert all((SOURCES / f).is_file() for f in files)


WATCHLIST = """
[[watch]]
id = "prefix"
terms = ["transfer*", "Korean*"]
[[watch]]
id = "case"
terms = ['cs("China")', 'cs("US")', "NATO", "IS"]
[[watch]]
id = "korea"
terms = ["Korea", "Korean"]
exclude = ["North Korea"]
[[watch]]
id = "punct"
terms = ["U.S.", "AT&T", "Kim Jong Un"]
[[watch]]
id = "nospace"
terms = ["한국", "北约"]
[[watch]]
id = "arms"
query = '(arms OR weapon*) NEAR/5 (deliver* OR transfer*)'
[[watch]]
id = "both"
query = '@korea ONEAR/20 @case AND NOT body:(football)'
min_mentions = 2
"""

TEXT = """North Korea's Kim Jong-un met Russia’s leader; NATO-led talks in Seoul. The U.S. and
the Korean peninsula: 한국은 北约NATO. The ROK said transfers of arms were delivered. fine china,
US officials, us, Is it IS? Erdoğan, Türkiye. AT&T\u00a0said\u00adnothing. Kim Jong\nUn.
"""


def _match(tmp_path: Path, pure: bool) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != native.DISABLE}
    if pure:
        env[native.DISABLE] = "1"
    command = [sys.executable, "-m", "newsradar"]
    found = subprocess.run(
        [*command, "match", "--json", "--watchlist", str(tmp_path / "watchlist.toml")]
        + [str(tmp_path / "texts")],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    version = subprocess.run(
        [*command, "version"], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return found.stdout, version.stdout


def test_compiled_and_pure_python_find_the_same_mentions(tmp_path: Path) -> None:
    """Run in this environment, which `make` builds: compiled when a C compiler was there."""
    (tmp_path / "watchlist.toml").write_text(WATCHLIST)
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "mixed.txt").write_text(TEXT, encoding="utf-8")
    for fixture in FIXTURES.glob("*.txt"):
        (tmp_path / "texts" / fixture.name).write_bytes(fixture.read_bytes())
    default, default_version = _match(tmp_path, pure=False)
    pure, pure_version = _match(tmp_path, pure=True)
    assert f"matching engine: {native.status}" in default_version
    assert "matching engine: pure Python (NEWSRADAR_PURE_PYTHON is set)" in pure_version
    assert default == pure
    watches = {json.loads(line)["watch"] for line in pure.splitlines()}
    assert watches == {"prefix", "case", "korea", "punct", "nospace", "arms", "both"}
