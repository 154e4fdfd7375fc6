"""One sentence for every way an AWS call fails, naming the permission that is missing."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

# The API answered (with an error): nothing was done.
ANSWERED: tuple[type[Exception], ...] = (ClientError,)
# No answer (no route, timeout, no credentials): whether a write happened is unknown.
UNANSWERED: tuple[type[Exception], ...] = (BotoCoreError,)
AWS_ERRORS: tuple[type[Exception], ...] = (*ANSWERED, *UNANSWERED)

DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}


def code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Error"))
    return type(exc).__name__


def explain(exc: BaseException, permission: str, what: str) -> str:
    """``permission`` is the IAM action the call needs (``rds:DescribeDBSnapshots``); ``what`` names the object."""
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: give the bot an identity (IRSA in the pod, or AWS_* in its environment)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        if error.get("Code") in DENIED:
            return f"access denied: the bot's AWS identity may not call {permission} (deploy/iam-policy.json grants it)"
        return f"AWS answered {error.get('Code', 'an error')} for {what}: {error.get('Message', '')}".rstrip(": ")
    return f"AWS did not answer for {what} ({type(exc).__name__})"
