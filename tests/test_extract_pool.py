"""The extraction pool: results as they complete, hard limits, replacement, never raising."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import newsradar.extract_pool as pool_module
from newsradar.config import ExtractSettings
from newsradar.errors import ExtractError
from newsradar.extract import ExtractedPage
from newsradar.extract_pool import ExtractJob, ExtractorPool, worker_count
from tests.extract_hooks import misbehaving_extract
from tests.processes import all_gone

PAGES = Path(__file__).parent / "fixtures" / "pages"
ARTICLE = (PAGES / "article-jsonld.html").read_bytes()


def job(key: str, html: bytes = ARTICLE) -> ExtractJob:
    return ExtractJob(key=key, html=html, url=f"https://example.org/{key}")


@pytest.fixture(scope="module")
def pool() -> ExtractorPool:
    settings = ExtractSettings(workers=2, timeout=2.0, memory_mb=512)
    with ExtractorPool(settings, extractor=misbehaving_extract) as p:
        yield p  # type: ignore[misc]


def test_public_surface() -> None:
    assert set(pool_module.__all__) == {
        "ExtractJob",
        "ExtractorPool",
        "worker_count",
    }


def test_worker_count() -> None:
    assert worker_count(ExtractSettings(workers=3)) == 3
    assert worker_count(ExtractSettings(workers=0)) >= 1


def test_every_job_comes_back_once(pool: ExtractorPool) -> None:
    results = list(pool.extract_many(job(f"p{i}") for i in range(12)))
    assert sorted(k for k, _ in results) == sorted(f"p{i}" for i in range(12))
    for _, result in results:
        assert isinstance(result, ExtractedPage)
        assert "arms transfers" in result.text


def test_workers_start_with_trafilaturas_caches_filled() -> None:
    # Filled once in the forkserver, not on each worker's first pages (~0.2 s each time).
    with ExtractorPool(ExtractSettings(workers=1), extractor=misbehaving_extract) as fresh:
        [(_, result)] = list(fresh.extract_many([job("first", b"STOPLIST")]))
    assert isinstance(result, ExtractedPage)
    assert int(result.text) > 1000


def test_empty_input(pool: ExtractorPool) -> None:
    assert list(pool.extract_many([])) == []


@pytest.mark.parametrize(
    ("marker", "kind", "words"),
    [
        (b"HANG", "extract_timeout", "longer than 2 s"),
        (b"CRASH", "extract_error", "worker died"),
        (b"HOG", "extract_error", "memory"),
        (b"RAISE", "extract_error", "ValueError: extractor bug"),
    ],
)
def test_bad_page_is_skipped_with_a_reason_and_the_pool_goes_on(
    pool: ExtractorPool, marker: bytes, kind: str, words: str
) -> None:
    jobs = [job("before"), job("bad", marker), *(job(f"after{i}") for i in range(4))]
    results = dict(pool.extract_many(jobs))
    assert set(results) == {"before", "bad", "after0", "after1", "after2", "after3"}
    bad = results.pop("bad")
    assert isinstance(bad, ExtractError)
    assert bad.kind == kind
    assert words in str(bad)
    assert bad.url == "https://example.org/bad"
    assert all(isinstance(r, ExtractedPage) and r.text for r in results.values())
    assert len(pool._workers) == 2
    assert all(w.process.is_alive() for w in pool._workers)


def test_workers_run_under_the_memory_cap(pool: ExtractorPool) -> None:
    [(_, result)] = list(pool.extract_many([job("limit", b"LIMIT")]))
    assert isinstance(result, ExtractedPage)
    assert int(result.text) == 512 * 1024 * 1024


def test_killed_worker_is_replaced(pool: ExtractorPool) -> None:
    before = {w.process.pid for w in pool._workers}
    timeouts = pool.timeouts
    results = dict(pool.extract_many([job("hang", b"HANG"), job("pid", b"PID")]))
    assert pool.timeouts == timeouts + 1
    after = {w.process.pid for w in pool._workers}
    assert len(after - before) == 1
    assert isinstance(results["pid"], ExtractedPage)


def test_pages_queued_behind_a_slow_one_are_not_held_up(pool: ExtractorPool) -> None:
    # Each worker holds DEPTH pages; those behind a hanging page go to another worker.
    jobs = [job("hang", b"HANG"), *(job(f"q{i}", b"PID") for i in range(6))]
    results = dict(pool.extract_many(jobs))
    assert isinstance(results.pop("hang"), ExtractError)
    assert len(results) == 6
    assert all(isinstance(r, ExtractedPage) for r in results.values())


def test_pages_larger_than_the_pipe_do_not_deadlock() -> None:
    # Large pages with large results, one worker: a page queued behind a running one must
    # never fill the pipe while the worker waits to send its result.
    big = b"ECHO" + b"x" * (64 << 20)
    settings = ExtractSettings(workers=1, timeout=20.0, memory_mb=2048)
    with ExtractorPool(settings, extractor=misbehaving_extract) as one:
        results = dict(one.extract_many(job(f"big{i}", big) for i in range(3)))
    assert sorted(results) == ["big0", "big1", "big2"]
    assert all(isinstance(r, ExtractedPage) and len(r.text) == len(big) for r in results.values())


def test_stopping_early_leaves_the_pool_usable(pool: ExtractorPool) -> None:
    stream = pool.extract_many(job(f"s{i}") for i in range(10))
    first = next(stream)
    stream.close()
    assert first[0].startswith("s")
    again = dict(pool.extract_many([job("x"), job("y")]))
    assert set(again) == {"x", "y"}


def test_jobs_are_pulled_lazily(pool: ExtractorPool) -> None:
    pulled: list[int] = []

    def jobs():  # type: ignore[no-untyped-def]
        for i in range(6):
            pulled.append(i)
            yield job(f"l{i}")

    stream = pool.extract_many(jobs())
    next(stream)
    # Two workers, DEPTH pages each: nothing pulled beyond what is in flight, plus one.
    assert len(pulled) <= 2 * pool_module.DEPTH + 1
    assert len(dict(stream)) == 5


@pytest.mark.parametrize(
    "html",
    [
        "<html><body>" + "<div>" * 5000 + "<p>deep</p>" + "</div>" * 5000 + "</body></html>",
        "<html><body>" + "<p>x</p>" * 50_000 + "</body></html>",
        '<html><body><table><tr><td colspan="9007199254740991">a</td></tr></table></body></html>',
        "<html><body><table>"
        + ("<tr>" + "<td>c</td>" * 200 + "</tr>") * 2000
        + "</table></body></html>",
        # 15 MB of HTML: a soup of nested inline tags and text.
        "<html><body>" + "<div><span><b>word</b> text <i>more</i></span></div>" * 300_000,
    ],
    ids=["deep-nesting", "50000-p", "huge-colspan", "huge-table", "15MB"],
)
def test_pathological_pages_stay_within_limits(html: str) -> None:
    settings = ExtractSettings(workers=1, timeout=1.0, memory_mb=512)
    with ExtractorPool(settings) as p:
        results = dict(p.extract_many([job("bad", html.encode()), job("next")]))
    bad = results["bad"]
    if isinstance(bad, ExtractError):
        assert bad.kind in {"extract_timeout", "extract_error"}
    else:
        assert isinstance(bad, ExtractedPage)
    nxt = results["next"]
    assert isinstance(nxt, ExtractedPage) and "arms transfers" in nxt.text


def test_close_is_idempotent_and_restartable() -> None:
    p = ExtractorPool(ExtractSettings(workers=1, timeout=5.0))
    with p:
        assert dict(p.extract_many([job("a")]))["a"]
    p.close()
    with p:
        assert isinstance(dict(p.extract_many([job("b")]))["b"], ExtractedPage)


def test_workers_do_not_rerun_the_callers_main_script(tmp_path: Path) -> None:
    # A main module that cannot be re-imported (stdin) or must not be (it prints).
    script = (
        "print('main ran')\n"
        "from newsradar.config import ExtractSettings\n"
        "from newsradar.extract_pool import ExtractJob, ExtractorPool\n"
        "with ExtractorPool(ExtractSettings(workers=1)) as pool:\n"
        "    html = b'<html><body><article><p>' + b'A full sentence of text. ' * 20 + b'</p>'\n"
        "    [(key, page)] = pool.extract_many([ExtractJob('k', html, 'https://e.org/a')])\n"
        "    print(type(page).__name__, page.status)\n"
    )
    path = tmp_path / "main_script.py"
    path.write_text(script)
    for run in (["-"], [str(path)]):
        out = subprocess.run(
            [sys.executable, *run],
            input=script if run == ["-"] else None,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert out.stdout.splitlines() == ["main ran", "ExtractedPage ok"], out.stderr


def test_workers_die_with_a_killed_pass() -> None:
    # The pass is SIGKILLed while a worker spins on a hung page: no orphan may keep spinning.
    script = (
        "import sys\n"
        "from newsradar.config import ExtractSettings\n"
        "from newsradar.extract_pool import ExtractJob, ExtractorPool\n"
        "from tests.extract_hooks import misbehaving_extract\n"
        "settings = ExtractSettings(workers=2, timeout=600)\n"
        "pool = ExtractorPool(settings, extractor=misbehaving_extract)\n"
        "pool.start()\n"
        "print(*(w.process.pid for w in pool._workers), flush=True)\n"
        "jobs = [ExtractJob(str(i), b'HANG', 'https://e.org/h') for i in range(2)]\n"
        "list(pool.extract_many(jobs))\n"
    )
    repo = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", script], cwd=repo, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2
        time.sleep(1.0)  # let both workers take their hung page
        proc.kill()
    assert all_gone(pids, timeout=20)


def _unpicklable_extractor() -> ExtractorPool:
    # A lambda cannot be sent to the forkserver: starting any worker fails.
    return ExtractorPool(ExtractSettings(workers=1), extractor=lambda *a, **k: None)


def test_a_start_that_failed_in_the_background_is_raised_to_the_first_caller() -> None:
    with _unpicklable_extractor() as p, pytest.raises(Exception, match="lambda"):
        list(p.extract_many([job("a")]))


def test_a_failed_start_nobody_waited_for_is_logged_when_the_pool_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with _unpicklable_extractor():
        pass
    assert "extraction workers failed to start" in caplog.text
    assert "lambda" in caplog.text
