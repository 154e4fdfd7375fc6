"""``chatops-bot shell`` start-up, as a newcomer meets it; writes its section of bench/RESULTS.md.

The whole process in a fresh directory (interpreter, imports, the embedded Redis started, the bot served on
loopback, the Slack stand-in up): until the greeting and prompt, until the answer to a command typed at once (the bot
starts behind the prompt), and one more command's round trip. Best and median of 5 runs.

Run: ``python -m bench.shell`` (part of ``make bench``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results import machine_info, write_section

RUNS = 5
GREETING = "chatops-bot shell — the real bot"


def once() -> tuple[float, float, float]:
    """Seconds to the prompt; to the first command's answer when it is typed at once (the bot starts behind the
    prompt); for a second command once the bot is up."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    with tempfile.TemporaryDirectory(prefix="chatops-bench-shell-") as tmp:
        env = {**base, "NO_COLOR": "1", "KUBECONFIG": str(Path(tmp) / "none")}
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "shell"], cwd=tmp, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdin is not None
        ready = 0.0
        for line in proc.stdout:
            if GREETING in line:
                ready = time.perf_counter() - started
                break
        proc.stdin.write("/incident open P1 Bench incident\n")
        proc.stdin.flush()
        first = 0.0
        for line in proc.stdout:
            if "🚨 INC-1: Bench incident" in line:
                first = time.perf_counter() - started
                break
        time.sleep(1.0)  # the shell has finished with the first line (it waits for the bot to go quiet)
        asked = time.perf_counter()
        proc.stdin.write("/incident open P1 Second incident\n")
        proc.stdin.flush()
        answered = 0.0
        for line in proc.stdout:
            if "🚨 INC-2: Second incident" in line:
                answered = time.perf_counter() - asked
                break
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
    return ready, first, answered


def demo_once() -> tuple[float, float]:
    """``shell --demo`` (the demo platform's process started beside the bot): seconds from start-up to the first line
    of the answer to ``/incident open`` typed at once, and to the end of a ``/health`` digest typed after it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    with tempfile.TemporaryDirectory(prefix="chatops-bench-demo-") as tmp:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "shell", "--demo"], cwd=tmp, env={**base, "NO_COLOR": "1", "HOME": tmp},
            text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdin.write("/incident open P1 Bench incident\n/health\nquit\n")
        proc.stdin.flush()
        first = digest = 0.0
        try:
            for line in proc.stdout:
                if not first and "Opened INC-1" in line:
                    first = time.perf_counter() - started
                if "Open incidents" in line:
                    digest = time.perf_counter() - started
                    break
            proc.wait(timeout=60)
        finally:
            proc.kill()
        assert first and digest, "the demo shell did not answer both lines"
    return first, digest


def main() -> None:
    demo = [demo_once() for _ in range(RUNS)]
    runs = [once() for _ in range(RUNS)]
    ready = [r[0] for r in runs]
    first = [r[1] for r in runs]
    answer = [r[2] for r in runs]
    lines = [
        "## The local shell",
        "",
        f"Command: `python -m bench.shell` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        "Each run is `chatops-bot shell` as a whole process in a fresh directory (so the embedded Redis starts cold), "
        "stdin a pipe;",
        f"{RUNS} runs.",
        "",
        "| measure | best | median | target |",
        "|---|---:|---:|---:|",
        f"| start-up to the greeting and prompt | {min(ready):.2f} s | {statistics.median(ready):.2f} s | ≤ 1.5 s |",
        f"| start-up to the first command's answer, typed at once (the bot's modules, the embedded Redis and the "
        f"server start behind the prompt; the line waits for them) | {min(first):.2f} s | "
        f"{statistics.median(first):.2f} s | — |",
        f"| a command once the bot is up: `/incident open P1 …` until its announcement is shown | {min(answer):.2f} s | "
        f"{statistics.median(answer):.2f} s | — |",
        f"| `shell --demo`: start-up to the first line of the answer to `/incident open`, typed at once | "
        f"{min(d[0] for d in demo):.2f} s | {statistics.median(d[0] for d in demo):.2f} s | ≤ 1 s |",
        f"| `shell --demo`: start-up to the whole `/health` digest (cluster `demo`, RDS, alerts), typed next | "
        f"{min(d[1] for d in demo):.2f} s | {statistics.median(d[1] for d in demo):.2f} s | ≤ 3 s |",
    ]
    write_section("shell", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
