"""The runbooks' two kinds of refusal; the bot shows either message to the person as it is.

``runbooks`` knows nothing of the bot, so these are its own bases; the bot's listeners treat them like
its ``UserError`` (``handlers.guard``). API failures stay the client's own exceptions
(``runbooks.kube.errors.API_ERRORS``), explained by ``runbooks.kube.errors.explain``.
"""

from __future__ import annotations


class BadRequest(ValueError):
    """A name or argument from chat that cannot be used; the message says why and the right form."""


class Refused(Exception):
    """The change cannot (or need not) be made as things are now; the message says why. Nothing changed."""
