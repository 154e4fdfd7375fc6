"""One sentence for every way a Kubernetes API call fails, naming the object and the permission."""

from __future__ import annotations

from typing import Literal

from urllib3.exceptions import HTTPError

from runbooks.kube.lean import ApiException

# What a failing call was doing: reading one object, listing a kind, or changing an object.
Doing = Literal["read", "list", "change"]
# Every exception a call through the official client raises when the API cannot be used.
API_ERRORS: tuple[type[Exception], ...] = (ApiException, HTTPError, OSError, TimeoutError)


def explain(
    exc: BaseException,
    what: str,
    doing: Doing = "read",
    grant: str = "get and patch on deployments in that namespace (deploy/ has a Role for it)",
) -> str:
    """A readable sentence for a failed call about ``what`` (e.g. "deployment production/api", "pods");
    ``grant`` says which permission a forbidden change needs."""
    if isinstance(exc, ApiException):
        if exc.status == 403:
            if doing == "change":
                return f"forbidden: the bot may not change {what}; grant it {grant}"
            if doing == "list":
                return f"forbidden: the bot's identity may not list {what} (add get/list on {what} to its RBAC role)"
            return f"forbidden: the bot may not read {what}; grant it get/list on that resource in its RBAC role"
        if exc.status == 404:
            return (
                f"not available on this cluster ({what} API not found)" if doing == "list" else f"{what} was not found"
            )
        if exc.status == 409:
            return f"{what} was changed by someone else meanwhile; nothing was overwritten, run the runbook again"
        return f"the Kubernetes API answered {exc.status} {exc.reason} for {what}"
    if isinstance(exc, TimeoutError):
        return f"timed out reading {what}"
    return f"could not reach the Kubernetes API for {what} ({type(exc).__name__})"
