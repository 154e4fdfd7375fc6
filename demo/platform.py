"""``python -m demo DIR``: the demo platform as its own process, on loopback. Kubernetes (kmock, with the demo's
controllers), AWS (moto, and the EKS calls moto lacks), Alertmanager and Statuspage.

It writes one JSON line when it listens (``{"event": "listening", "env": …, "config": …}``: what the bot is to be
pointed at, as the environment and the config file would), with the cluster seeded; moto, in a process of its own
(``demo.moto_process``), is seeded meanwhile (the AWS endpoint holds a call for it until then). It serves until its
stdin closes (the shell that started it quit, or died)."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

CONTEXT = "demo"


def config(urls: dict[str, str]) -> dict[str, Any]:
    """The bot's config for the demo: the built-in shell config plus the platform it can now read."""
    return {
        "channels": {"incidents": "C0INCIDENTS", "digest": "C0HEALTH", "stakeholders": "C0STATUS"},
        "permissions": {"operators": ["U0YOU"]},
        "oncall": {"rotation": ["U0ALICE", "U0BOB"], "lead": "U0LEAD"},
        "digest": {"cron": "0 8 * * *"},  # every day, so that a `wait 1d` always sees one
        "kubernetes": {"clusters": [{"name": "demo", "context": CONTEXT}], "rollout_timeout": "30s"},
        "velero": {"namespace": "velero"},
        "aws": {
            "region": "us-east-1",
            "rds": {"instances": ["demo-db"]},
            "eks": {"clusters": {"demo": {"name": "demo-eks"}}},
        },
        "alerts": {"alertmanager_url": urls["alertmanager"], "enrich_defaults": True},
        "statuspage": {
            "page_id": "demo0page",
            "api_url": urls["statuspage"],
            "components": {"api-gateway": "cmp0gateway", "payments": "cmp0payments"},
        },
    }


def kubeconfig(path: Path, url: str) -> Path:
    path.touch(mode=0o600)
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": CONTEXT, "cluster": {"server": url}}],
                "users": [{"name": "chatops-bot", "user": {"token": "demo-token"}}],
                "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "chatops-bot"}}],
                "current-context": CONTEXT,
            }
        )
    )
    return path


def say(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def serve(directory: Path) -> None:
    import kmock

    from demo import aws, seed
    from demo.alerts import DemoAlertmanager
    from demo.cluster import DemoCluster
    from demo.statuspage import StatuspageStandIn

    cluster = DemoCluster()
    cluster["get", re.compile(r"^/version/?$")] << _version()  # the official client asks for "/version/"
    cluster.load(seed.cluster(datetime.now(UTC)))
    server = kmock.Server(cluster)
    await server.__aenter__()
    eks = aws.DemoEks(moto_url="")  # moto behind it once seeded
    aws.seed_eks(eks)
    alertmanager = DemoAlertmanager()
    statuspage = StatuspageStandIn()
    urls = {"alertmanager": alertmanager.url, "statuspage": statuspage.url}
    env = {
        "KUBECONFIG": str(kubeconfig(directory / "kubeconfig", str(server.url).rstrip("/"))),
        **aws.CREDENTIALS,
        "AWS_ENDPOINT_URL": eks.url,  # moto behind it, once seeded
        "STATUSPAGE_API_KEY": StatuspageStandIn.KEY,
    }
    say("listening", env=env, config=config(urls), alertmanager=alertmanager.url)
    gc.enable()  # start-up ran without the cyclic collector (see main)
    # moto in a process of its own (demo.moto_process), once the bot has been told where everything listens: its
    # start (about 1 s of CPU) does not hold up this process's answers to the bot, and the AWS endpoint holds a call
    # for moto until it has said it is seeded
    moto = subprocess.Popen(
        [sys.executable, "-P", "-m", "demo.moto_process", str(directory)],  # the directory names it (for ps)
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    seeding = asyncio.create_task(_seeded(moto, eks))
    try:
        await asyncio.to_thread(sys.stdin.read)  # until the shell closes our stdin (moto seeded or not)
    finally:
        seeding.cancel()
        _stop(moto)
        eks.seeded.set()  # a call still held for moto is answered (its error), not kept until its wait ends
    for standin in (eks, alertmanager, statuspage):
        standin.stop()
    await server.__aexit__(None, None, None)


async def _seeded(moto: subprocess.Popen[str], eks: Any) -> None:
    """Once moto's process says it is seeded, the AWS endpoint lets calls through to it."""
    assert moto.stdout is not None
    seeded = await asyncio.to_thread(moto.stdout.readline)
    try:
        eks.moto_url = str(json.loads(seeded)["url"])
    except (ValueError, KeyError, TypeError):  # the cluster and the rest still serve; the shell's log says why
        print(f"demo: moto did not start or was not seeded (exit {moto.poll()}); AWS calls fail", file=sys.stderr)
    eks.seeded.set()  # calls held until now go on (to moto's errors, if it is not there)


def _stop(moto: subprocess.Popen[str]) -> None:
    """moto's process ends when its stdin closes; killed if it does not within 5 s."""
    if moto.stdin is not None:
        moto.stdin.close()
    try:
        moto.wait(5)
    except subprocess.TimeoutExpired:
        moto.kill()
        moto.wait()


def _version() -> dict[str, str]:
    from demo.objects import version_info

    return version_info("v1.29.8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m demo DIRECTORY (where the demo's kubeconfig is written)", file=sys.stderr)
        return 2
    directory = Path(argv[0])
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    gc.disable()  # until it listens: start-up allocates what the platform keeps, the collector would free nothing
    try:
        asyncio.run(serve(directory))
    except KeyboardInterrupt:
        return 0
    return 0
