"""``chatops-bot shell --demo`` as a newcomer meets it: the README's "Try it now" walk through the guide, run as a
whole process against the demo platform (its own process: kmock, moto, Alertmanager and Statuspage on loopback)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROMPT = re.compile(r"^(?:[a-z]+@#[a-z-]+|y/n|choose|.*\])> ?(?P<answer>.*)$")
DAYS = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b")
DURATION = re.compile(r"\b\d+[dhms](?: \d+[dhms])?\b")
MONTHS = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def transcript() -> list[str]:
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- try-it-now -->", 1)[1].split("<!-- /try-it-now -->", 1)[0]
    return [line.rstrip() for line in block.strip().strip("`").strip().splitlines()]


def normal(line: str) -> str:
    """What stays the same from run to run: digits, day and month names vary with the clock."""
    line = DURATION.sub("a while", line.rstrip())  # "25m 2s" on one run, "26m" on a slower one
    return MONTHS.sub("Mon", DAYS.sub("Day", re.sub(r"\d+", "0", line)))


def shell(lines: list[str], cwd: Path, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    """The shell as a whole process in a fresh directory and home: no kubeconfig, no config file, no Slack."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "shell", *args],
        input="\n".join(lines) + "\n",
        env={**base, "NO_COLOR": "1", "HOME": str(cwd)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_make_runs_command_with_no_slack_token_and_no_cluster_is_the_shell_on_the_demo(tmp_path: Path) -> None:
    """What ``make run`` runs (``chatops-bot run``) on a machine with no Slack token, no KUBECONFIG and no
    ~/.kube/config: the shell, on the demo platform, saying both."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"], input="/db snapshots demo-db\nquit\n",
        env={**base, "NO_COLOR": "1", "HOME": str(tmp_path)}, cwd=tmp_path, capture_output=True, text=True,
        timeout=150, check=False,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:] + out[-3000:]
    assert out.startswith("no SLACK_BOT_TOKEN: starting the local shell")
    assert "Using the demo platform (cluster demo (EKS demo-eks), RDS demo-db, namespace production)" in out
    assert "demo-db-before-migration-0412" in out
    assert_nothing_left(tmp_path)


def test_the_readmes_walk_through_the_guide_runs_as_shown(tmp_path: Path) -> None:
    shown = transcript()
    assert shown[0] == "$ chatops-bot shell --demo"
    ahead = (date.today() + timedelta(days=40)).isoformat()  # a window starts within a year
    typed = [re.sub(r"\b\d{4}-\d{2}-\d{2}\b", ahead, m["answer"]) for line in shown[1:] if (m := PROMPT.match(line))]
    assert "fire 1" in typed and "wait 1d" in typed
    done = shell(typed, tmp_path, "--demo")
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    # Each typed line and what followed it: the README's lines of it appear there (in any order: the crashloop
    # diagnosis and "What changed" are made at once, and either may be posted first).
    shown_parts, actual_parts = parts(shown[1:])[1:], parts(done.stdout.splitlines())
    assert [p[0] for p in shown_parts] == [normal(p[0]) for p in actual_parts[1:]]
    for (prompt, lines), (_, out) in zip(shown_parts, actual_parts[1:], strict=True):
        for line in lines:
            assert any(o.startswith(line) for o in out), f"after `{prompt}`, not in the shell's output: {line}\n" + (
                "\n".join(out)
            )


def parts(lines: list[str]) -> list[tuple[str, list[str]]]:
    """The lines cut at each prompt: (the prompt line, the lines after it), all normalised; "…" left out."""
    cut: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        if PROMPT.match(line):
            cut.append((normal(line), []))
        elif line != "…":
            cut[-1][1].append(normal(line))
    return cut


def test_with_nothing_to_read_the_shell_runs_on_the_demo_and_stops_it_when_done(tmp_path: Path) -> None:
    typed = ["/db snapshots demo-db", "/eks patches demo", "/report weekly", "/cert list", "/alerts", "/eks check demo",
             "/backup list", "/health", "quit"]  # fmt: skip
    done = shell(typed, tmp_path)
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:] + out[-3000:]
    assert "Using the demo platform (cluster demo (EKS demo-eks), RDS demo-db, namespace production)" in out
    answers = dict(zip(typed, out.split("you@#incidents> ")[1:], strict=True))
    assert "demo-db-before-migration-0412" in answers["/db snapshots demo-db"]  # moto's RDS, seeded
    assert "vpc-cni" in answers["/eks patches demo"] and "demo-eks" in out  # the EKS stand-in's add-on, one behind
    assert "Last 7 days $4,124.40, the 7 before $3,713.50" in answers["/report weekly"]  # Cost Explorer's seeded days
    assert "production/api-tls: Ready, 🟠 expires" in answers["/cert list"]  # the certificate due in 5 days
    assert "KubePodCrashLooping (critical): 1 firing" in answers["/alerts"]  # the Alertmanager stand-in's groups
    assert "🔴 blocked by add-on vpc-cni" in answers["/eks check demo"]
    backups = answers["/backup list"]
    assert "✅ before-payments-migration Completed" in backups and "production-volumes 0 3 * * *" in backups
    health = answers["/health"]
    assert "payments: CrashLoopBackOff" in health and "OOMKilled" in health and "NotReady" in health
    assert "production/orders-data — Pending" in health and "at max replicas" in health
    assert "Something went wrong" not in out and "no usable kubeconfig" not in out
    assert_nothing_left(tmp_path)


def assert_nothing_left(tmp_path: Path) -> None:
    """Neither the demo platform nor moto's process beside it outlived the shell."""
    for name in ("demo", "demo.moto_process"):
        left = subprocess.run(
            ["pgrep", "-f", "--", f"-m {name} {tmp_path}"], capture_output=True, text=True, check=False
        )
        assert left.returncode == 1 and left.stdout.strip() == "", f"{name} outlived the shell: {left}"


def test_a_quit_while_the_demo_is_still_starting_leaves_nothing_running(tmp_path: Path) -> None:
    done = shell(["quit"], tmp_path)  # moto's process is still loading or seeding
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Using the demo platform" in done.stdout
    assert_nothing_left(tmp_path)


def test_the_users_own_kubeconfig_keeps_the_demo_away(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    done = shell(["quit"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Using the built-in demo config" in done.stdout
    assert "demo platform" not in done.stdout
