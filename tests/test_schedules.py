"""The [schedule] table: cron lines and intervals, rejected with the key and the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from newsradar.cli import main
from newsradar.config import load_config
from newsradar.errors import ConfigError
from newsradar.schedules import ScheduleSpec, parse_schedule, schedules_of
from tests.conftest import write_config
from tests.sample_site import WATCHLIST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*/15 * * * *", ScheduleSpec("*/15 * * * *", None, "UTC")),
        ("* * * * *", ScheduleSpec("* * * * *", None, "UTC")),
        ("0 7 * * mon-fri", ScheduleSpec("0 7 * * mon-fri", None, "UTC")),
        ("30  3 1,15 * *", ScheduleSpec("30 3 1,15 * *", None, "UTC")),
        ("900", ScheduleSpec(None, timedelta(minutes=15), "UTC")),
        ("15m", ScheduleSpec(None, timedelta(minutes=15), "UTC")),
        ("1h", ScheduleSpec(None, timedelta(hours=1), "UTC")),
        ("2D", ScheduleSpec(None, timedelta(days=2), "UTC")),
        # The edges of every field, names, Sunday as 7, a range that wraps around.
        ("59 23 31 12 7", ScheduleSpec("59 23 31 12 7", None, "UTC")),
        ("0 0 1 1 0", ScheduleSpec("0 0 1 1 0", None, "UTC")),
        ("0 0 * jan-mar sun,sat", ScheduleSpec("0 0 * jan-mar sun,sat", None, "UTC")),
        ("0-59/5 * * * fri-mon", ScheduleSpec("0-59/5 * * * fri-mon", None, "UTC")),
    ],
)
def test_cron_lines_and_intervals_are_accepted(text: str, expected: ScheduleSpec) -> None:
    assert parse_schedule(text, "UTC", key="schedule.ingest") == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("every 15 minutes", "neither a 5-field cron line"),
        ("*/15 * * *", "neither a 5-field cron line"),
        ("0 0 * * * *", "neither a 5-field cron line"),
        ("H * * * *", "neither a 5-field cron line"),
        ("30s", "shorter than a minute"),
        # Intervals beyond a year overflowed timedelta: exit 70 instead of exit 2.
        ("99999999999999999999h", "longer than a year"),
        ("367d", "longer than a year"),
        ("", "neither a 5-field cron line"),
        # Well formed, but a value no clock ever shows: Prefect would refuse it only after
        # `serve` had started its server.
        ("99 * * * *", "minute 99 is out of range 0-59"),
        ("0 24 * * *", "hour 24 is out of range 0-23"),
        ("0 0 0 * *", "day of month 0 is out of range 1-31"),
        ("0 0 32 * *", "day of month 32 is out of range 1-31"),
        ("0 0 * 13 *", "month 13 is out of range 1-12"),
        ("0 0 * * 8", "day of week 8 is out of range 0-7"),
        ("0 0-60 * * *", "hour 60 is out of range 0-23"),
        ("*/0 * * * *", "step of the minute field must be at least 1"),
        ("0 0 * * jan", "'jan' is not a day of week \\(use 0-7; names are sun-sat\\)"),
        ("0 0 mon * *", "'mon' is not a day of month \\(use 1-31\\)"),
    ],
)
def test_bad_schedules_name_the_key_and_the_fix(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as info:
        parse_schedule(text, "UTC", key="schedule.ingest")
    assert info.value.key == "schedule.ingest"


def test_an_unknown_timezone_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="IANA timezone") as info:
        parse_schedule("0 7 * * *", "Mars/Olympus", key="schedule.alerts")
    assert info.value.key == "schedule.timezone"


def test_every_deployment_gets_its_schedule(tmp_path: Path) -> None:
    config = write_config(tmp_path, feeds="", watchlist=WATCHLIST)
    settings = config / "newsradar.toml"
    settings.write_text(
        settings.read_text() + '\n[schedule]\ningest = "5m"\ntimezone = "Europe/Oslo"\n'
    )

    specs = schedules_of(load_config(config))

    assert specs["ingest"] == ScheduleSpec(None, timedelta(minutes=5), "Europe/Oslo")
    assert specs["alerts"].cron == "0 7 * * *"
    assert specs["maintenance"].cron == "30 3 * * *"


def test_serve_with_a_bad_schedule_exits_2_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feeds="", watchlist=WATCHLIST)
    settings = config / "newsradar.toml"
    settings.write_text(settings.read_text() + '\n[schedule]\ningest = "hourly"\n')

    assert main(["serve", "--config", str(config)]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert "newsradar.toml: schedule.ingest" in err
    assert not (config / "data").exists()
