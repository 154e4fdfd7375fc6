"""Validating names from chat before they reach any API (DNS-1123), plus an optional namespace allow-list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator

from runbooks.errors import BadRequest

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", re.ASCII)
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", re.ASCII)


class InvalidName(BadRequest):
    """A name typed in chat is not a valid Kubernetes name; the message says why."""


def shown(value: str) -> str:
    """A name from chat as it may be quoted back: at most 40 characters, ASCII, no backticks."""
    text = value if len(value) <= 40 else value[:39] + "…"
    return text.encode("ascii", "backslashreplace").decode().replace("`", "'")


def label(value: str, what: str) -> str:
    """A DNS-1123 label: lowercase letters, digits and '-', at most 63 characters (namespaces, most names)."""
    if not DNS1123_LABEL.match(value):
        raise InvalidName(
            f"`{shown(value)}` is not a valid {what} name: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters."
        )
    return value


def subdomain(value: str, what: str) -> str:
    """A DNS-1123 subdomain (Deployment names): like a label, dots allowed, at most 253 characters."""
    if not DNS1123_SUBDOMAIN.match(value) or ".." in value or ".-" in value or "-." in value:
        raise InvalidName(
            f"`{shown(value)}` is not a valid {what} name: lowercase letters, digits, '-' and '.', "
            "at most 253 characters."
        )
    return value


def namespace(value: str, allowed: Sequence[str] = ()) -> str:
    label(value, "namespace")
    if allowed and value not in allowed:
        raise InvalidName(f"namespace `{value}` is not one the bot may act in ({', '.join(allowed)}).")
    return value


Namespace = Annotated[str, AfterValidator(lambda v: label(v, "namespace"))]
ClusterName = Annotated[str, AfterValidator(lambda v: label(v, "cluster"))]
WorkloadName = Annotated[str, AfterValidator(lambda v: subdomain(v, "workload"))]
DeploymentName = Annotated[str, AfterValidator(lambda v: subdomain(v, "deployment"))]
