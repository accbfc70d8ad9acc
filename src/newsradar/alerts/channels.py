"""Digests to chat and webhooks through Apprise (Slack, Teams, Matrix, JSON webhooks, ...).

A recipient written as ``channel:NAME`` gets the same digest as a mail recipient, from the same
outbox rows and under the same (recipient, watch, story) key, so the no-duplicate rule holds.
``[alerts] channels`` maps NAME to the environment variable holding the Apprise URL: the URL
carries a token, and secrets never live in TOML::

    [alerts]
    recipients = ["analyst@example.org", "channel:desk"]
    channels = { desk = "NEWSRADAR_CHANNEL_DESK" }     # export NEWSRADAR_CHANNEL_DESK=slack://...

Apprise only says whether a notification went through, so any refusal is retried with back-off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from newsradar.alerts.digest import Digest
from newsradar.alerts.render import render_text
from newsradar.errors import DeliveryBlockedError, TransientDeliveryError

__all__ = ["CHANNEL_PREFIX", "ApprisePoster", "ChannelNotReadyError", "is_channel"]

CHANNEL_PREFIX = "channel:"


def is_channel(recipient: str) -> bool:
    return recipient.startswith(CHANNEL_PREFIX)


class ChannelNotReadyError(DeliveryBlockedError):
    """The channel's URL is missing or invalid: only this channel waits for the operator."""


class ApprisePoster:
    """Posts a digest's plain-text rendering to the channel's Apprise URL."""

    def __init__(self, channels: Mapping[str, str], *, timeout: float = 30.0) -> None:
        self.channels = channels
        self.timeout = timeout

    def send(self, digest: Digest) -> str:
        import apprise  # imported here: only passes with channel recipients need it

        name = digest.recipient.removeprefix(CHANNEL_PREFIX)
        variable = self.channels.get(name)
        if variable is None:
            raise ChannelNotReadyError(
                f"channel {name!r} is not defined; add it to [alerts] channels in newsradar.toml"
            )
        url = os.environ.get(variable)
        if not url:
            raise ChannelNotReadyError(
                f"channel {name!r}: {variable} is not set; export it with the Apprise URL"
            )
        poster = apprise.Apprise()
        if not poster.add(url):
            raise ChannelNotReadyError(
                f"channel {name!r}: {variable} is not an Apprise URL Apprise understands"
            )
        result = poster.notify(
            body=render_text(digest),
            title=digest.subject,
            body_format=apprise.NotifyFormat.TEXT,
            timeout=self.timeout,
        )
        if not result:
            raise TransientDeliveryError(
                f"channel {name!r} did not accept the digest ({result.status}); will retry"
            )
        return f"{CHANNEL_PREFIX}{name} {digest.id}"
