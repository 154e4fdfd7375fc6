"""``python -m demo DIR``: the demo platform as its own process, on loopback. Kubernetes (kmock, with the demo's
controllers), AWS (moto, and the EKS calls moto lacks), Alertmanager and Statuspage.

It writes one JSON line when it listens (``{"event": "listening", "env": …, "config": …}``: what the bot is to be
pointed at, as the environment and the config file would), with the cluster seeded; AWS is seeded next (its endpoint
holds calls until then). It serves until its stdin closes (the shell that started it quit, or died)."""

from __future__ import annotations

import asyncio
import gc
import json
import re
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
    # AWS's endpoint first, moto behind it once it is up: every call waits for the seeding, which follows moto's
    # start, so moto (its import alone is 0.2 s) starts after the bot has been told where everything listens
    eks = aws.DemoEks(moto_url="")
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
    moto = None
    try:
        moto = await asyncio.to_thread(_moto, eks)
        await asyncio.to_thread(aws.seed, eks.moto_url, eks)
    except Exception as exc:  # noqa: BLE001 - the cluster and the rest still serve; the shell's log says why
        eks.seeded.set()  # calls are answered (moto's errors) rather than held
        print(f"demo: seeding AWS failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    await asyncio.to_thread(sys.stdin.read)  # until the shell closes our stdin
    for standin in (eks, alertmanager, statuspage):
        standin.stop()
    if moto is not None:
        moto.stop()
    await server.__aexit__(None, None, None)


def _moto(eks: Any) -> Any:
    """moto's server on loopback, behind ``eks`` (the demo's AWS endpoint)."""
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    eks.moto_url = f"http://{host}:{port}"
    return moto


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
