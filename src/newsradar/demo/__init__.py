"""The offline demo: a sample news site and an SMTP server on loopback, and one pass."""

__all__: list[str] = []
