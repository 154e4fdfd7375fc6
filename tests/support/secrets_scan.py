"""Scan captured bot logs for anything that must never be logged: secrets, and the test's phone numbers."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path

from tests.support.aws import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN
from tests.support.bot_process import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.support.statuspage import ALERTMANAGER_PASSWORD, ALERTMANAGER_TOKEN, ALERTMANAGER_USER
from tests.support.twilio import ALICE_PHONE, AUTH_TOKEN, BOB_PHONE


def leaks(log_files: Iterable[Path], response_tokens: Iterable[str]) -> list[str]:
    """Every (file, secret kind) where a token, the signing secret or a response_url token appears."""
    needles = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": APP_TOKEN}
    needles |= {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    }
    basic = base64.b64encode(f"{ALERTMANAGER_USER}:{ALERTMANAGER_PASSWORD}".encode()).decode()
    needles |= {
        "ALERTMANAGER_AUTH (Basic)": ALERTMANAGER_PASSWORD,
        "ALERTMANAGER_AUTH (Basic, encoded)": basic,
        "ALERTMANAGER_AUTH (Bearer)": ALERTMANAGER_TOKEN,
    }
    needles |= {"TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    # a person's number, as it is or form-encoded (%2B…): the digits
    needles |= {f"phone number •••• {n[-4:]}": n.lstrip("+") for n in (ALICE_PHONE, BOB_PHONE)}
    needles |= {f"response_url token {t[:6]}…": t for t in response_tokens}
    found = []
    for path in log_files:
        text = path.read_text(errors="replace")
        for kind, value in needles.items():
            if value in text:
                found.append(f"{path.name}: {kind}")
    return found
