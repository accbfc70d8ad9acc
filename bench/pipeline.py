"""Whole-pipeline benchmark: a full ``newsradar run`` over AEB pages on loopback vs the bound.

In one process run, on the same pages:
1. The bound: trafilatura alone (``bare_extraction`` with the options ``newsradar.extract`` passes,
   read from its source) in a ``ProcessPoolExecutor`` with one worker per core; no fetching,
   no storage; pool started and warm before the clock.
2. ``python -m newsradar run`` in a subprocess against a loopback site (``bench._site``) serving
   the 181 AEB pages under ``pages`` distinct URLs in ``FEEDS`` RSS feeds. Throughput is articles
   stored per second from the first request the server sees to the run's last commit
   (``runs.finished_at``); cold start is process start to first request; the RSS of the
   process tree (Prefect's temporary server included) is sampled from /proc.
3. The same run again with nothing changed (the re-poll; not in ``--quick``): wall time and
   requests made.
4. A second run into a fresh database (not in ``--quick``). The bound is measured before, between
   and after the two runs; each run is compared with the mean of the bounds either side of it,
   and the throughput rows give the mean of the two runs, so one burst of another tenant's load
   moves the figure half as much.
5. The AEB F1 of the text the first run stored in DuckDB for the unmodified copy of each page.

Run: ``python -m bench --only pipeline [--quick]``.
"""

from __future__ import annotations

import ast
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import duckdb
import trafilatura

import newsradar.extract
from bench._aeb import aeb_dir, load_truth, score
from bench._site import Site, SiteServer, parse_page_path
from bench._stock import stock_trafilatura

__all__ = ["run"]

FEEDS = 30
PAGES_FULL, PAGES_QUICK = 3000, 100
# The full bound runs three times (before, between and after the two runs, as load drifts)
# over whole copies of the 181 pages: the same mix of pages as the run at a fraction of the
# time. --quick runs it once over the run's own pages, runs once and skips the re-poll:
# Prefect's cold start is most of its time.
BOUND_COPIES_FULL = 3
THROUGHPUT_TARGET = 0.85
FLAT_TARGET = 1.25  # peak RSS at the last checkpoint vs the first
# Used only if newsradar.extract's own call cannot be read (see _newsradar_options).
DEFAULT_OPTIONS: dict[str, Any] = {"include_comments": False, "include_tables": True}
_LOG_TIME = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) \| ")
REPO = Path(__file__).resolve().parents[1]
SAMPLE_EVERY = 0.2

WATCHLIST = """
[[watch]]
id = "nato"
terms = ["NATO", "North Atlantic Treaty Organization"]

[[watch]]
id = "china"
terms = ["China", "Beijing"]

[[watch]]
id = "russia"
terms = ["Russia", "Kremlin", "Moscow"]

[[watch]]
id = "ukraine"
terms = ["Ukraine", "Kyiv"]

[[watch]]
id = "elections"
terms = ["election", "elections", "ballot"]
"""


def _log(message: str) -> None:
    print(f"[pipeline] {message}", file=sys.stderr, flush=True)


# --- the bound --------------------------------------------------------------------------------


def _newsradar_options() -> dict[str, Any]:
    """The constant keyword arguments newsradar.extract passes to trafilatura.bare_extraction.

    Read from the source, so the bound always extracts with the options of the stage it bounds.
    """
    source = Path(newsradar.extract.__file__).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "bare_extraction"
        ):
            return {
                k.arg: k.value.value
                for k in node.keywords
                if k.arg and isinstance(k.value, ast.Constant)
            }
    return dict(DEFAULT_OPTIONS)


_worker_site: Site | None = None
_worker_options: dict[str, Any] = {}


def _init_worker(root: str, pages: int, feeds: int, options: dict[str, Any]) -> None:
    global _worker_site, _worker_options
    stock_trafilatura()
    _worker_site = Site(Path(root), pages, feeds)
    _worker_options = options


def _ready(_: int) -> int:
    time.sleep(0.2)  # long enough that every worker takes one and has run its initializer
    return os.getpid()


def _extract_one(i: int) -> tuple[int, str | None, float]:
    assert _worker_site is not None
    cpu = time.process_time()
    index, copy = _worker_site.locate(i)
    doc = trafilatura.bare_extraction(
        _worker_site.body(i), url=_worker_site.path(i), **_worker_options
    )
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    # Only the unmodified copy is scored; the others need not travel back.
    return index, text if copy == 0 else None, time.process_time() - cpu


@dataclass
class Bound:
    workers: int
    pages: int
    seconds: float
    # CPU seconds the workers spent extracting (measured around each page).
    cpu: float
    texts: dict[str, str]
    options: dict[str, Any]
    # Seconds of each measurement when this is the mean of two (either side of a run).
    runs: tuple[float, ...] = ()

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def _mean(a: Bound, b: Bound) -> Bound:
    """The bound measured either side of a run: the machine is shared and load drifts."""
    seconds, cpu = (a.seconds + b.seconds) / 2, (a.cpu + b.cpu) / 2
    return Bound(a.workers, a.pages, seconds, cpu, a.texts, a.options, (a.seconds, b.seconds))


def _bound(site: Site, pages: int) -> Bound:
    """Extract pages ``0..pages-1`` (whole copies of the 181, so the same mix as the run)."""
    workers = os.cpu_count() or 1
    texts: dict[str, str] = {}
    cpu = 0.0
    options = _newsradar_options()
    with ProcessPoolExecutor(
        workers,
        initializer=_init_worker,
        initargs=(str(site.root), site.pages, site.feeds, options),
    ) as pool:
        list(pool.map(_ready, range(workers)))
        started = time.perf_counter()
        for index, text, seconds in pool.map(_extract_one, range(pages), chunksize=4):
            cpu += seconds
            if text is not None:
                texts[site.ids[index]] = text
        seconds = time.perf_counter() - started
    return Bound(workers, pages, seconds, cpu, texts, options)


# --- one `newsradar run` ----------------------------------------------------------------------


_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float
    served: int  # pages served so far
    rss: int  # bytes, the run process and its descendants (shared pages counted per process)
    own_rss: int  # bytes, the run process alone
    cpu: float  # CPU seconds so far of every process seen in the tree
    cpu_by_role: dict[str, float] = field(default_factory=dict)  # the same, per _role


_OTHER = "other helper processes"


def _role(pid: int, root: int) -> str:
    """What a process of the run's tree is, from its command line."""
    if pid == root:
        return "the run process (fetch, dispatch, match, store)"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if "forkserver" in cmdline:
        return "extraction and feed parser workers (and their forkserver)"
    if "prefect.server" in cmdline or "uvicorn" in cmdline:
        return "Prefect's temporary server"
    return _OTHER


def _sample(
    root: int, at: float, served: int, cpu_seen: dict[int, float], roles: dict[int, str]
) -> Sample:
    """One look at the run's process tree; ``cpu_seen`` keeps each process's latest CPU time.

    CPU is summed per process rather than read from ``getrusage``: the extraction pool's
    workers are children of a forkserver that the run never waits for, so their CPU time would
    never reach the run's own counters.
    """
    rss = own = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/stat") as fh:
                # utime and stime: fields 14 and 15, counted after the ")" that ends comm.
                fields = fh.read().rsplit(")", 1)[1].split()
            cpu_seen[pid] = (int(fields[11]) + int(fields[12])) / _TICK
            # Read again until it is known: a child sampled between fork and exec still
            # shows its parent's command line.
            if roles.get(pid, _OTHER) == _OTHER:
                roles[pid] = _role(pid, root)
            with open(f"/proc/{pid}/status") as fh:
                kib = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            rss += kib * 1024
            own = kib * 1024 if pid == root else own
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    by_role: dict[str, float] = {}
    for pid, seconds in cpu_seen.items():
        by_role[roles[pid]] = by_role.get(roles[pid], 0.0) + seconds
    return Sample(at, served, rss, own, sum(cpu_seen.values()), by_role)


@dataclass
class PassRun:
    started: float
    ended: float
    returncode: int
    output: str
    requests: list[tuple[float, str, int]]
    # CPU seconds (user + system) of the run's whole process tree.
    cpu: float
    samples: list[Sample] = field(default_factory=list)
    # CPU seconds per kind of process (see _role).
    cpu_by_role: dict[str, float] = field(default_factory=dict)

    @property
    def first_request(self) -> float:
        return min((t for t, _, _ in self.requests), default=float("nan"))

    @property
    def cold_start_note(self) -> str:
        if not self.requests:
            return "made no request"
        return f"{self.first_request - self.started:.1f} s before the first request"

    @property
    def page_requests(self) -> list[float]:
        return [t for t, path, _ in self.requests if path.startswith("/news/")]

    def peak_by(self, pages: int, *, own: bool = False) -> int:
        return max(
            (s.own_rss if own else s.rss for s in self.samples if s.served <= pages), default=0
        )

    def cpu_at(self, at: float) -> float:
        return max((s.cpu for s in self.samples if s.at <= at), default=0.0)

    def role_cpu_between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per kind of process between two instants (from the samples)."""
        before = max((s for s in self.samples if s.at <= start), key=lambda s: s.at, default=None)
        after = max((s for s in self.samples if s.at <= end), key=lambda s: s.at, default=None)
        if after is None:
            return {}
        base = before.cpu_by_role if before else {}
        return {role: cpu - base.get(role, 0.0) for role, cpu in after.cpu_by_role.items()}

    def logged(self, needle: str) -> float | None:
        """Wall-clock time of the first Prefect log line containing ``needle``."""
        for line in self.output.splitlines():
            m = _LOG_TIME.match(line)
            if m and needle in line:
                day = datetime.fromtimestamp(self.started).astimezone()
                at = datetime.combine(day.date(), dt_time.fromisoformat(m.group(1)), day.tzinfo)
                return at.timestamp()
        return None


def _child_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    # A run of its own: Prefect's temporary server with its home here, never a configured API.
    for key in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE"):
        env.pop(key, None)
    env["PREFECT_HOME"] = str(tmp / "prefect")
    # INFO puts timestamps on the server start and the flow start, which split the cold start.
    env["PREFECT_LOGGING_LEVEL"] = "INFO"
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY"] = "false"
    return env


def _write_config(directory: Path, server: SiteServer) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "newsradar.toml").write_text(
        '[storage]\ndatabase = "data/bench.duckdb"\nlock_timeout = 30\n\n'
        '[alerts]\noutbox_dir = "data/outbox"\nrecipients = ["analyst@example.org"]\n\n'
        '[fetch]\nallow_networks = ["127.0.0.1/32"]\nmin_host_delay = 0\nper_host = 8\n'
        "concurrency = 8\nmin_poll_interval = 0\nmax_poll_interval = 0\ntimeout = 30\n"
        "deadline = 60\n"
    )
    (directory / "feeds.toml").write_text(
        "".join(
            f'[[feed]]\nname = "bench-{k:02d}"\nurl = "{url}"\n\n'
            for k, url in enumerate(server.feed_urls)
        )
    )
    (directory / "watchlist.toml").write_text(WATCHLIST)
    return directory


def _run_pass(config: Path, server: SiteServer, env: dict[str, str], log: Path) -> PassRun:
    mark = len(server.log)
    served_before = server.pages_served
    samples: list[Sample] = []
    cpu_seen: dict[int, float] = {}
    roles: dict[int, str] = {}
    cpu_before = _children_cpu()
    with log.open("w") as out:
        started = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsradar", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
        while True:
            try:
                proc.wait(SAMPLE_EVERY)
                break
            except subprocess.TimeoutExpired:
                served = server.pages_served - served_before
                samples.append(_sample(proc.pid, time.time(), served, cpu_seen, roles))
        ended = time.time()
    output = log.read_text(errors="replace")
    requests = server.requests_since(mark)
    # Sampling misses each process's last instants; getrusage misses unwaited grandchildren.
    cpu = max(_children_cpu() - cpu_before, sum(cpu_seen.values()))
    by_role: dict[str, float] = {}
    for pid, seconds in cpu_seen.items():
        by_role[roles[pid]] = by_role.get(roles[pid], 0.0) + seconds
    return PassRun(started, ended, proc.returncode, output, requests, cpu, samples, by_role)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- what the run stored ------------------------------------------------------------------------


@dataclass
class Stored:
    runs: list[dict[str, Any]]
    articles: int
    distinct_hashes: int
    distinct_stories: int
    matches: int
    originals: dict[str, str]  # AEB id -> stored text of copy 0


def _read_db(path: Path) -> Stored:
    with duckdb.connect(str(path), read_only=True) as con:
        cur = con.execute("SELECT * FROM runs ORDER BY started_at")
        names = [d[0] for d in cur.description or ()]
        runs = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        articles, hashes, stories = con.execute(
            "SELECT count(*), count(DISTINCT content_hash), count(DISTINCT story_id) FROM articles"
        ).fetchone() or (0, 0, 0)
        (matches,) = con.execute("SELECT count(*) FROM matches").fetchone() or (0,)
        originals: dict[str, str] = {}
        for url, text in con.execute("SELECT url, text FROM articles").fetchall():
            located = parse_page_path(url)
            if located and located[1] == 0:
                originals[located[0]] = text or ""
    return Stored(runs, articles, hashes, stories, matches, originals)


# --- rows -------------------------------------------------------------------------------------


def _row(measure: str, value: float | None, unit: str, **kw: Any) -> dict[str, Any]:
    baseline = kw.pop("baseline", None)
    ratio = kw.pop("ratio", None)
    if ratio is None and value is not None and baseline:
        ratio = value / baseline
    return {
        "stage": "pipeline",
        "measure": measure,
        "newsradar": value,
        "baseline_name": kw.pop("baseline_name", None),
        "baseline": baseline,
        "ratio": ratio,
        "unit": unit,
        "target": kw.pop("target", "diagnostic"),
        "met": kw.pop("met", None),
        "notes": kw.pop("notes", ""),
    }


def _ts(value: Any) -> float:
    return float(value.timestamp()) if value is not None else float("nan")


@dataclass
class Measured:
    """One measured run, what it stored, and the bound it is compared with."""

    run: PassRun
    stored: Stored
    bound: Bound

    @property
    def last_commit(self) -> float:
        return _ts(self.stored.runs[0].get("finished_at")) if self.stored.runs else float("nan")

    @property
    def window(self) -> float:
        """First request -> last commit, the span the throughput is measured over."""
        return self.last_commit - self.run.first_request

    @property
    def rate(self) -> float:
        return self.stored.articles / self.window if self.window > 0 else 0.0

    @property
    def steady_cpu(self) -> float:
        """CPU seconds of the run's tree over the window."""
        return self.run.cpu_at(self.last_commit) - self.run.cpu_at(self.run.first_request)

    @property
    def per_cpu_s(self) -> float:
        return self.stored.articles / self.steady_cpu if self.steady_cpu > 0 else 0.0


def _mean_of(values: list[float]) -> float:
    return sum(values) / len(values)


def _rows(
    site: Site,
    measured: list[Measured],
    again: PassRun | None,
    loads: list[float],
    *,
    quick: bool,
) -> list[dict[str, Any]]:
    n = site.pages
    # Everything but the throughput comes from the first run (and its re-poll, in `stored`).
    first, bound, stored = measured[0].run, measured[0].bound, measured[0].stored
    run1 = stored.runs[0] if stored.runs else {}
    last_commit, window = measured[0].last_commit, measured[0].window
    bound_name = f"trafilatura alone, ProcessPoolExecutor({bound.workers}), no fetch/store"
    rate = _mean_of([m.rate for m in measured])
    bound_rate = _mean_of([m.bound.rate for m in measured])
    per_cpu_s = _mean_of([m.per_cpu_s for m in measured])
    bound_per_cpu_s = _mean_of([m.bound.pages / m.bound.cpu for m in measured if m.bound.cpu])
    judged = f">= {THROUGHPUT_TARGET:.2f}x" + (" (not judged in --quick)" if quick else "")
    wall = first.ended - first.started
    runs_note = "; ".join(
        f"run {k}: {m.rate:.1f} vs {m.bound.rate:.1f} pages/s ({m.rate / m.bound.rate:.3f}x), "
        f"window {m.window:.1f} s, bound "
        + " and ".join(f"{m.bound.pages / s:.1f}" for s in m.bound.runs or (m.bound.seconds,))
        for k, m in enumerate(measured, 1)
    )
    load_labels = "bound, run, end" if quick else "bound, run 1, bound + re-poll, run 2, bound, end"
    rows = [
        _row(
            f"throughput: articles stored / s, first request -> last commit ({n} pages; higher "
            "is better)",
            rate,
            "articles/s",
            baseline_name=bound_name,
            baseline=bound_rate,
            target=judged,
            # A hundred pages are mostly pool start-up and feed polling: only the full run counts.
            met=None if quick else rate / bound_rate >= THROUGHPUT_TARGET,
            notes=(
                f"mean of {len(measured)} runs into fresh databases, each against the mean of "
                "the bound measured either side of it"
                if len(measured) > 1
                else "one run, against the bound measured before it"
            )
            + f" ({bound.pages} of the same pages each time); {runs_note}; "
            f"{stored.articles} articles stored by run 1; "
            f"1-min load average {', '.join(f'{x:.1f}' for x in loads)} ({load_labels})"
            + "; bound calls "
            f"trafilatura.bare_extraction with newsradar.extract's options {bound.options}, "
            "trafilatura as shipped (lxml.html's own element class lookup)",
        ),
        _row(
            "CPU time per article, whole run process tree incl. Prefect (lower is better)",
            first.cpu / max(stored.articles, 1),
            "CPU s/article",
            baseline_name="trafilatura alone, CPU s per page",
            baseline=bound.cpu / bound.pages,
            notes=f"run 1: {first.cpu:.1f} CPU s over {wall:.1f} s wall; bound {bound.cpu:.1f} "
            f"CPU s for {bound.pages} pages in {bound.seconds:.1f} s; CPU time depends less on "
            "machine load than wall time",
        ),
        _row(
            "cold start: process start -> first request, Prefect included (lower is better)",
            first.first_request - first.started,
            "s",
            notes="run 1, fresh PREFECT_HOME"
            + (f"; the re-poll (warm home): {again.cold_start_note}" if again else ""),
        ),
    ]
    # CPU over the same window as the throughput: first request -> last commit.
    steady = measured[0].steady_cpu
    rows.append(
        _row(
            "throughput per CPU second: articles stored per CPU s of the whole run tree, first "
            "request -> last commit (higher is better; what wall throughput converges to on a "
            "saturated machine)",
            per_cpu_s,
            "articles/CPU s",
            baseline_name="trafilatura alone, pages per CPU s",
            baseline=bound_per_cpu_s,
            target=judged,
            met=None
            if quick or not bound_per_cpu_s
            else per_cpu_s / bound_per_cpu_s >= THROUGHPUT_TARGET,
            notes="mean of the runs: "
            + ", ".join(f"{m.per_cpu_s:.1f} vs {m.bound.pages / m.bound.cpu:.1f}" for m in measured)
            + f"; run 1: {steady:.1f} CPU s in the window ({first.cpu - steady:.1f} before and "
            "after it: start-up, Prefect's shutdown); CPU time hardly moves with the machine's "
            "load, wall time does",
        )
    )
    rows.insert(1, rows.pop())  # next to the wall-clock throughput it qualifies
    in_window = first.role_cpu_between(first.first_request, last_commit)
    for role, seconds in sorted(in_window.items(), key=lambda kv: -kv[1]):
        rows.append(
            _row(
                f"CPU split per article, first request -> last commit: {role} (lower is better)",
                seconds / max(stored.articles, 1),
                "CPU s/article",
                baseline_name="trafilatura alone, CPU s per page",
                baseline=bound.cpu / bound.pages,
                notes=f"{seconds:.1f} CPU s in the window; "
                f"{first.cpu_by_role.get(role, 0.0):.1f} CPU s over the whole run",
            )
        )
    rows += _cold_start_split(first)
    rows.append(
        _row(
            f"whole wall time of `newsradar run` over {n} pages (lower is better)",
            wall,
            "s",
            baseline_name=f"the bound's time for {n} pages at its rate",
            baseline=n / bound.rate,
            notes=f"exit code {first.returncode}",
        )
    )
    checkpoints = (n // 4, n // 2, n)
    base_rss = first.peak_by(checkpoints[0]) / 2**20
    for c in checkpoints:
        rss = first.peak_by(c) / 2**20
        rows.append(
            _row(
                f"peak RSS of the run's process tree by page {c} (flat is better)",
                rss,
                "MiB",
                baseline_name=f"peak by page {checkpoints[0]}",
                baseline=base_rss,
                target=f"<= {FLAT_TARGET}x",
                met=rss <= FLAT_TARGET * base_rss if base_rss else None,
                notes=f"the run process alone {first.peak_by(c, own=True) / 2**20:.0f} MiB; "
                f"sum of VmRSS over the tree, sampled every {SAMPLE_EVERY} s",
            )
        )
    pages = first.page_requests
    split: list[tuple[str, float | None]] = [
        ("feed polling (runs.fetch_s)", run1.get("fetch_s")),
        ("page fetching (server log, first -> last page request)", max(pages) - min(pages)),
        ("extraction (runs.extract_s)", run1.get("extract_s")),
        ("matching + alert planning (runs.match_s)", run1.get("match_s")),
        ("storage (runs.store_s)", run1.get("store_s")),
        ("alert delivery (runs.deliver_s)", run1.get("deliver_s")),
        ("Prefect shutdown + process exit after the last commit", first.ended - last_commit),
    ]
    for name, spent in split:
        rows.append(
            _row(
                f"time split: {name}",
                float(spent or 0.0),
                "s",
                baseline_name="the throughput window",
                baseline=window,
                notes="ratio = share of the window; page fetching overlaps extraction",
            )
        )
    rows += _repoll(site, first, again, stored)
    rows += _quality(bound, stored)
    return rows


def _cold_start_split(run: PassRun) -> list[dict[str, Any]]:
    server_start = run.logged("Starting temporary server")
    flow_start = run.logged("Beginning flow run")
    if server_start is None or flow_start is None:
        return []
    cold = run.first_request - run.started
    parts = [
        ("interpreter, imports, configuration", server_start - run.started),
        ("Prefect temporary server start", flow_start - server_start),
        (
            "flow run start -> first request (begin-pass: migrate, sync)",
            run.first_request - flow_start,
        ),
    ]
    return [
        _row(
            f"cold start split: {name}",
            seconds,
            "s",
            baseline_name="the cold start",
            baseline=cold,
            notes="from Prefect's INFO log timestamps; ratio = share of the cold start",
        )
        for name, seconds in parts
    ]


def _repoll(
    site: Site, first: PassRun, again: PassRun | None, stored: Stored
) -> list[dict[str, Any]]:
    if again is None:
        skipped = "not run in --quick (one more Prefect cold start)"
        return [_row("re-poll, nothing changed", None, "", target="", notes=skipped)]
    stored_again = stored.runs[1].get("articles_stored") if len(stored.runs) > 1 else None
    page_requests = len(again.page_requests)
    return [
        _row(
            "re-poll, nothing changed: wall time (lower is better)",
            again.ended - again.started,
            "s",
            baseline_name="first run's wall time",
            baseline=first.ended - first.started,
            notes=f"exit code {again.returncode}; {again.cold_start_note}; every feed due "
            "(max_poll_interval = 0): with the cadence learned from these feeds (an item per "
            "30 min) a re-run within 15 min would request nothing at all",
        ),
        _row(
            "re-poll, nothing changed: HTTP requests made",
            float(len(again.requests)),
            "requests",
            baseline_name="feeds configured",
            baseline=float(site.feeds),
            target="one conditional GET per feed (+ robots.txt), no page",
            met=page_requests == 0 and len(again.requests) <= site.feeds + 1,
            notes=f"{sum(1 for _, _, s in again.requests if s == 304)} answered 304, "
            f"{page_requests} page requests",
        ),
        _row(
            "re-poll, nothing changed: articles stored",
            float(stored_again) if stored_again is not None else None,
            "articles",
            target="0",
            met=stored_again == 0,
        ),
    ]


def _quality(bound: Bound, stored: Stored) -> list[dict[str, Any]]:
    # Every AEB page in the full run; the first ``pages`` of them in --quick.
    truth = {k: v for k, v in load_truth(aeb_dir()).items() if k in stored.originals}
    mine = score(truth, stored.originals)
    alone = score(truth, bound.texts)
    return [
        _row(
            f"AEB F1 of the text stored in DuckDB ({len(stored.originals)} unmodified pages)",
            mine["f1"],
            "F1",
            baseline_name="trafilatura alone, same options, same run",
            baseline=alone["f1"],
            target=">= 0.99x",
            met=mine["f1"] >= 0.99 * alone["f1"],
            notes=f"P {mine['precision']:.3f} R {mine['recall']:.3f}; trafilatura alone P "
            f"{alone['precision']:.3f} R {alone['recall']:.3f}; published 0.958 (the extraction "
            "table checks the scorer against it); "
            f"{stored.distinct_hashes} distinct content hashes and {stored.distinct_stories} "
            f"stories over {stored.articles} articles; {stored.matches} matches",
        ),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    pages = PAGES_QUICK if quick else PAGES_FULL
    site = Site(aeb_dir(), pages, FEEDS)
    loads = [os.getloadavg()[0]]
    bound_pages = pages if quick else len(site.ids) * BOUND_COPIES_FULL
    _log(f"bound: trafilatura over {bound_pages} of the {pages} pages in a process pool")
    before = _bound(site, bound_pages)
    _log(f"bound: {before.seconds:.1f} s ({before.rate:.1f} pages/s)")
    with tempfile.TemporaryDirectory(prefix="newsradar-bench-") as tmp, SiteServer(site) as server:
        config = _write_config(Path(tmp) / "config", server)
        env = _child_env(Path(tmp))
        _log(f"newsradar run over {pages} pages in {site.feeds} feeds")
        loads.append(os.getloadavg()[0])
        first = _run_pass(config, server, env, Path(tmp) / "run1.log")
        _check(first, "newsradar run")
        _log(f"first run: {first.ended - first.started:.1f} s")
        database = config / "data" / "bench.duckdb"
        if quick:
            loads.append(os.getloadavg()[0])
            measured = [Measured(first, _read_db(database), before)]
            return _rows(site, measured, None, loads, quick=True)
        loads.append(os.getloadavg()[0])
        between = _bound(site, bound_pages)
        _log(f"bound again: {between.seconds:.1f} s ({between.rate:.1f} pages/s)")
        again = _run_pass(config, server, env, Path(tmp) / "run2.log")
        _check(again, "re-poll")
        _log(f"re-poll: {again.ended - again.started:.1f} s")
        # The first run's articles, and the re-poll's own `runs` row.
        stored = _read_db(database)
        # The second measured run: the same pages into a fresh database (Prefect's home warm).
        loads.append(os.getloadavg()[0])
        config2 = _write_config(Path(tmp) / "config2", server)
        second = _run_pass(config2, server, env, Path(tmp) / "run3.log")
        _check(second, "second newsradar run")
        _log(f"second run: {second.ended - second.started:.1f} s")
        loads.append(os.getloadavg()[0])
        after = _bound(site, bound_pages)
        _log(f"bound last: {after.seconds:.1f} s ({after.rate:.1f} pages/s)")
        loads.append(os.getloadavg()[0])
        measured = [
            Measured(first, stored, _mean(before, between)),
            Measured(second, _read_db(config2 / "data" / "bench.duckdb"), _mean(between, after)),
        ]
    return _rows(site, measured, again, loads, quick=False)


def _check(run: PassRun, what: str) -> None:
    if run.returncode != 0:
        raise RuntimeError(f"{what} exited {run.returncode}: {run.output[-2000:]}")


if __name__ == "__main__":
    import json

    for row in run("--quick" in sys.argv):
        print(json.dumps(row, default=str))
