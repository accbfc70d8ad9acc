"""What a pass leaves behind for the operator: artifacts, retried lock waits, operator mail."""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes
from pathlib import Path
from uuid import UUID

import duckdb
import pytest
from flows.alerts import alerts
from flows.ingest import ingest
from flows.maintenance import maintenance
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)

from newsradar.config import load_config
from newsradar.pipeline import RunSummary
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, serve_seed

pytestmark = pytest.mark.usefixtures("prefect_harness")

SETTINGS = (
    '[storage]\ndatabase = "data/newsradar.duckdb"\nlock_timeout = {lock_timeout}\n\n'
    '[alerts]\noutbox_dir = "data/outbox"\nrecipients = ["analyst@example.org"]\n'
    'operator = "ops@example.org"\n\n'
    '[fetch]\nallow_networks = ["127.0.0.1/32"]\nmin_host_delay = 0\nbackoff_base = 0.05\n'
    "timeout = 5\ndeadline = 10\nretries = 0\n"
)


def make_config(tmp_path: Path, server: LoopbackHTTPServer, lock_timeout: float = 5) -> Path:
    serve_seed(server)
    feeds = (
        f'[[feed]]\nname = "wire"\nurl = "{server.url("/feed.xml")}"\n\n'
        f'[[feed]]\nname = "gone"\nurl = "{server.url("/gone.xml")}"\n'
    )
    settings = SETTINGS.format(lock_timeout=lock_timeout)
    return write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST, settings=settings)


def artifacts_of(flow_run_id: UUID) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key or "": str(a.data) for a in found}


def test_a_pass_publishes_its_summary(tmp_path: Path, http_server: LoopbackHTTPServer) -> None:
    config = make_config(tmp_path, http_server)

    state = ingest(str(config), return_state=True)

    summary = state.result()
    assert isinstance(summary, RunSummary) and summary.articles_stored == 2
    markdown = artifacts_of(state.state_details.flow_run_id)["ingest-pass"]  # type: ignore[arg-type]
    assert "| gone | http\\_4xx |" in markdown
    assert "| nato | 1 |" in markdown
    assert "alerts sent: **8**" in markdown


def test_a_database_held_for_a_moment_is_waited_out_by_retries(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    config = make_config(tmp_path, http_server, lock_timeout=0.3)
    database = load_config(config).storage.database
    database.parent.mkdir(parents=True)
    # Another process (an analyst's session) holds the file longer than lock_timeout.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]);"
         " print('held', flush=True); time.sleep(1.5)", str(database)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"

    state = ingest(str(config), return_state=True)

    holder.wait(10)
    assert state.is_completed()
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id])  # type: ignore[list-item]
            )
        )
    begin = next(r for r in runs if r.name.startswith("begin-pass"))
    assert begin.run_count >= 2


def test_every_feed_failing_mails_the_operator(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    config = make_config(tmp_path, http_server)
    feeds = config / "feeds.toml"
    feeds.write_text(f'[[feed]]\nname = "gone"\nurl = "{http_server.url("/gone.xml")}"\n')

    ingest(str(config))
    ingest(str(config))  # the same outage is not mailed twice

    outbox = load_config(config).alerts.outbox_dir
    mails = [message_from_bytes(p.read_bytes()) for p in outbox.glob("*.eml")]
    assert [(m["To"], m["Subject"]) for m in mails if "failed" in m["Subject"]] == [
        ("ops@example.org", mails[0]["Subject"])
    ]
    assert "every feed failed" in mails[0]["Subject"]
    assert "gone: http_4xx" in mails[0].get_payload()


def test_maintenance_checkpoints_and_reports_feed_health(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    config = make_config(tmp_path, http_server)
    ingest(str(config))

    state = maintenance(str(config), return_state=True)
    delivered = alerts(str(config))

    report = state.result()
    assert [f.feed_id for f in report.failing] == ["gone"]
    assert "| gone | failing | 1 |" in artifacts_of(state.state_details.flow_run_id)["feed-health"]  # type: ignore[arg-type]
    assert delivered.sent == 0  # the pass already delivered its digests
    wal = load_config(config).storage.database.with_suffix(".duckdb.wal")
    assert not wal.exists()
    with duckdb.connect(str(load_config(config).storage.database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (2,)
