"""Validating RDS identifiers from chat before they reach any API."""

from __future__ import annotations

import re

from runbooks.errors import BadRequest

INSTANCE_MAX = 63
# RDS instance identifiers: 1-63 letters, digits or hyphens, starting with a letter, no "--", no trailing "-".
_INSTANCE = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$", re.ASCII)
# Snapshot identifiers: the same rules up to 255 characters; automated ones carry an "rds:" prefix.
_SNAPSHOT = re.compile(r"^(rds:)?[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$", re.ASCII)


def _shown(value: str) -> str:
    text = value if len(value) <= 40 else value[:39] + "…"
    return text.encode("ascii", "backslashreplace").decode().replace("`", "'")


def instance(value: str) -> str:
    lowered = value.lower()
    if not _INSTANCE.match(lowered):
        raise BadRequest(
            f"`{_shown(value)}` is not an RDS instance identifier: 1-63 letters, digits and '-', starting with a "
            "letter, no '--' and not ending with '-'."
        )
    return lowered


def restored(source: str, suffix: str) -> str:
    """``<source>-<suffix>`` as a legal instance identifier: the source cut to leave room (63 in all), never
    leaving a "--" or a trailing "-" where it was cut."""
    tail = "-" + suffix.strip("-")
    base = source.lower()[: INSTANCE_MAX - len(tail)].rstrip("-")
    return instance((base or "db") + tail)


def snapshot(value: str) -> str:
    lowered = value.lower()
    if len(lowered) > 255 or not _SNAPSHOT.match(lowered):
        raise BadRequest(
            f"`{_shown(value)}` is not an RDS snapshot identifier: letters, digits and '-', starting with a letter "
            "(automated ones start with rds:)."
        )
    return lowered
