"""newsradar: scheduled news monitoring with a watchlist language, DuckDB storage and alerts."""

# First of all: the compiled hot path, when it is current, shadows its pure-Python modules.
from newsradar import native

native.activate(__path__)

from newsradar.config import Config, load_config
from newsradar.errors import ConfigError, NewsradarError
from newsradar.models import Article, FeedEntry, FetchResult, Mention, ParsedFeed

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Config",
    "ConfigError",
    "FeedEntry",
    "FetchResult",
    "Mention",
    "NewsradarError",
    "ParsedFeed",
    "__version__",
    "load_config",
]
