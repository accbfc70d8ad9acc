"""The monitoring pass as a Prefect flow: it only sequences library stages.

Retries live on tasks and only for transient errors (timeouts, a locked database).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

from prefect import State, Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.served import (
    failed_in_one_line,
    failed_when_served,
    retried,
    skipped_when_served,
    typed_failures,
)
from newsradar import pipeline
from newsradar.config import Config, load_config
from newsradar.errors import ConfigError, NewsradarError, RunLockedError, is_transient
from newsradar.identity import article_id
from newsradar.maintenance import Recorded, close_interrupted, record_failure
from newsradar.monitor import check_pass, kv, summary_markdown
from newsradar.progress import current
from newsradar.runlock import pass_lock
from newsradar.shutdown import deferred_termination

local_log = logging.getLogger("newsradar.ingest")

__all__ = ["ingest", "transient_task"]


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only errors marked transient; permanent ones fail fast."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by Prefect
        return is_transient(exc)
    return False


T = TypeVar("T")


def _opaque(value: T) -> T:
    """``value`` as a task argument Prefect does not walk: it would visit every entry of a
    poll looking for futures, once per task (the task still receives the plain value)."""
    return cast(T, quote(value))


# Task results are plain data kept in memory; nothing is cached across runs.
DELAYS = [2.0, 10.0]

P = ParamSpec("P")
R = TypeVar("R")


def transient_task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task retried (after 2 s, then 10 s) when it fails with a transient error."""
    return task(
        name=name,
        cache_policy=NO_CACHE,
        retries=len(DELAYS),
        retry_delay_seconds=DELAYS,
        retry_jitter_factor=0.5,
        retry_condition_fn=retry_transient,
    )


def _freeze_survivors() -> None:
    """Move everything alive now out of the cyclic collector's sight for the rest of the pass.

    Modules, Prefect's engine and the configuration live until the pass ends, yet every full
    collection that the feeds' and pages' garbage triggers walked them again (~0.1 s each).
    Garbage is collected first, so none is kept; a second call only walks what the first left.
    """
    gc.collect()
    gc.freeze()


@transient_task("begin-pass")
def begin_pass(config: Config, run_id: str) -> pipeline.PassContext:
    with deferred_termination():  # a cancelled run still finishes its transaction
        # A retry may find the row its earlier attempt committed: that pass is this one.
        close_interrupted(config, current=run_id)
        return pipeline.begin_pass(config, run_id=run_id)


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds(config: Config, ctx: pipeline.PassContext) -> pipeline.PollResult:
    return pipeline.poll_feeds(config, ctx, progress=current())


@transient_task("store-entries")
def store_entries(
    config: Config, ctx: pipeline.PassContext, polled: pipeline.PollResult
) -> pipeline.StoreResult:
    # The poll lives until the pass ends too: out of the collector's sight with the rest.
    _freeze_survivors()
    return pipeline.store_entries(config, ctx, polled, progress=current())


@transient_task("deliver-alerts")
def deliver_alerts(config: Config) -> pipeline.DeliveryReport:
    with deferred_termination():  # never a mail sent but not marked sent
        return pipeline.deliver_alerts(config)


@transient_task("finish-pass")
def finish_pass(
    config: Config,
    ctx: pipeline.PassContext,
    polled: pipeline.PollResult,
    stored: pipeline.StoreResult,
    delivered: pipeline.DeliveryReport,
    deliver_seconds: float,
) -> pipeline.RunSummary:
    with deferred_termination():
        return pipeline.finish_pass(
            config, ctx, polled, stored, delivered, deliver_seconds=deliver_seconds
        )


@task(name="report-pass", cache_policy=NO_CACHE)
def report_pass(config: Config, polled: pipeline.PollResult, summary: pipeline.RunSummary) -> None:
    """Log lines per feed and article, the summary artifact, and the operator check."""
    logger = get_run_logger()
    # One warning per pass; the details per feed are in the summary artifact, `newsradar
    # feeds` and the CLI's table, so they stay at INFO (shown with --verbose).
    for feed_id, kind, message in summary.feeds_failed:
        logger.info(kv("feed_failed", feed_id=feed_id, error=kind, detail=message[:300]))
    if summary.feeds_failed:
        ids = [feed_id for feed_id, _, _ in summary.feeds_failed]
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        logger.warning(kv("feeds_failed", count=len(ids), feeds=shown))
    # One line per article goes to the local log only: thousands of them would cost the
    # Prefect server more CPU than the pass spends on matching.
    for e in polled.entries:
        local_log.info(kv("entry_new", feed_id=e.feed_id, article_id=article_id(e.feed_id, e.guid)))
    for watch_id, count in sorted(summary.matches_per_watch.items()):
        logger.info(kv("watch_matched", watch_id=watch_id, articles=count))
    logger.info(
        kv("pass_finished", run_id=summary.run_id, stored=summary.articles_stored,
           alerts_sent=summary.alerts_sent, failed=len(summary.feeds_failed))
    )  # fmt: skip
    create_markdown_artifact(
        summary_markdown(summary), key="ingest-pass", description=f"Pass {summary.run_id}"
    )
    check_pass(config, summary, datetime.now(UTC))


@flow(name="ingest", log_prints=False)
def ingest(
    config_dir: str = "config", retry_delays: list[float] | None = None
) -> pipeline.RunSummary | State[Any]:
    """One monitoring pass over the configuration in ``config_dir``.

    ``retry_delays``: seconds before each retry of a task that hit a transient error (a
    database held by another process); by default 2 s, then 10 s.
    """
    try:
        config = load_config(Path(config_dir))
        # A watch that does not compile fails here, not inside a task with a traceback.
        pipeline.compiled_matcher(config)
    except ConfigError as exc:
        return failed_when_served(exc, Path(config_dir))
    _freeze_survivors()
    with ExitStack() as held, typed_failures():
        try:
            held.enter_context(pass_lock(config.storage.database))
        except RunLockedError as exc:
            return skipped_when_served(exc)
        # Made once per pass, not per attempt: an attempt that committed the pass's runs row
        # and then failed (on its checkpoint) is retried onto that same row, and should every
        # attempt fail, the flow still knows which row to mark.
        run_id = pipeline.new_run_id(datetime.now(UTC))
        try:
            ctx = retried(begin_pass, retry_delays)(config, run_id)
        except NewsradarError as exc:
            recorded = record_failure(config, run_id, exc)
            return failed_in_one_line(exc, _not_begun(run_id, recorded))
        try:
            polled = poll_feeds(config, ctx)
            stored = retried(store_entries, retry_delays)(config, ctx, _opaque(polled))
            started = time.monotonic()
            delivered = retried(deliver_alerts, retry_delays)(config)
            summary = retried(finish_pass, retry_delays)(
                config, ctx, _opaque(polled), stored, delivered, time.monotonic() - started
            )
        except Exception as exc:
            # `runs` says why, now or (the database held) at the next pass. A kill or a
            # cancellation is not an Exception: the next pass marks those `interrupted`.
            recorded = record_failure(config, ctx.run_id, exc)
            if not isinstance(exc, NewsradarError):
                raise  # a bug: its traceback is how it gets reported
            return failed_in_one_line(exc, _recorded(ctx.run_id, recorded))
        report_pass(config, _opaque(polled), summary)
        return summary


def _not_begun(run_id: str, recorded: Recorded) -> str:
    """What the failure line of a pass that did not begin says about its runs row."""
    if recorded == "recorded":  # the row an attempt committed, or one written for it now
        return f"this pass did not begin; runs row {run_id} records why"
    if recorded == "noted":  # the database could not be written; a note beside it was
        return (
            "this pass did not begin and could not write the database either; "
            f"the next pass records why in runs row {run_id}"
        )
    return (
        "this pass did not begin and has no runs row (neither the database nor a note "
        "beside it could be written)"
    )


def _recorded(run_id: str, recorded: Recorded) -> str:
    """What the failure line says about the pass's runs row."""
    if recorded == "recorded":
        return f"runs row {run_id} records why"
    if recorded == "noted":
        return (
            f"runs row {run_id} could not be marked either (the database was not writable); "
            "the next pass records why there"
        )
    return (
        f"runs row {run_id} could not be marked either (neither the database nor a note "
        "beside it was writable); the next pass marks it interrupted"
    )
