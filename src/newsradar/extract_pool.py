"""Extraction in worker processes with a hard time limit and a memory cap per page.

trafilatura has no time limit of its own, and pathological pages (deep nesting, huge tables)
have hung it or exhausted memory, so every page runs in a worker process the parent can kill.
Jobs go over a pipe: the parent sends (sequence number, bytes, url, content type) and waits on
all pipes and process sentinels at once, with a timeout equal to the nearest deadline. Each
worker holds up to ``DEPTH`` jobs, the first running and the next waiting in its pipe, so it
starts the next page the moment it sends a result, without waiting for the parent (whose
threads share one GIL) to hand one out. A worker past its deadline is killed and replaced;
one that dies (out of memory, a crash) is replaced too; its running page yields an
:class:`ExtractError`, the pages queued behind it go to another worker, and the pool goes on.

    with ExtractorPool(cfg.extract) as pool:
        for key, result in pool.extract_many(jobs):
            if isinstance(result, ExtractError): ...   # result.kind: extract_timeout | _error

Workers are forked from the pass's forkserver (:mod:`newsradar.forkserver`), which has
imported trafilatura once and filled its lazy caches, so they start small and warm (the
address-space cap does not count the parent's memory) and a replacement costs a fork.
Entering the pool starts them in the background; the first ``extract_many`` waits for them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from types import TracebackType
from typing import Any

from newsradar import forkserver
from newsradar.config import ExtractSettings
from newsradar.errors import ExtractError
from newsradar.extract import ExtractedPage, extract_page

__all__ = ["ExtractJob", "ExtractorPool", "worker_count"]

Extractor = Callable[..., ExtractedPage]
log = logging.getLogger(__name__)
# Jobs in flight per worker: the running one and one queued behind it.
DEPTH = 2


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """One page to extract; ``key`` comes back with its result."""

    key: str
    html: bytes
    url: str
    content_type: str | None = None


def worker_count(settings: ExtractSettings) -> int:
    """``settings.workers``, or the cores this process may run on when it is 0."""
    if settings.workers:
        return settings.workers
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError) as exc:  # pragma: no cover - platform specific
        log.warning("cannot cap worker memory at %s MB: %s", memory_mb, exc)


def _worker_main(
    conn: Connection, extractor: Extractor, memory_mb: int, min_chars: int, timeout: float
) -> None:
    """Loop: receive a job, extract, send (seq, ok, payload, retiring). ``None`` means stop."""
    # The parent owns Ctrl-C; a worker interrupted mid-page would only report noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    _limit_memory(memory_mb)
    forkserver.die_with_pass()
    # Second line of defence: SIGALRM's default action ends the process even while C code
    # holds the GIL, should the parent fail to kill a worker past its deadline.
    alarm = int(timeout * 2) + 5
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        seq, html, url, content_type = message
        retire = False
        payload: ExtractedPage | str
        signal.alarm(alarm)
        try:
            ok, payload = True, extractor(html, url, content_type=content_type, min_chars=min_chars)
        except MemoryError:
            # The heap may be fragmented past use: report, then let the parent replace us.
            ok, payload, retire = False, f"ran out of memory (cap {memory_mb} MB)", True
        except RecursionError:
            ok, payload = False, "markup nested too deeply to extract"
        except Exception as exc:
            ok, payload = False, f"{type(exc).__name__}: {str(exc)[:200]}"
        signal.alarm(0)
        reply = (seq, ok, payload, retire)
        del html, message
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        if retire:
            return


_SEND_BUFFER = 8 << 20  # asked for; the kernel caps it at net.core.wmem_max


def _grow_send_buffer(conn: Connection) -> int:
    """Let the pipe to a worker hold a queued page without blocking the sender; return the
    size of page that safely fits (a quarter of the buffer the kernel granted)."""
    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    except OSError:
        return 0
    with sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
        except OSError:
            pass
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)) // 4


class _Worker:
    __slots__ = ("conn", "deadline", "done", "jobs", "process")

    def __init__(self, process: Any, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        # (sequence number, job) sent and not answered yet, oldest (the running one) first.
        self.jobs: deque[tuple[int, ExtractJob]] = deque()
        # When the running job's time is up.
        self.deadline = 0.0
        self.done = 0


class ExtractorPool:
    """A pool of extraction workers sized to the cores; see the module docstring."""

    def __init__(
        self,
        settings: ExtractSettings,
        *,
        extractor: Extractor = extract_page,
        max_jobs_per_worker: int = 1000,
        start_method: str | None = None,
    ) -> None:
        """``extractor`` must be a module-level function (it is sent to the workers)."""
        self.settings = settings
        self.size = worker_count(settings)
        self._extractor = extractor
        self._max_jobs = max_jobs_per_worker
        self._ctx = forkserver.context(start_method)
        self._workers: list[_Worker] = []
        # Starts the workers after __enter__ returns; the first extract_many waits for it.
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None
        self._seq = 0
        # The largest page that may wait in a worker's pipe (see _grow_send_buffer).
        self._queue_limit = 0
        # Counters for the run record: how many pages hit each limit.
        self.timeouts = 0
        self.crashes = 0

    def __enter__(self) -> ExtractorPool:
        """Start the workers in the background: the first time, the forkserver imports
        trafilatura before it forks (~0.3 s), which the caller can spend fetching pages."""
        if self._starter is None and len(self._workers) < self.size:
            self._start_error = None
            self._starter = threading.Thread(
                target=self._start_noting_error, name="newsradar-extract-start", daemon=True
            )
            self._starter.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the workers, or wait for the start ``__enter__`` began (idempotent)."""
        self._join_starter()
        self._spawn_missing()

    def _spawn_missing(self) -> None:
        while len(self._workers) < self.size:
            self._workers.append(self._spawn())

    def _start_noting_error(self) -> None:
        try:
            self._spawn_missing()
        except BaseException as exc:  # re-raised in the caller's thread by _join_starter
            self._start_error = exc

    def _join_starter(self) -> None:
        if self._starter is None:
            return
        self._starter.join()
        self._starter = None
        error, self._start_error = self._start_error, None
        if error is not None:
            raise error

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        self._queue_limit = _grow_send_buffer(parent)
        process = self._ctx.Process(  # type: ignore[attr-defined]
            target=_worker_main,
            args=(
                child,
                self._extractor,
                self.settings.memory_mb,
                self.settings.fallback_min_chars,
                self.settings.timeout,
            ),
            name="newsradar-extract",
            daemon=True,
        )
        with forkserver.main_module_hidden():
            process.start()
        child.close()
        return _Worker(process, parent)

    def _kill(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        self._workers[self._workers.index(worker)] = self._spawn()

    def close(self) -> None:
        """Stop every worker: politely if idle, by SIGKILL if busy or slow to leave."""
        try:
            self._join_starter()
        except Exception as exc:  # nobody asked for a page: the failed start only ends here
            log.warning("extraction workers failed to start: %s", exc)
        for worker in self._workers:
            if not worker.jobs:
                try:
                    worker.conn.send(None)
                except (OSError, ValueError):
                    pass
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            worker.process.join(max(deadline - time.monotonic(), 0))
            self._kill(worker)
        self._workers = []

    def _send(self, worker: _Worker, job: ExtractJob) -> bool:
        self._seq += 1
        try:
            worker.conn.send((self._seq, job.html, job.url, job.content_type))
        except (OSError, ValueError):
            return False
        if not worker.jobs:
            worker.deadline = time.monotonic() + self.settings.timeout
        worker.jobs.append((self._seq, job))
        return True

    def _failure(
        self, worker: _Worker, retry: deque[ExtractJob], kind: str, message: str
    ) -> tuple[str, ExtractError]:
        """The running job fails; the jobs queued behind it go back to ``retry``."""
        _, job = worker.jobs.popleft()
        self._hand_back(worker, retry)
        return job.key, ExtractError(kind, job.url, message)

    def _hand_back(self, worker: _Worker, retry: deque[ExtractJob]) -> None:
        """Replace ``worker``; the pages still queued on it go to the front of ``retry``."""
        retry.extendleft(reversed([queued for _, queued in worker.jobs]))
        worker.jobs.clear()
        self._replace(worker)

    def _hand_out(self, source: Iterator[ExtractJob], retry: deque[ExtractJob]) -> None:
        """Fill every worker up to ``DEPTH`` jobs, idle workers first."""
        for depth in range(1, DEPTH + 1):
            for i in range(len(self._workers)):
                worker = self._workers[i]
                # A worker retires after max_jobs: never queue past that.
                if len(worker.jobs) >= depth or worker.done + len(worker.jobs) >= self._max_jobs:
                    continue
                job = retry.popleft() if retry else next(source, None)
                if job is None:
                    return
                if depth > 1 and len(job.html) > self._queue_limit:
                    # Queued behind a running page, a page this big could fill the pipe and
                    # block this send while the worker blocks sending its result: it waits
                    # for an idle worker instead.
                    retry.appendleft(job)
                    return
                if not self._send(worker, job):
                    # The worker died: the page never reached it.
                    retry.appendleft(job)
                    if not worker.jobs:
                        self._replace(worker)
                    # Otherwise its sentinel reports the death of the page it was running.

    def extract_many(
        self, jobs: Iterable[ExtractJob]
    ) -> Iterator[tuple[str, ExtractedPage | ExtractError]]:
        """Yield ``(job.key, page or ExtractError)`` as pages complete; never raises per page.

        Jobs are pulled from ``jobs`` only as workers free up, so a generator is fine.
        """
        self.start()
        source = iter(jobs)
        retry: deque[ExtractJob] = deque()
        try:
            while True:
                self._hand_out(source, retry)
                busy = [w for w in self._workers if w.jobs]
                if not busy:
                    if retry:  # every worker died at the send: start afresh
                        continue
                    return
                timeout = max(min(w.deadline for w in busy) - time.monotonic(), 0.0)
                handles: dict[Any, _Worker] = {}
                for w in busy:
                    handles[w.conn] = w
                    handles[w.process.sentinel] = w
                ready = wait(list(handles), timeout)
                seen: set[int] = set()
                for handle in ready:
                    worker = handles[handle]
                    if id(worker) in seen or not worker.jobs:
                        continue
                    seen.add(id(worker))
                    yield self._collect(worker, retry)
                now = time.monotonic()
                for worker in busy:
                    if worker.jobs and id(worker) not in seen and worker.deadline <= now:
                        self.timeouts += 1
                        yield self._failure(
                            worker,
                            retry,
                            "extract_timeout",
                            f"extraction took longer than {self.settings.timeout:g} s "
                            "(extract.timeout); page skipped, worker replaced",
                        )
        finally:
            # Abandoned mid-way (the caller stopped iterating): busy workers hold stale pages.
            for worker in list(self._workers):
                if worker.jobs:
                    worker.jobs.clear()
                    self._replace(worker)

    def _collect(
        self, worker: _Worker, retry: deque[ExtractJob]
    ) -> tuple[str, ExtractedPage | ExtractError]:
        """The result a ready worker has, or the error its death means."""
        try:
            seq, ok, payload, retiring = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(1)
            self.crashes += 1
            code = worker.process.exitcode
            why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            return self._failure(
                worker,
                retry,
                "extract_error",
                f"extraction worker died ({why}); probably over the memory cap "
                f"(extract.memory_mb = {self.settings.memory_mb}); page skipped",
            )
        if seq != worker.jobs[0][0]:  # pragma: no cover - protocol invariant
            return self._failure(worker, retry, "extract_error", "worker answered out of turn")
        _, job = worker.jobs.popleft()
        worker.done += 1
        # The next queued page started as this one ended.
        worker.deadline = time.monotonic() + self.settings.timeout
        if retiring:
            # The worker leaves after this answer: the pages queued behind it go elsewhere.
            self._hand_back(worker, retry)
        elif worker.done >= self._max_jobs:
            self._retire(worker)
        if ok:
            return job.key, payload
        return job.key, ExtractError("extract_error", job.url, f"{payload}; page skipped")

    def _retire(self, worker: _Worker) -> None:
        try:
            worker.conn.send(None)
        except (OSError, ValueError):
            pass
        worker.process.join(1)
        self._replace(worker)
