"""The two kinds of failure a person is told about.

A :class:`UserError` is a person's mistake or a refusal (bad input, not allowed, not possible in this
state): its message is shown to them as it is, and nothing was changed. A :class:`DependencyError` is a
dependency that failed (Redis, Slack, Kubernetes, AWS): its message names the dependency. Listeners
raise them; ``handlers.guard`` turns them into replies. Everything else is a bug, answered with an
error id and logged with its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A person's mistake or a refusal; the message is shown to them as it is. Nothing was changed."""


class DependencyError(Exception):
    """A dependency failed; the message names it (e.g. "the state store (Redis at host:6379) is unavailable")."""
