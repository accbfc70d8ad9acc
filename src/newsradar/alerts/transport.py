"""Getting a mail out: SMTP (the only module that talks SMTP) or ``.eml`` files.

SMTP rules, fail closed:
- ``tls = "starttls"`` (default): the server must offer STARTTLS; the certificate is verified
  against the system CA store (``ssl.create_default_context()``); otherwise nothing is sent.
- ``tls = "implicit"``: TLS from the first byte, verified the same way.
- ``tls = "none"``: plain text, only when written explicitly (a local relay); never with AUTH.
- AUTH only after TLS, the password only from ``NEWSRADAR_SMTP_PASSWORD``.

Outcomes map to errors: 4xx, a dropped connection or a timeout raise
:class:`TransientDeliveryError` (retry later); 5xx for the recipient or the message raise
:class:`PermanentDeliveryError`; TLS and AUTH problems raise :class:`DeliveryBlockedError`.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from newsradar.atomic import write_atomic
from newsradar.config import PASSWORD_ENV, Config, SmtpSettings
from newsradar.errors import (
    DeliveryBlockedError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

__all__ = ["EmlTransport", "SmtpTransport", "Transport", "transport_for"]


class Transport(Protocol):
    """Sends one mail to one recipient; returns where it went (a path or a Message-ID)."""

    def send(self, msg: EmailMessage, recipient: str, digest_id: str) -> str: ...

    def close(self) -> None: ...


def _reply(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(body.split())}"[:300]


class SmtpTransport:
    """One SMTP session per delivery run, reconnecting after a dropped connection."""

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        # Tests pass a context trusting their own CA; production uses the system store.
        self._context = ssl_context
        self._client: smtplib.SMTP | None = None

    @property
    def _where(self) -> str:
        return f"SMTP server {self.settings.host}:{self.settings.port}"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = self._context or ssl.create_default_context()
        client: smtplib.SMTP | None = None
        try:
            if s.tls == "implicit":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            client.ehlo()
            if s.tls == "starttls":
                if not client.has_extn("starttls"):
                    raise DeliveryBlockedError(
                        f"{self._where} does not offer STARTTLS; nothing was sent. Use a server "
                        "that does, tls = 'implicit', or tls = 'none' for a local relay"
                    )
                client.starttls(context=context)
                client.ehlo()
            if s.username:
                self._login(client, s.username)
            return client
        except ssl.SSLError as exc:
            _close(client)
            raise DeliveryBlockedError(
                f"TLS with {self._where} failed ({exc.reason or exc}); nothing was sent. Fix the "
                "server's certificate or [smtp] host (it must match the certificate)"
            ) from exc
        except DeliveryBlockedError:
            _close(client)
            raise
        except (OSError, smtplib.SMTPException) as exc:
            _close(client)
            raise TransientDeliveryError(
                f"cannot reach {self._where}: {exc}; will retry", server_down=True
            ) from exc

    def _login(self, client: smtplib.SMTP, username: str) -> None:
        if self.settings.tls == "none":
            raise DeliveryBlockedError(
                f"refusing AUTH to {self._where} without TLS; set [smtp] tls to 'starttls' "
                "or 'implicit'"
            )
        password = self.settings.password
        if password is None:
            raise DeliveryBlockedError(
                f"[smtp] username is {username!r} but {PASSWORD_ENV} is not set; set it in "
                "the environment of the pass"
            )
        try:
            client.login(username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryBlockedError(
                f"{self._where} refused the login of {username!r}: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}; check {PASSWORD_ENV} and [smtp] username"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryBlockedError(
                f"{self._where} does not offer AUTH; remove [smtp] username or change server"
            ) from exc

    def send(self, msg: EmailMessage, recipient: str, digest_id: str) -> str:
        if self._client is None:
            self._client = self._connect()
        client = self._client
        try:
            self._send_on(client, msg, recipient)
        finally:
            # smtplib closes the socket itself after a 421 ("closing connection"): the next
            # mail then needs a new connection, not a "please run connect() first".
            if client.sock is None and self._client is client:
                self._client = None
        return str(msg["Message-ID"])

    def _send_on(self, client: smtplib.SMTP, msg: EmailMessage, recipient: str) -> None:
        try:
            client.send_message(msg, from_addr=self.settings.sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(recipient, (0, b"refused"))
            raise self._by_code(code, text, f"refused recipient {recipient}") from exc
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code >= 500:
                self.close()
                raise DeliveryBlockedError(
                    f"{self._where} refused sender {self.settings.sender}: "
                    f"{_reply(exc.smtp_code, exc.smtp_error)}; fix [smtp] sender"
                ) from exc
            raise self._by_code(exc.smtp_code, exc.smtp_error, "deferred the sender") from exc
        except smtplib.SMTPResponseException as exc:
            raise self._by_code(exc.smtp_code, exc.smtp_error, "refused the message") from exc
        except (OSError, smtplib.SMTPException) as exc:
            # Dropped mid-transaction (maybe after DATA was received): resend later, same id.
            self._client = None
            _close(client)
            raise TransientDeliveryError(
                f"{self._where} dropped the connection while sending to {recipient}: "
                f"{exc or type(exc).__name__}; will retry",
                # A server that stopped answering would make every later mail wait as long.
                server_down=isinstance(exc, TimeoutError),
            ) from exc

    def _by_code(self, code: int, text: bytes | str, what: str) -> Exception:
        message = f"{self._where} {what}: {_reply(code, text)}"
        if 500 <= code < 600:
            return PermanentDeliveryError(message)
        return TransientDeliveryError(message + "; will retry")


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.close()
        except OSError:
            pass


class EmlTransport:
    """Writes each mail as ``<UTC time>-<digest id>.eml`` into a directory (no ``[smtp]``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def close(self) -> None:
        pass

    def send(self, msg: EmailMessage, recipient: str, digest_id: str) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # A mail written before a crash, but not marked, is not written twice.
            for existing in sorted(self.directory.glob(f"*-{digest_id}.eml")):
                return str(existing)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            path = self.directory / f"{stamp}-{digest_id}.eml"
            write_atomic(path, msg.as_bytes())
        except OSError as exc:
            raise TransientDeliveryError(
                f"cannot write the mail for {recipient} to {self.directory}: {exc}; "
                "check [alerts] outbox_dir and free space"
            ) from exc
        return str(path)


def transport_for(config: Config) -> Transport:
    """SMTP when ``[smtp]`` is configured, else ``.eml`` files in ``[alerts] outbox_dir``."""
    if config.smtp is None:
        return EmlTransport(config.alerts.outbox_dir)
    return SmtpTransport(config.smtp)
