"""The monitoring pass as a Prefect flow: it only sequences library stages.

Retries live on tasks and only for transient errors (timeouts, a locked database).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from newsradar import pipeline
from newsradar.config import Config, load_config
from newsradar.errors import is_transient
from newsradar.runlock import run_lock

__all__ = ["ingest"]


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only errors marked transient; permanent ones fail fast."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by Prefect
        return is_transient(exc)
    return False


# Task results are plain data kept in memory; nothing is cached across runs.
DELAYS = [2.0, 10.0]


@task(
    name="begin-pass",
    cache_policy=NO_CACHE,
    retries=len(DELAYS),
    retry_delay_seconds=DELAYS,
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient,
)
def begin_pass(config: Config) -> pipeline.PassContext:
    return pipeline.begin_pass(config)


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds(config: Config, ctx: pipeline.PassContext) -> pipeline.PollResult:
    return pipeline.poll_feeds(config, ctx)


@task(
    name="store-entries",
    cache_policy=NO_CACHE,
    retries=len(DELAYS),
    retry_delay_seconds=DELAYS,
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient,
)
def store_entries(
    config: Config, ctx: pipeline.PassContext, polled: pipeline.PollResult
) -> pipeline.StoreResult:
    return pipeline.store_entries(config, ctx, polled)


@task(
    name="deliver-alerts",
    cache_policy=NO_CACHE,
    retries=len(DELAYS),
    retry_delay_seconds=DELAYS,
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient,
)
def deliver_alerts(config: Config) -> pipeline.DeliveryReport:
    return pipeline.deliver_alerts(config)


@task(
    name="finish-pass",
    cache_policy=NO_CACHE,
    retries=len(DELAYS),
    retry_delay_seconds=DELAYS,
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient,
)
def finish_pass(
    config: Config,
    ctx: pipeline.PassContext,
    polled: pipeline.PollResult,
    stored: pipeline.StoreResult,
    delivered: pipeline.DeliveryReport,
    deliver_seconds: float,
) -> pipeline.RunSummary:
    return pipeline.finish_pass(
        config, ctx, polled, stored, delivered, deliver_seconds=deliver_seconds
    )


@flow(name="ingest", log_prints=False)
def ingest(config_dir: str = "config") -> pipeline.RunSummary:
    """One monitoring pass over the configuration in ``config_dir``."""
    config = load_config(Path(config_dir))
    with run_lock(config.storage.database.with_suffix(".lock")):
        ctx = begin_pass(config)
        polled = poll_feeds(config, ctx)
        stored = store_entries(config, ctx, polled)
        started = time.monotonic()
        delivered = deliver_alerts(config)
        return finish_pass(config, ctx, polled, stored, delivered, time.monotonic() - started)
