"""The benchmark runner: discovery, one child process per stage, and a report that survives
stages that fail."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from bench.__main__ import discover, render, run_stage, shared_dir

STAGES = {
    "ok": (
        "def run(quick):\n"
        "    return [{'stage': 'ok', 'measure': 'speed (higher is better)', 'newsradar': 3.0,\n"
        "             'baseline_name': 'plain loop', 'baseline': 2.0, 'ratio': 1.5,\n"
        "             'unit': 'items/s', 'target': '>= 1x', 'met': True,\n"
        "             'notes': 'quick' if quick else 'full'}]\n"
    ),
    "partial": "def run(quick):\n    return [{'measure': 'only a measure'}]\n",
    "boom": "def run(quick):\n    raise ValueError('corpus file missing: /x/y.json')\n",
    "crash": "import os\n\ndef run(quick):\n    os._exit(3)\n",
    "slow": "import time\n\ndef run(quick):\n    time.sleep(60)\n",
    "wrong": "def run(quick):\n    return {'not': 'a list'}\n",
}


@pytest.fixture
def fake_bench(tmp_path: Path) -> dict[str, str]:
    package = tmp_path / "fakebench"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in STAGES.items():
        (package / f"{name}.py").write_text(source)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}


def test_discover_finds_stage_modules_in_report_order(tmp_path: Path) -> None:
    for name in ("pipeline", "zeta", "matching", "alpha"):
        (tmp_path / f"{name}.py").write_text("def run(quick: bool) -> list[dict]:\n    return []\n")
    (tmp_path / "_site.py").write_text("def run(quick):\n    return []\n")
    (tmp_path / "aeb.py").write_text("def score(truth, predictions):\n    return {}\n")
    (tmp_path / "other.py").write_text("def run(path):\n    return []\n")

    assert discover(tmp_path) == ["matching", "alpha", "zeta", "pipeline"]


def test_a_stage_that_works_reports_its_rows(fake_bench: dict[str, str]) -> None:
    result = run_stage("ok", quick=True, timeout=60, package="fakebench", env=fake_bench)

    assert result.status == "ok", result.error
    assert result.rows[0]["ratio"] == 1.5 and result.rows[0]["notes"] == "quick"


def test_rows_missing_keys_are_completed_and_flagged(fake_bench: dict[str, str]) -> None:
    result = run_stage("partial", quick=False, timeout=60, package="fakebench", env=fake_bench)

    assert result.status == "ok", result.error
    (row,) = result.rows
    assert row["stage"] == "partial" and row["ratio"] is None
    assert "row lacked" in row["notes"] and "baseline" in row["notes"]


@pytest.mark.parametrize(
    ("name", "timeout", "reason"),
    [
        ("boom", 60, "ValueError: corpus file missing: /x/y.json"),
        ("crash", 60, "exited with code 3"),
        ("slow", 1.5, "timed out after 2 s"),
        ("wrong", 60, "returned dict, not list[dict]"),
    ],
)
def test_a_failing_stage_becomes_a_failed_section(
    fake_bench: dict[str, str], name: str, timeout: float, reason: str
) -> None:
    result = run_stage(name, quick=True, timeout=timeout, package="fakebench", env=fake_bench)

    assert result.status == "failed"
    assert result.error is not None and reason in result.error


def test_report_puts_ratios_first_and_keeps_failed_stages(fake_bench: dict[str, str]) -> None:
    stages = [
        run_stage(n, quick=True, timeout=60, package="fakebench", env=fake_bench)
        for n in ("ok", "boom")
    ]
    report = {
        "generated_at": "2026-11-29 08:00 UTC",
        "quick": True,
        "seconds": 12.0,
        "machine": {
            "cores": 2,
            "cores_usable": 2,
            "cpu_model": "Test CPU",
            "memory_gib": 8.0,
            "python": "CPython 3.11.9",
            "os": "Linux",
            "packages": {"duckdb": "2.0.1"},
            "commit": "abc1234",
            "branch": "bench",
            "dirty": False,
            "load_average": (1.0, 2.0, 3.0),
        },  # fmt: skip
        "stages": [vars(s) for s in stages],
    }

    text = render(report)

    assert "| measure | ratio | target | met | newsradar | baseline |" in text
    assert "| speed (higher is better) | 1.50x | >= 1x | yes | 3.00 | 2.00 | plain loop |" in text
    assert "| [boom](#boom) | **failed** | 0 | – |" in text
    assert "ValueError: corpus file missing" in text
    assert "Test CPU, 2 cores (2 usable)" in text and "duckdb 2.0.1" in text


def test_the_corpus_location_can_be_given_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSRADAR_SHARED", str(tmp_path))

    assert shared_dir() == tmp_path
