"""Logging for the bot: text or JSON lines, with secrets redacted from every record.

Redaction happens in the formatter, after the message is fully rendered (arguments,
exception text and all), so nothing a library logs can carry a token, the signing
secret, or a ``response_url`` value out of the process.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO

REDACTED = "[redacted]"

_PATTERNS = [
    # Slack tokens: bot, user, app-level, config and refresh tokens.
    re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    # response_url values in JSON, Python reprs, form bodies and URL-encoded payloads.
    re.compile(
        r"(response_url(?:s)?(?:\\?[\"']|%22|%27)?\s*(?:[:=]|%3A|%3D)\s*(?:\\?[\"']|%22|%27)?\s*(?:\[\s*)?)"
        r"(?:(?!%22|%27|%2C|%7D|%26)[^\"'&\s,}\]\\])+",
        re.IGNORECASE,
    ),
    # Slack webhook and response URLs wherever they appear, plain or URL-encoded.
    re.compile(r"https?(?::|%3A)(?://|%2F%2F)hooks\.slack(?:-gov)?\.com[^\s\"'&,}]*", re.IGNORECASE),
    # slack_sdk's debug line for outgoing calls: the URL may be a response_url.
    re.compile(r"(Sending a request - url: )[^\s,]+"),
    # Authorization headers.
    re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+", re.IGNORECASE),
    # AWS access keys, and session tokens in botocore's request headers.
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"((?:X-Amz-Security-Token|aws_session_token)[\"']?\s*[:=]\s*b?[\"']?)[A-Za-z0-9/+=%]+", re.IGNORECASE),
    # People's emails in Slack's answers (users.info's profile, printed by slack_sdk's debug line).
    re.compile(r"([\"']email[\"']\s*:\s*[\"'])[^\"']+", re.IGNORECASE),
]


class Learned:
    """Values seen at run time that must never be logged (each request's ``response_url``), the most recent
    ``remember`` of them, shared by every redactor of the process."""

    def __init__(self, remember: int = 2048) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._remember = remember

    def add(self, value: str) -> None:
        if len(value) < 12:
            return
        self._values[value] = None
        self._values.move_to_end(value)
        while len(self._values) > self._remember:
            self._values.popitem(last=False)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values))


LEARNED = Learned()


class Redactor:
    """Replaces known secret values, the values learned at run time and secret-shaped strings with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str] = (), learned: Learned = LEARNED) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        self._learned = learned

    def learn(self, value: str) -> None:
        self._learned.add(value)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for value in self._learned:
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(_keep_prefix, text)
        return text


def _keep_prefix(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.re.groups else ""
    return f"{prefix}{REDACTED}"


class RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor, json_lines: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        if not self.json_lines:
            return self.redactor(super().format(record))
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return self.redactor(json.dumps(payload, ensure_ascii=False, default=str))


def redact_value(value: str) -> None:
    """Never log ``value`` from now on (e.g. a request's response_url)."""
    LEARNED.add(value)


def setup_logging(level: str, fmt: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> Redactor:
    """Route every logger through one handler (stderr, or ``stream``) with redaction; return the redactor."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(redactor, json_lines=fmt == "json"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
    return redactor
