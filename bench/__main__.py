"""Run every benchmark stage and write one report: ``bench/report.md`` and ``bench/report.json``.

    python -m bench                    # the full run (make bench): under 15 minutes on 2 cores
    python -m bench --quick            # smaller inputs, under 2 minutes (make bench-quick)
    python -m bench --only pipeline    # one stage (repeat --only for more)

A stage is a module ``bench/<name>.py`` with a top-level ``def run(quick)`` that returns report
rows (the brief's protocol: stage, measure, newsradar, baseline_name, baseline, ratio, unit,
target, met, notes). Stages run one after the other, each in a child process of its own, so
they never measure each other and one that raises, crashes or hangs cannot take the report
down: its section says that it failed and why. Only a full run of every stage writes
``report.*``; quick and partial runs write ``report-dev.*`` (not committed).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from newsradar import native

__all__ = ["StageResult", "discover", "machine", "main", "render", "run_stage"]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# Stages in this order, then any other stage alphabetically; the pipeline (the longest) last.
ORDER = ("matching", "fetching", "storage", "extraction")
LAST = ("pipeline",)
PACKAGES = (
    "prefect", "httpx", "feedparser", "trafilatura", "duckdb", "pyahocorasick", "hyperscan", "mypy",
)  # fmt: skip
COLUMNS = (
    "stage", "measure", "newsradar", "baseline_name", "baseline", "ratio", "unit", "target",
    "met", "notes",
)  # fmt: skip
TIMEOUT = {True: 150.0, False: 1200.0}  # per stage, quick / full: a safety net, not a budget


@dataclass
class StageResult:
    name: str
    status: str  # ok | failed
    seconds: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _has_run(path: Path) -> bool:
    """Whether the file defines ``run(quick...)`` at top level (read, not imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return True  # let the child report why it cannot be imported
    return any(
        isinstance(node, ast.FunctionDef)
        and node.name == "run"
        and any(a.arg == "quick" for a in node.args.args + node.args.kwonlyargs)
        for node in tree.body
    )


def discover(directory: Path = BENCH) -> list[str]:
    """Stage names: ``<name>.py`` files in ``directory`` with a ``run(quick)``, in report order."""
    names = [p.stem for p in directory.glob("*.py") if not p.stem.startswith("_") and _has_run(p)]

    def key(name: str) -> tuple[int, int, str]:
        if name in ORDER:
            return (0, ORDER.index(name), name)
        return (2 if name in LAST else 1, 0, name)

    return sorted(names, key=key)


def _normalise(name: str, rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise TypeError(f"bench/{name}.py run() returned {type(rows).__name__}, not list[dict]")
    out = []
    for row in rows:
        missing = [c for c in COLUMNS if c not in row]
        fixed = {c: row.get(c) for c in COLUMNS} | {
            k: v for k, v in row.items() if k not in COLUMNS
        }
        fixed["stage"] = fixed["stage"] or name
        if missing:
            fixed["notes"] = f"{fixed['notes'] or ''} [row lacked: {', '.join(missing)}]".strip()
        out.append(fixed)
    return out


def _child(module: str, quick: bool, rows_file: Path) -> int:
    """In the child process: run one stage and write its rows (or its traceback) as JSON."""
    try:
        rows = importlib.import_module(module).run(quick=quick)
        payload: dict[str, Any] = {"rows": rows}
        code = 0
    except BaseException as exc:  # the report must say why, whatever it was
        payload = {"error": "".join(traceback.format_exception(exc)).strip()}
        code = 1
    rows_file.write_text(json.dumps(payload, default=str), encoding="utf-8")
    return code


def run_stage(
    name: str,
    *,
    quick: bool,
    timeout: float,
    package: str = "bench",
    env: dict[str, str] | None = None,
) -> StageResult:
    """Run ``package.name`` in a child process; never raises for the stage's own failures."""
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=20)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        rows_file = Path(tmp) / "rows.json"
        command = [sys.executable, "-m", "bench", "--child", f"{package}.{name}"]
        command += ["--rows-file", str(rows_file)] + (["--quick"] if quick else [])
        # A session of its own, so a timeout ends the stage's own children too.
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        assert proc.stderr is not None
        pump = threading.Thread(target=_pump, args=(proc.stderr, tail), daemon=True)
        pump.start()
        error = None
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            error = f"timed out after {timeout:.0f} s and was killed"
        except BaseException:  # Ctrl-C: the stage's session does not get the terminal's SIGINT
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        pump.join(5)
        seconds = time.monotonic() - started
        payload: dict[str, Any] = {}
        try:
            payload = json.loads(rows_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # no rows file, or a half-written one: judged below from the exit status
    if error is None and "error" in payload:
        error = payload["error"]
    elif error is None and "rows" not in payload:
        how = (
            f"was killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"exited with code {proc.returncode}"
        )
        error = f"the stage process {how} without reporting; last output:\n" + "".join(tail)
    if error is None:
        try:
            return StageResult(name, "ok", seconds, _normalise(name, payload["rows"]))
        except TypeError as exc:
            error = str(exc)
    return StageResult(name, "failed", seconds, error=error.strip())


def _pump(stream: Any, tail: deque[str]) -> None:
    """Echo the child's stderr (its progress) and keep the last lines for a failure report."""
    for line in stream:
        sys.stderr.write(line)
        tail.append(line)


def shared_dir() -> Path | None:
    """``$NEWSRADAR_SHARED``, else the nearest ``shared/`` with a corpus above the repository
    (``../shared`` from a clone, ``../../shared`` from a worktree in ``/work/wt/<name>``)."""
    if os.environ.get("NEWSRADAR_SHARED"):
        return Path(os.environ["NEWSRADAR_SHARED"])
    return next((p / "shared" for p in REPO.parents if (p / "shared" / "corpus").is_dir()), None)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpuinfo = _read("/proc/cpuinfo")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown",
    )
    mem_kib = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
         if line.startswith("MemTotal:")),
        0,
    )  # fmt: skip
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "packages": versions,
        "matching_engine": native.status,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_average": os.getloadavg(),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.1f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def _cell(value: Any) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def render(report: dict[str, Any]) -> str:
    """The Markdown report: machine, summary, then one table per stage, ratios first."""
    m = report["machine"]
    mode = "quick run (`make bench-quick`)" if report["quick"] else "full run (`make bench`)"
    load_end = report.get("load_average_end") or m["load_average"]
    dirty = " (uncommitted changes)" if m["dirty"] else ""
    loads = "; ".join(
        f"{when} {', '.join(f'{x:.1f}' for x in values)}"
        for when, values in (("start", m["load_average"]), ("end", load_end))
    )
    lines = [
        "# newsradar benchmark report",
        "",
        f"{mode.capitalize()}, {report['generated_at']}, {report['seconds']:.0f} s in total; "
        f"commit `{m['commit']}` on `{m['branch']}`{dirty}.",
        "",
        "This machine is shared, so each row compares newsradar with its baseline measured side "
        "by side in the same run: read the ratio first (`newsradar / baseline`; the measure says "
        "which direction is better) and the absolute figures second.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu_model']}, {m['cores']} cores ({m['cores_usable']} usable) |",
        f"| memory | {m['memory_gib']} GiB |",
        f"| Python | {m['python']} |",
        f"| OS | {m['os']} |",
        f"| matching engine | {m.get('matching_engine', '–')} (`newsradar version`) |",
        f"| corpus | {m.get('shared', '–')} |",
        f"| load average (1, 5, 15 min) | {loads} |",
        "| packages | " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + " |",
        "",
        "## Summary",
        "",
        "| stage | status | rows | targets met | seconds |",
        "|---|---|---|---|---|",
    ]
    for stage in report["stages"]:
        judged = [r["met"] for r in stage["rows"] if r.get("met") is not None]
        met = f"{sum(bool(x) for x in judged)} of {len(judged)}" if judged else "–"
        status = "ok" if stage["status"] == "ok" else "**failed**"
        lines.append(
            f"| [{stage['name']}](#{stage['name']}) | {status} | {len(stage['rows'])} | {met} "
            f"| {stage['seconds']:.0f} |"
        )
    for name in report.get("pending", ()):
        lines.append(f"| {name} | not run yet (the run was interrupted) | – | – | – |")
    for stage in report["stages"]:
        lines += ["", f"## {stage['name']}", ""]
        if stage["status"] != "ok":
            lines += [
                f"**Failed** after {stage['seconds']:.0f} s:",
                "",
                "```",
                stage["error"],
                "```",
            ]
            continue
        lines += [
            "| measure | ratio | target | met | newsradar | baseline | baseline is | unit "
            "| notes |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in stage["rows"]:
            ratio = f"{_fmt(r['ratio'])}x" if isinstance(r["ratio"], int | float) else "–"
            cells = [r["measure"], ratio, r["target"], r["met"], r["newsradar"], r["baseline"]]
            cells += [r["baseline_name"], r["unit"], r["notes"]]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, under 2 minutes")
    parser.add_argument("--only", action="append", metavar="STAGE", help="run only this stage")
    parser.add_argument("--timeout", type=float, help="seconds per stage before it is killed")
    parser.add_argument("--out", type=Path, help="report path without suffix (.md and .json)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rows-file", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _write(
    out: Path,
    info: dict[str, Any],
    results: list[StageResult],
    pending: list[str],
    *,
    quick: bool,
    seconds: float,
) -> None:
    report = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "seconds": seconds,
        "machine": info,
        "load_average_end": os.getloadavg(),
        "stages": [asdict(r) for r in results],
        "pending": pending,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(render(report), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.child:
        return _child(args.child, args.quick, args.rows_file)
    found = discover()
    unknown = sorted(set(args.only or ()) - set(found))
    if unknown:
        print(f"no stage {', '.join(unknown)}; stages: {', '.join(found)}", file=sys.stderr)
        return 2
    names = [n for n in found if not args.only or n in args.only]
    partial = args.quick or bool(args.only)
    out = args.out or BENCH / ("report-dev" if partial else "report")
    timeout = args.timeout or TIMEOUT[args.quick]
    started = time.monotonic()
    info = machine()
    # Every stage reads the corpus from the same place, wherever the checkout is.
    env = dict(os.environ)
    shared = shared_dir()
    if shared is not None:
        env["NEWSRADAR_SHARED"] = str(shared)
    info["shared"] = str(shared) if shared else "not found"
    results: list[StageResult] = []
    for name in names:
        print(f"== bench: {name} ({'quick' if args.quick else 'full'})", file=sys.stderr)
        results.append(run_stage(name, quick=args.quick, timeout=timeout, env=env))
        print(
            f"== bench: {name} {results[-1].status} in {results[-1].seconds:.0f} s", file=sys.stderr
        )
        # Written after every stage, so an interrupted run still leaves what it measured.
        pending = names[len(results) :]
        _write(out, info, results, pending, quick=args.quick, seconds=time.monotonic() - started)
    print(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')}", file=sys.stderr)
    return 1 if any(r.status != "ok" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
