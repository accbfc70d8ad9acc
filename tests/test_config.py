from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsradar.alerts.schedule import retry_delay
from newsradar.config import load_config
from newsradar.errors import ConfigError
from newsradar.fetch import backoff_delay
from newsradar.health import FeedHealth, next_health
from newsradar.models import FeedPoll
from tests.conftest import write_config

FEEDS = '[[feed]]\nname = "local"\nurl = "http://127.0.0.1:1/feed.xml"\n'
WATCHES = '[[watch]]\nid = "nato"\nterms = ["NATO"]\n'


def test_relative_paths_resolve_against_the_config_dir(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path / "cfg", feeds=FEEDS, watchlist=WATCHES))
    assert cfg.storage.database == (tmp_path / "cfg" / "data" / "newsradar.duckdb").resolve()
    assert cfg.alerts.outbox_dir == (tmp_path / "cfg" / "data" / "outbox").resolve()
    assert cfg.fetch.allow_networks == ("127.0.0.1/32",)
    assert [f.name for f in cfg.feeds] == ["local"]


@pytest.mark.parametrize(
    ("settings", "feeds", "watches", "needle"),
    [
        ("[fetch]\ntimeout = -1\n", FEEDS, WATCHES, "fetch.timeout"),
        ("[fetch]\nallow_networks = ['nonsense']\n", FEEDS, WATCHES, "allow_networks"),
        ("[smtp]\nhost = 'x'\npassword = 'hunter2'\n", FEEDS, WATCHES, "NEWSRADAR_SMTP_PASSWORD"),
        ("[storage]\ndatabse = 'x'\n", FEEDS, WATCHES, "storage.databse"),
        ("", '[[feed]]\nname = "Bad Name"\nurl = "http://x/"\n', WATCHES, "feed 'Bad Name'.name"),
        ("", '[[feed]]\nname = "a"\nurl = "ftp://x/"\n', WATCHES, "feed 'a'.url"),
        ("", FEEDS, '[[watch]]\nid = "x"\n', "terms"),
        ("", FEEDS, WATCHES + WATCHES, "duplicate id"),
        ("not toml [", FEEDS, WATCHES, "not valid TOML"),
        ("[schedule]\ningest = 'every tuesday'\n", FEEDS, WATCHES, "schedule.ingest"),
        ("[schedule]\nalerts = '0 7 * *'\n", FEEDS, WATCHES, "schedule.alerts"),
        ("[schedule]\ntimezone = 'Mars/Base'\n", FEEDS, WATCHES, "schedule.timezone"),
        # Accepted once, then every pass crashed on timedelta(hours=...) with exit 70.
        ("[schedule]\nstale_hours = inf\n", FEEDS, WATCHES, "schedule.stale_hours"),
        ("[schedule]\nstale_hours = 1e308\n", FEEDS, WATCHES, "schedule.stale_hours"),
        # A non-table [smtp] crashed the password check with a TypeError (exit 70).
        ("smtp = 3\n", FEEDS, WATCHES, "smtp: Input should be a valid dictionary"),
        # Header text httpx cannot send: every pass crashed with UnicodeEncodeError (exit 70).
        ("[fetch]\nuser_agent = 'radar \u00e9'\n", FEEDS, WATCHES, "fetch.user_agent"),
        ('[fetch]\ncontact_url = "https://x/\\nX: y"\n', FEEDS, WATCHES, "fetch.contact_url"),
        # The worker's alarm is int(timeout * 2): inf or 1e308 crashed every pass (exit 70).
        ("[extract]\ntimeout = inf\n", FEEDS, WATCHES, "extract.timeout"),
        ("[extract]\ntimeout = 1e308\n", FEEDS, WATCHES, "extract.timeout"),
        # Slept before every second request to a host: inf hung the pass forever.
        ("[fetch]\nmin_host_delay = inf\n", FEEDS, WATCHES, "fetch.min_host_delay"),
        # Not an array of tables: one clean line, not an internal error.
        ("", FEEDS, "watch = 3\n", "watch: write each watch as a [[watch]] table"),
        ("", FEEDS, '[watch]\nid = "x"\nterms = ["x"]\n', "as a [[watch]] table"),
        ("", FEEDS, 'watch = ["nato"]\n', "as a [[watch]] table"),
        ("", "feed = 3\n", WATCHES, "feed: write each feed as a [[feed]] table"),
        ("", '[feed]\nname = "a"\nurl = "http://x/"\n', WATCHES, "as a [[feed]] table"),
        # Bounds that cross: accepted once, then the cap silently won over the floor.
        (
            "[fetch]\nmin_poll_interval = 600\nmax_poll_interval = 300\n",
            FEEDS,
            WATCHES,
            "fetch: min_poll_interval (600) is above max_poll_interval (300)",
        ),
        (
            "[fetch]\nmin_poll_interval = 300\nmax_poll_interval = 0\n",
            FEEDS,
            WATCHES,
            "fetch: min_poll_interval (300) is above max_poll_interval (0)",
        ),
        (
            "[fetch]\nbackoff_base = 10\nbackoff_cap = 5\n",
            FEEDS,
            WATCHES,
            "fetch: backoff_base (10) is above backoff_cap (5)",
        ),
        (
            "[alerts]\nretry_backoff = 7200\n",
            FEEDS,
            WATCHES,
            "alerts: retry_backoff (7200) is above retry_backoff_cap (3600)",
        ),
        ("[extract]\nworkers = 65\n", FEEDS, WATCHES, "extract.workers"),
        # An empty path resolved to the configuration directory itself: exit 1 at open.
        ('[storage]\ndatabase = ""\n', FEEDS, WATCHES, "storage.database: empty path"),
        ('[storage]\ndatabase = "  "\n', FEEDS, WATCHES, "storage.database: empty path"),
        # An empty outbox resolved to the configuration directory: mail among the TOML files.
        ('[alerts]\noutbox_dir = ""\n', FEEDS, WATCHES, "alerts.outbox_dir: empty path"),
        ('[alerts]\noutbox_dir = " "\n', FEEDS, WATCHES, "alerts.outbox_dir: empty path"),
        # A directory for the database: accepted, then the pass failed opening it (exit 1).
        ('[storage]\ndatabase = "."\n', FEEDS, WATCHES, "storage.database: /"),
        ('[storage]\ndatabase = ".."\n', FEEDS, WATCHES, "is a directory; name the DuckDB"),
        # Accepted, then every maintenance pass crashed on now - timedelta(days=keep_days).
        ("[storage]\nkeep_days = 1000000\n", FEEDS, WATCHES, "storage.keep_days"),
        # No upper bound: inf waited forever (a lock, a Retry-After-less 429, a dead server) or
        # overflowed a timestamp (alerts retry_at after ~30 failures) or a C timeout (exit 70).
        (
            "[storage]\nlock_timeout = inf\n",
            FEEDS,
            WATCHES,
            "storage.lock_timeout: Input should be less than or equal to 86400",
        ),
        ("[storage]\nlock_timeout = 86401\n", FEEDS, WATCHES, "storage.lock_timeout"),
        (
            "[fetch]\ntimeout = inf\n",
            FEEDS,
            WATCHES,
            "fetch.timeout: Input should be less than or equal to 3600",
        ),
        (
            "[fetch]\ndeadline = inf\n",
            FEEDS,
            WATCHES,
            "fetch.deadline: Input should be less than or equal to 3600",
        ),
        (
            "[fetch]\nparse_timeout = inf\n",
            FEEDS,
            WATCHES,
            "fetch.parse_timeout: Input should be less than or",
        ),
        (
            "[fetch]\nbackoff_cap = inf\n",
            FEEDS,
            WATCHES,
            "fetch.backoff_cap: Input should be less than or equal to 3600",
        ),
        ("[fetch]\nbackoff_cap = 3601\n", FEEDS, WATCHES, "fetch.backoff_cap"),
        ("[fetch]\nbackoff_base = inf\nbackoff_cap = inf\n", FEEDS, WATCHES, "fetch.backoff_base"),
        (
            "[fetch]\nmax_poll_interval = inf\n",
            FEEDS,
            WATCHES,
            "fetch.max_poll_interval: Input should be less than",
        ),
        ("[fetch]\nmax_poll_interval = 31622401\n", FEEDS, WATCHES, "fetch.max_poll_interval"),
        (
            "[fetch]\nmin_poll_interval = inf\nmax_poll_interval = inf\n",
            FEEDS,
            WATCHES,
            "fetch.min_poll_interval",
        ),
        (
            "[smtp]\nhost = 'x'\ntimeout = inf\n",
            FEEDS,
            WATCHES,
            "smtp.timeout: Input should be less than or equal",
        ),
        (
            "[alerts]\nretry_backoff_cap = inf\n",
            FEEDS,
            WATCHES,
            "alerts.retry_backoff_cap: Input should be less than",
        ),
        ("[alerts]\nretry_backoff_cap = nan\n", FEEDS, WATCHES, "alerts.retry_backoff_cap"),
        ("[alerts]\nretry_backoff_cap = 86401\n", FEEDS, WATCHES, "alerts.retry_backoff_cap"),
        (
            "[alerts]\nretry_backoff = inf\nretry_backoff_cap = inf\n",
            FEEDS,
            WATCHES,
            "alerts.retry_backoff:",
        ),
        # A channel nobody defined: accepted, then every delivery to it waited forever.
        (
            '[alerts]\nrecipients = ["channel:desk"]\n',
            FEEDS,
            WATCHES,
            "alerts.recipients: 'channel:desk' names no channel in [alerts] channels",
        ),
        (
            '[alerts]\nchannels = { team = "T" }\n'
            'delivery_by_recipient = { "channel:desk" = "hourly" }\n',
            FEEDS,
            WATCHES,
            "alerts.delivery_by_recipient: 'channel:desk' names no channel in [alerts] channels",
        ),
        (
            "",
            FEEDS,
            WATCHES + 'recipients = ["channel:desk"]\n',
            "watchlist.toml: watch 'nato'.recipients: 'channel:desk' names no channel",
        ),
    ],
)
def test_invalid_configuration_names_file_key_and_fix(
    tmp_path: Path, settings: str, feeds: str, watches: str, needle: str
) -> None:
    directory = write_config(tmp_path, feeds=feeds, watchlist=watches)
    (directory / "newsradar.toml").write_text(settings)
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    assert needle in str(info.value)
    assert str(directory) in str(info.value)


@pytest.mark.parametrize(
    "settings",
    [
        "",  # every default
        # 0/0 is how the benchmark makes every feed due on every pass.
        "[fetch]\nmin_poll_interval = 0\nmax_poll_interval = 0\n",
        "[fetch]\nmin_poll_interval = 600\nmax_poll_interval = 600\n",
        "[fetch]\nbackoff_base = 0\nbackoff_cap = 0\n",
        "[alerts]\nretry_backoff = 60\nretry_backoff_cap = 60\n",
        "[extract]\nworkers = 64\n",
        '[storage]\ndatabase = "db.duckdb"\n',
        '[alerts]\noutbox_dir = "outbox"\n',
        # Neither the file nor its directory exists yet: the first pass creates both.
        '[storage]\ndatabase = "new/dir/db.duckdb"\n',
        # Every duration at its cap (docs/configuration.md says why each cap is where it is).
        "[storage]\nlock_timeout = 86400\nkeep_days = 36600\n",
        "[fetch]\ntimeout = 3600\ndeadline = 3600\nparse_timeout = 3600\n",
        "[fetch]\nbackoff_base = 3600\nbackoff_cap = 3600\n",
        "[fetch]\nmin_poll_interval = 31622400\nmax_poll_interval = 31622400\n",
        "[smtp]\nhost = 'x'\ntimeout = 3600\n",
        "[alerts]\nretry_backoff = 86400\nretry_backoff_cap = 86400\n",
        '[alerts]\nrecipients = ["channel:desk"]\nchannels = { desk = "NEWSRADAR_CHANNEL_DESK" }\n'
        'delivery_by_recipient = { "channel:desk" = "hourly" }\n',
    ],
)
def test_limits_accept_the_values_at_their_edges(tmp_path: Path, settings: str) -> None:
    directory = write_config(tmp_path, feeds=FEEDS, watchlist=WATCHES)
    (directory / "newsradar.toml").write_text(settings)
    assert load_config(directory).feeds


def test_a_database_path_naming_an_existing_directory_is_refused(tmp_path: Path) -> None:
    directory = write_config(tmp_path, feeds=FEEDS, watchlist=WATCHES)
    (directory / "newsradar.toml").write_text('[storage]\ndatabase = "data"\n')
    assert load_config(directory).storage.database == (directory / "data").resolve()

    (directory / "data").mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    assert f"storage.database: {(directory / 'data').resolve()} is a directory" in str(info.value)


def test_a_watch_may_name_a_defined_channel(tmp_path: Path) -> None:
    watches = WATCHES + 'recipients = ["channel:desk", "desk@example.org"]\n'
    directory = write_config(tmp_path, feeds=FEEDS, watchlist=watches)
    (directory / "newsradar.toml").write_text('[alerts]\nchannels = { desk = "DESK_URL" }\n')
    assert load_config(directory).watches[0].recipients == ("channel:desk", "desk@example.org")


def test_every_settings_key_is_documented() -> None:
    from newsradar.config import FeedConfig, Settings, WatchConfig

    doc = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
    missing = [
        f"[{section}] {key}"
        for section, field in Settings.model_fields.items()
        for key in getattr(field.annotation, "model_fields", None)
        or field.annotation.__args__[0].model_fields  # type: ignore[union-attr]
        if f"`{key}`" not in doc
    ]
    missing += [f"feed.{k}" for k in FeedConfig.model_fields if f"{k} =" not in doc]
    missing += [f"watch.{k}" for k in WatchConfig.model_fields if f"{k} =" not in doc]
    assert missing == []


@pytest.mark.parametrize("file", ["newsradar.toml", "feeds.toml", "watchlist.toml"])
def test_a_file_that_cannot_be_read_is_a_configuration_error(tmp_path: Path, file: str) -> None:
    directory = write_config(tmp_path, feeds=FEEDS, watchlist=WATCHES)
    (directory / file).unlink()
    (directory / file).mkdir()  # unreadable as a file, even for root
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    assert f"{file}: cannot read it" in str(info.value)


def test_a_file_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    directory = write_config(tmp_path, feeds=FEEDS, watchlist=WATCHES)
    (directory / "watchlist.toml").write_bytes(b'[[watch]]\nid = "caf\xe9"\nterms = ["x"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    assert "watchlist.toml: not UTF-8 text" in str(info.value)


def test_the_longest_accepted_durations_keep_every_wait_finite(tmp_path: Path) -> None:
    """At their caps, the waits computed from these settings are bounded timestamps."""
    settings = (
        "[fetch]\nmin_poll_interval = 31622400\nmax_poll_interval = 31622400\n"
        "backoff_base = 3600\nbackoff_cap = 3600\nretries = 10\n"
        "[alerts]\nretry_backoff = 86400\nretry_backoff_cap = 86400\n"
    )
    cfg = load_config(write_config(tmp_path, feeds=FEEDS, watchlist=WATCHES, settings=settings))
    now = datetime(2026, 11, 29, tzinfo=UTC)
    # Delivery retries never stop: the thousandth still waits a day (inf overflowed at ~30).
    delay = retry_delay(1000, cfg.alerts.retry_backoff, cfg.alerts.retry_backoff_cap)
    assert now + delay == now + timedelta(days=1)
    # In-pass back-off sleeps at most an hour, and a 429 without Retry-After blocks as long.
    f = cfg.fetch
    assert backoff_delay(f.retries, f.backoff_base, f.backoff_cap) <= 3600
    # A feed failing for good is asked again within a year.
    failing = FeedHealth(url="http://127.0.0.1:1/feed.xml", consecutive_failures=5000)
    after = next_health(failing, FeedPoll("local", now, "failed"), cfg.fetch)
    assert after.next_poll_at == now + timedelta(days=366)
