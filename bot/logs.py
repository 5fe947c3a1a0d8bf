"""Logging that keeps people's words and their links to people out of the log, at every level.

Partsbot's own log lines name kinds, places and ids, never free text (see ``_describe`` in the router). The
libraries underneath are less careful when asked for detail, so whatever ``PARTSBOT_LOG_LEVEL`` says:

* ``slack_sdk`` and ``slack_bolt`` log whole Web API and request bodies at DEBUG – the anonymous
  receipt's ``chat.postEphemeral`` names its user (SEC-12); bolt's ``RequestVerification`` logs the whole
  body of a request whose signature fails, at INFO (SEC-06). They stay at WARNING, and a filter drops any
  record of theirs that carries a body anyway;
* HTTP clients and the Bot Framework SDK (``urllib3``, ``msrest``, ``botbuilder``, ``botframework``,
  ``aiohttp.client``) log URLs with conversation ids and request bodies at DEBUG: capped at INFO;
* SQLAlchemy's engine logs statements with parameters at INFO/DEBUG: capped at WARNING, and every engine
  is built with ``hide_parameters=True`` (bot/storage/db.py) so errors do not quote values either.
"""

from __future__ import annotations

import logging

# Logger name → the most detail it may log, whatever the configured level.
CAPS = {
    "slack_sdk": logging.WARNING,
    "slack_bolt": logging.WARNING,
    "urllib3": logging.INFO,
    "msrest": logging.INFO,
    "msal": logging.INFO,
    "botbuilder": logging.INFO,
    "botframework": logging.INFO,
    "aiohttp.client": logging.INFO,
    "aiohttp.access": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "alembic": logging.WARNING,
    "apscheduler": logging.WARNING,
    "matplotlib": logging.WARNING,
    "PIL": logging.WARNING,
    "asyncio": logging.INFO,
}

# Words that mark a library's record as carrying a request or response body.
_BODY_MARKS = ("body:", "body=", "json:", "data:", "params:", "payload")


class DropBodies(logging.Filter):
    """Drops a Slack library record that quotes a body, whatever its level (bolt logs the body of a
    request with a bad signature at INFO, and an exception's text may include it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(("slack_bolt", "slack_sdk")):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: drop it rather than risk printing its arguments
            return False
        return not any(mark in message for mark in _BODY_MARKS)


def cap_libraries(level: int) -> None:
    """Apply :data:`CAPS` (never below ``level``) and put the body filter on every root handler."""
    for name, cap in CAPS.items():
        logging.getLogger(name).setLevel(max(level, cap))
    body_filter = DropBodies()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, DropBodies) for f in handler.filters):
            handler.addFilter(body_filter)
    # Records handled by library loggers' own handlers (none today) get the same filter.
    for name in ("slack_bolt", "slack_sdk"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropBodies) for f in logger.filters):
            logger.addFilter(body_filter)
