"""The runbooks' two kinds of refusal, and a configuration that is missing; the bot shows each message to the person
as it is.

``runbooks`` knows nothing of the bot, so these are its own bases; the bot's listeners treat them like
its ``UserError`` (``handlers.guard``). API failures stay the client's own exceptions
(``runbooks.kube.errors.API_ERRORS``), explained by ``runbooks.kube.errors.explain``.
"""

from __future__ import annotations


class BadRequest(ValueError):
    """A name or argument from chat that cannot be used; the message says why and the right form."""


class Refused(Exception):
    """The change cannot (or need not) be made as things are now; the message says why. Nothing changed."""


class NotConfigured(Exception):
    """What the bot needs to reach a system is not configured (or cannot be used); the message names the setting
    to fix. Nothing was done. The bot shows it to the person as it is (``handlers.guard``)."""
