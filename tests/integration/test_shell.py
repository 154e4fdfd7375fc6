"""``chatops-bot shell`` as a person (or a script) uses it: lines on stdin, the real bot behind it with its embedded
Redis in a fresh directory, the transcript on stdout."""

from __future__ import annotations

import os
import random
import re
import stat
import string
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.kube import KubeEmulator
from tests.support.runbook_seed import seed as runbook_seed

REPO = Path(__file__).resolve().parents[2]


def shell(
    lines: list[str], cwd: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """The shell as a whole process, fed ``lines``; none of this machine's Slack, Redis or Kubernetes settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *(args or ("shell",))],
        input="\n".join(lines) + "\n",
        env={**base, "NO_COLOR": "1", "KUBECONFIG": str(cwd / "no-kubeconfig"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_p1_opened_acknowledged_and_escalated_from_the_terminal(tmp_path: Path) -> None:
    done = shell(
        [
            "/incident open P1 Checkout API returns 500s",
            "as @alice",
            "click Acknowledge",  # the page's button, in alice's DM
            "/incident open P1 Search is down",
            "wait 16m",  # nobody acknowledges: the primary, then the secondary
            "as @bob",
            "dms",
            "quit",
        ],
        tmp_path,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr + out
    assert "Using the built-in demo config" in out
    assert "🚨 INC-1: Checkout API returns 500s" in out and "[1 Acknowledge]" in out
    assert "You are paged as primary for INC-1" in out
    assert "@alice acknowledged INC-1" in out
    escalated = out[out.index("wait 16m") :]
    assert "You are paged as secondary for INC-2" in escalated and "DM with @bob" in escalated
    assert "Traceback" not in out + done.stderr
    assert (tmp_path / ".chatops").is_dir()  # the state lives in the embedded Redis there


def test_a_wait_stops_at_every_deadline_it_passes_even_those_armed_during_it(tmp_path: Path) -> None:
    """Nobody acknowledges: each escalation step is paged at its own deadline (15 min apart), not at the wait's end
    nor at the next hour, and the step armed by the first is reached in the same wait."""
    done = shell(["/incident open P1 Search is down", "wait 35m", "/incident timeline INC-1", "quit"], tmp_path)
    out = done.stdout
    assert done.returncode == 0, done.stderr + out
    timeline = out[out.index("Timeline of INC-1") :]
    # At the step's own minute (a second or so after it), whoever is on call then (a hand-off may fall in the wait)
    assert re.search(r"was paged — step 2: secondary, after 15m( \d+s)? unacknowledged", timeline), timeline
    assert re.search(r"was paged — step 3: lead, after 30m( \d+s)? unacknowledged", timeline), timeline
    assert "(35m later)" in out and "Traceback" not in out + done.stderr


def test_a_week_of_wait_posts_what_falls_due_in_it_in_order(tmp_path: Path) -> None:
    """A window 40 minutes ahead, then eight days: its reminders in order, each weekday's digest, the Monday hand-off
    and the weekly report."""
    start = (datetime.now(UTC) + timedelta(minutes=40)).strftime("%Y-%m-%d %H:%MZ")
    done = shell([f"/maintenance schedule {start} 1h Node group upgrade", "wait 8d", "quit"], tmp_path)
    out = done.stdout
    assert done.returncode == 0, done.stderr + out
    waited = out[out.index("wait 8d") :]
    order = ["starts in 15 minutes", "is due to start now", "should have ended at", "(8d later)"]
    assert [waited.find(p) for p in order] == sorted(waited.find(p) for p in order) and -1 not in map(
        waited.find, order
    )
    mondays = waited.count("📋 On-call hand-off")  # two when eight days hold two Mondays 09:00
    assert mondays in (1, 2) and waited.count("Weekly report:") == mondays
    assert 5 <= waited.count("Morning health digest") <= 6  # the weekdays of eight days
    assert "Traceback" not in out + done.stderr


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    emulator = KubeEmulator().start()
    emulator.seed(runbook_seed())
    yield emulator.kubeconfig(tmp_path / "kubeconfig")
    emulator.stop()


def test_a_non_operators_rollback_click_is_refused_an_operators_is_done(tmp_path: Path, kubeconfig: Path) -> None:
    done = shell(
        [
            "/rollback api-gateway production",
            "as @alice",
            "click Roll back",
            "y",
            "as @you",
            "click Roll back",
            "y",
            "quit",
        ],
        tmp_path,
        KUBECONFIG=str(kubeconfig),
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr + out
    assert "Only operators (permissions.operators) may roll back production/api-gateway" in out
    assert "@you rolled back production/api-gateway to revision 2" in out
    assert "Rollout of production/api-gateway: rollout complete" in out


def test_five_hundred_random_lines_never_crash_it(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    words = ["/incident", "/oncall", "/runbook", "click", "as", "in", "wait", "dms", "/health", "help", "/security",
             "/cert", "/report", "/alerts", "/backup", "/maintenance", "open", "P1", "INC-1", "@alice", "#incidents",
             "-5m", "999999d", "'", '"', "\\", "\x00", "%s", "{}", "\u202e", "🚨", "<!channel>", "--public"]  # fmt: skip
    lines = []
    for _ in range(500):
        kind = rng.random()
        if kind < 0.6:
            lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 5))))
        else:
            alphabet = string.printable + "éßあ🙂\u200b"
            lines.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))).replace("\n", " "))
    lines = [line for line in lines if line.strip() not in ("quit", "exit")]
    done = shell([*lines, "help", "quit"], tmp_path, timeout=600)
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in out + done.stderr
    assert "shell: that did not work" not in out
    assert out.rstrip().endswith("bye") and "Type what you would type in Slack" in out[-2000:]


def test_make_run_without_slack_credentials_starts_the_shell_and_serve_stays_strict(tmp_path: Path) -> None:
    done = shell(["/oncall", "quit"], tmp_path, "run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("no SLACK_BOT_TOKEN: starting the local shell; see README to connect to Slack")
    assert "Primary: @alice" in done.stdout
    strict = shell([], tmp_path, "serve")
    assert strict.returncode == 2 and "SLACK_BOT_TOKEN: is required" in strict.stderr


def test_the_state_directory_and_its_files_are_the_users_alone(tmp_path: Path) -> None:
    """``./.chatops`` holds incident state (the embedded Redis) and the shell's log: 0700 and 0600, whatever the
    umask, and an existing directory left readable by an older version is tightened at start."""
    data = tmp_path / ".chatops"

    def modes() -> dict[str, int]:
        found = {".": stat.S_IMODE(os.stat(data).st_mode)}
        return found | {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in data.iterdir()}

    def run() -> None:
        done = shell(["/incident open P2 Private state", "quit"], tmp_path)
        assert done.returncode == 0, done.stderr + done.stdout
        assert "INC-1" in done.stdout or "INC-2" in done.stdout

    run()
    assert {"redis.db", "shell.log"} <= set(modes())
    assert modes() == {".": 0o700} | {name: 0o600 for name in modes() if name != "."}

    os.chmod(data, 0o755)  # as an older version left it
    for path in data.iterdir():
        os.chmod(path, 0o644)
    run()
    assert modes() == {".": 0o700} | {name: 0o600 for name in modes() if name != "."}
