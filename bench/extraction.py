"""Extraction benchmark: AEB quality of the text newsradar stores, and pool throughput.

Rows:
1. AEB F1 of ``newsradar.extract.extract_page`` (run through ``ExtractorPool``, i.e. exactly
   what the pipeline stores) against trafilatura's published 0.958.
2. The scorer's check: re-scoring the AEB's own ``output/trafilatura.json`` (should give 0.958).
3. Throughput of ``ExtractorPool`` over the AEB pages vs a plain ``ProcessPoolExecutor`` running
   ``trafilatura.extract`` over the same pages with the same number of workers, both pools
   started and warm before the clock; alternated runs, best of each (the machine is shared).
4. The same including pool start-up (forkserver + workers) for both.

Run: ``python -m bench.extraction [--quick]`` (or ``make bench``).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import trafilatura

from bench._aeb import aeb_dir, load_pages, load_predictions, load_truth, load_urls, score
from bench._row import row
from bench._stock import stock_trafilatura
from newsradar.config import ExtractSettings
from newsradar.errors import ExtractError
from newsradar.extract_pool import ExtractJob, ExtractorPool, worker_count

PUBLISHED_F1 = 0.958
POOL_TARGET = 0.85


def _plain(args: tuple[bytes, str]) -> int:
    html, url = args
    return len(trafilatura.extract(html, url=url) or "")


def _row(measure: str, value: float, name: str, base: float | None, **kw: Any) -> dict[str, Any]:
    return row("extract", measure, value, name, base, **kw)


def _quality(
    pages: list[tuple[str, bytes]], urls: dict[str, str], workers: int
) -> list[dict[str, Any]]:
    root = aeb_dir()
    truth = load_truth(root)
    stored: dict[str, str] = {}
    failures = 0
    with ExtractorPool(ExtractSettings(workers=workers)) as pool:
        jobs = (ExtractJob(key, html, urls[key]) for key, html in pages)
        for key, result in pool.extract_many(jobs):
            if isinstance(result, ExtractError):
                failures += 1
                stored[key] = ""
            else:
                stored[key] = result.text
    ours = score({k: truth[k] for k in stored}, stored)
    published = load_predictions(root / "output" / "trafilatura.json")
    check = score(truth, published)
    return [
        _row(
            "AEB F1 of stored article text (higher is better)",
            ours["f1"],
            "trafilatura 2.0.0 published F1",
            PUBLISHED_F1,
            unit="F1",
            target=f">= {PUBLISHED_F1}",
            met=ours["f1"] >= PUBLISHED_F1,
            notes=(
                f"{len(stored)} AEB pages; P {ours['precision']:.3f} R {ours['recall']:.3f} "
                f"accuracy {ours['accuracy']:.3f}; {failures} pages over the pool's limits"
            ),
        ),
        _row(
            "AEB F1 of output/trafilatura.json re-scored (checks our scorer)",
            check["f1"],
            "published",
            PUBLISHED_F1,
            unit="F1",
            target="0.958 +- 0.001",
            met=abs(check["f1"] - PUBLISHED_F1) <= 0.001,
            notes=f"P {check['precision']:.3f} R {check['recall']:.3f}",
        ),
    ]


def _throughput(
    pages: list[tuple[str, bytes]], urls: dict[str, str], workers: int, rounds: int
) -> list[dict[str, Any]]:
    args = [(html, urls[key]) for key, html in pages]
    jobs = [ExtractJob(key, html, urls[key]) for key, html in pages]
    warm = max(workers * 2, 4)
    ours: list[float] = []
    plain: list[float] = []
    t0 = time.perf_counter()
    with ExtractorPool(ExtractSettings(workers=workers)) as pool:
        for _ in pool.extract_many(jobs[:warm]):
            pass
        cold_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        with ProcessPoolExecutor(workers, initializer=stock_trafilatura) as executor:
            list(executor.map(_plain, args[:warm]))
            cold_plain = time.perf_counter() - t0
            for _ in range(rounds):
                t0 = time.perf_counter()
                list(executor.map(_plain, args))
                plain.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                for _ in pool.extract_many(jobs):
                    pass
                ours.append(time.perf_counter() - t0)
    n = len(pages)
    best_ours, best_plain = n / min(ours), n / min(plain)
    return [
        _row(
            "pages/s, ExtractorPool vs ProcessPoolExecutor+trafilatura.extract (higher is better)",
            best_ours,
            f"ProcessPoolExecutor({workers}) trafilatura.extract",
            best_plain,
            unit="pages/s",
            target=f">= {POOL_TARGET}x",
            met=best_ours / best_plain >= POOL_TARGET,
            notes=(
                f"{n} AEB pages, {workers} workers, best of {rounds} alternated runs, pools warm; "
                f"pool adds decoding, metadata, dates and the hard time/memory limits"
            ),
        ),
        _row(
            "seconds to start a pool and run its first pages (lower is better)",
            cold_ours,
            "ProcessPoolExecutor (fork)",
            cold_plain,
            unit="s",
            target="informational",
            met=None,
            notes=f"{warm} pages; newsradar starts a forkserver that imports trafilatura once",
        ),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    root = aeb_dir()
    urls = load_urls(root)
    pages = list(load_pages(root))
    workers = worker_count(ExtractSettings())
    rows = _quality(pages, urls, workers)
    sample = pages[:60] if quick else pages
    rows += _throughput(sample, urls, workers, rounds=1 if quick else 3)
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
