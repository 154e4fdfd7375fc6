"""``/eks patches`` and the weekly report's "Security patches" over the wire: the bot over signed HTTP; moto for EKS's
clusters and node groups (an Amazon Linux 2 group releases behind, a Bottlerocket one behind, an AL2023 one current)
and SSM's public parameters with their history (seeded in moto's own store: AWS, and moto, refuse a put under
``/aws``); the EKS stand-in for add-ons, the support dates (``describe_cluster_versions``) and the node-group update;
kmock for the nodes (a Karpenter pool with a kubelet behind and two OS images)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.eks import AddonState, EksStandIn
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import reply_text, thread_posts, wait_reply
from tests.support.slack_recorder import SlackRecorder
from tests.support.standin import Reply, Request, StandIn

ROLE = "arn:aws:iam::123456789012:role/eks"
OPS, BOB = "U0OPS", "U0BOB"
AL2 = "/aws/service/eks/optimized-ami/1.29/amazon-linux-2/recommended/release_version"
AL2023 = "/aws/service/eks/optimized-ami/1.29/amazon-linux-2023/x86_64/standard/recommended/release_version"
BOTTLEROCKET = "/aws/service/bottlerocket/aws-k8s-1.29/x86_64/latest/image_version"
SUPPORT_DAYS = 40
RELEASE_ACTION = "offer_eks-nodegroup-release"


class NoNodes(StandIn):
    """The second cluster's API: no nodes (kmock runs once per process)."""

    def __init__(self) -> None:
        super().__init__()
        self.start()

    def handle(self, request: Request) -> Reply:
        empty = {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}
        return Reply(200, empty) if request.path == "/api/v1/nodes" else Reply(404, {})


def node(name: str, kubelet: str, image: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {"nodeInfo": {"kubeletVersion": kubelet, "osImage": image}},
    }


def seed_ssm(name: str, history: list[tuple[str, str]]) -> None:
    """A public parameter with its versions (value, day set), in moto's store of the test's region."""
    from moto.ssm.models import Parameter, ssm_backends

    store = ssm_backends["123456789012"]["us-east-1"]._parameters
    for version, (value, day) in enumerate(history, start=1):
        store[name].append(
            Parameter(
                account_id="123456789012",
                name=name,
                value=value,
                parameter_type="String",
                description=None,
                allowed_pattern=None,
                keyid=None,
                last_modified_date=datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp(),  # type: ignore[arg-type]
                version=version,
                data_type="text",
            )
        )


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    prod = KubeEmulator().start()
    pool = {"karpenter.sh/nodepool": "spot"}
    prod.seed(
        {
            "v1/nodes": [
                node("ng-1", "v1.29.0-eks-1", "Amazon Linux 2", {"eks.amazonaws.com/nodegroup": "general"}),
                node("spot-1", "v1.29.3-eks-1", "Bottlerocket OS 1.19.2 (aws-k8s-1.29)", pool),
                node("spot-2", "v1.29.3-eks-1", "Bottlerocket OS 1.19.2 (aws-k8s-1.29)", pool),
                node("spot-3", "v1.28.8-eks-1", "Amazon Linux 2023.5.20240701", pool),
            ]
        }
    )
    stage = NoNodes()
    path = tmp_path_factory.mktemp("kube") / "kubeconfig"
    servers = (("prod", prod.url), ("stage", stage.url), ("lab", stage.url))
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers],
                "users": [{"name": "bot", "user": {"token": "kmock-test-token"}}],
                "contexts": [{"name": n, "context": {"cluster": n, "user": "bot"}} for n, _ in servers],
                "current-context": "prod",
            }
        )
    )
    yield path
    prod.stop()
    stage.stop()


@pytest.fixture(scope="module")
def aws() -> Iterator[tuple[Moto, EksStandIn]]:
    moto = Moto().start()
    eks = moto.client("eks")
    groups = {
        "eks-prod": [
            ("general", "AL2_x86_64", "1.29.0-20240101"),
            ("bottle", "BOTTLEROCKET_x86_64", "1.19.0-aaaa1111"),
            ("modern", "AL2023_x86_64_STANDARD", "1.29.3-20240601"),
        ],
        "eks-stage": [("workers", "AL2_x86_64", "1.29.3-20240315")],
    }
    for cluster, found in groups.items():
        eks.create_cluster(name=cluster, version="1.29", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
        for group, ami, release in found:
            eks.create_nodegroup(
                clusterName=cluster, nodegroupName=group, nodeRole=ROLE, subnets=["subnet-1"], version="1.29",
                amiType=ami, releaseVersion=release,
            )  # fmt: skip
    seed_ssm(
        AL2, [("1.29.0-20240101", "2024-01-03"), ("1.29.0-20240202", "2024-02-05"), ("1.29.3-20240315", "2024-03-18")]
    )
    seed_ssm(BOTTLEROCKET, [("1.19.0-aaaa1111", "2024-01-10"), ("1.19.2-bbbb2222", "2024-02-20")])
    seed_ssm(AL2023, [("1.29.3-20240601", "2024-06-03")])
    stand_in = EksStandIn(moto.url)
    stand_in.addons = {
        "eks-prod": {"vpc-cni": AddonState("v1.15.0-eksbuild.1"), "coredns": AddonState("v1.11.1-eksbuild.4")},
        "eks-stage": {},
    }
    stand_in.versions = {
        "vpc-cni": [
            ("v1.18.0-eksbuild.1", ["1.29", "1.30"], ["1.30"]),
            ("v1.16.0-eksbuild.1", ["1.29", "1.30"], ["1.29"]),
            ("v1.15.0-eksbuild.1", ["1.28", "1.29"], []),
        ],
        "coredns": [("v1.11.1-eksbuild.4", ["1.29", "1.30"], ["1.29", "1.30"])],
    }
    end = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=SUPPORT_DAYS)
    stand_in.support = {
        "1.29": {
            "endOfStandardSupportDate": end.timestamp(),
            "endOfExtendedSupportDate": (end + timedelta(days=365)).timestamp(),
            "status": "STANDARD_SUPPORT",
            "versionStatus": "STANDARD_SUPPORT",
        }
    }
    yield moto, stand_in
    stand_in.stop()
    moto.stop()


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    clusters: Path,
    aws: tuple[Moto, EksStandIn],
) -> Iterator[Bot]:
    config = tmp_path_factory.mktemp("patches") / "chatops.yaml"
    config.write_text(
        textwrap.dedent(
            """
            channels: {incidents: C0INCIDENTS, stakeholders: C0STATUS, digest: C0HEALTH}
            oncall: {timezone: Europe/Berlin, rotation: [U0ALICE], lead: U0LEAD}
            permissions: {operators: [U0OPS]}
            kubernetes:
              clusters: [{name: prod, context: prod}, {name: stage, context: stage}, {name: lab, context: lab}]
            aws:
              region: us-east-1
              eks: {clusters: {prod: {name: eks-prod}, stage: {name: eks-stage}}}
            """
        )
    )
    env = {"KUBECONFIG": str(clusters), **aws[0].env(), "AWS_ENDPOINT_URL_EKS": aws[1].url}
    proc = Bot(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp_path_factory.mktemp("patches-bot") / "bot.log",
        extra_env=env,
    ).start()
    yield proc
    proc.terminate()


def ask(slack: SignedSlack, recorder: SlackRecorder, text: str, phrase: str, user: str = BOB) -> dict[str, Any]:
    since = len(recorder.of("response_url"))
    ack_text(slack.command(text, command="/eks", user=user))
    return wait_reply(recorder, since, phrase, timeout=30)


def release_buttons(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for b in reply["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if str(e.get("action_id", "")).startswith(RELEASE_ACTION)
    ]


def test_patches_name_every_group_pool_add_on_and_the_end_of_support(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    today = datetime.now(UTC).date()
    report = ask(slack, recorder, "patches prod", "Security patches: prod")
    text = reply_text(report)
    since = (today - datetime(2024, 2, 5, tzinfo=UTC).date()).days
    assert (
        "node group general (AL2_x86_64, 1.29): 1.29.0-20240101, 2 releases behind (latest 1.29.3-20240315), "
        f"out of date since 2024-02-05 ({since} days)"
    ) in text
    assert (
        "node group bottle (BOTTLEROCKET_x86_64, 1.29): 1.19.0-aaaa1111, 1 release behind (latest 1.19.2-bbbb2222)"
        in text
    )
    assert "node group modern (AL2023_x86_64_STANDARD, 1.29): 1.29.3-20240601, the latest" in text
    end = today + timedelta(days=SUPPORT_DAYS)
    assert f"1.29 standard support ends {end.isoformat()}: {SUPPORT_DAYS} days" in text
    assert "add-on vpc-cni v1.15.0-eksbuild.1 → v1.18.0-eksbuild.1 (2 newer compatible with 1.29)" in text
    assert "add-on coredns v1.11.1-eksbuild.4, the newest compatible with 1.29" in text
    assert "Karpenter pool spot: 3 node(s)" in text
    assert "Karpenter pool spot: kubelet v1.28.8-eks-1 on 1 node(s) is behind the control plane's 1.29" in text
    assert "Karpenter pool spot: the OS image differs across the pool (2 images)" in text
    assert "ng-1" not in text and "Amazon Linux 2 (1)" not in text  # a managed node is its group's, not a pool's
    assert "🔴 prod (eks-prod): 2 node groups behind; 2 pool flags; 1 add-on behind" in text
    assert not release_buttons(report)  # a responder reads; only an operator's reply offers the update
    assert "Operators asking get an *Update node group* button" in text


def test_bad_clusters_are_refused_before_any_aws_call(
    slack: SignedSlack, recorder: SlackRecorder, aws: tuple[Moto, EksStandIn]
) -> None:
    calls = len(aws[1].calls)
    for text, rule in [
        ("patches nope", "`nope` is not a configured cluster"),
        ("patches ../prod", "is not a configured cluster"),
        ("patches lab", "`lab` has no EKS cluster in the config"),
        ("patches prod stage", "Write `/eks patches [<cluster>]`"),
    ]:
        assert rule in ack_text(slack.command(text, command="/eks", user=BOB)), text
    assert len(aws[1].calls) == calls


def test_ssm_denied_is_one_line_naming_it_and_the_rest_is_shown(
    slack: SignedSlack, recorder: SlackRecorder, aws: tuple[Moto, EksStandIn]
) -> None:
    with aws[0].denied() as front:  # only calls through the front (SSM) are refused; EKS answers through its stand-in
        text = reply_text(ask(slack, recorder, "patches prod", "Security patches: prod"))
        assert front.calls >= 1
    denied = [line for line in text.splitlines() if "ssm:GetParameter" in line]
    assert denied == ["• ⚠️ SSM: access denied: the bot's AWS identity may not call ssm:GetParameter "
                      "(deploy/iam-policy.json grants it)"]  # fmt: skip
    assert "node group general (AL2_x86_64, 1.29): 1.29.0-20240101, the latest release not read (SSM)" in text
    assert "add-on vpc-cni v1.15.0-eksbuild.1 → v1.18.0-eksbuild.1" in text
    assert "standard support ends" in text and "Karpenter pool spot" in text
    assert "(not read: SSM)" in text


def test_every_cluster_is_in_the_weekly_report(slack: SignedSlack, recorder: SlackRecorder) -> None:
    since = len(recorder.of("response_url"))
    ack_text(slack.command("weekly", command="/report", user=BOB))
    text = reply_text(wait_reply(recorder, since, "Security patches", timeout=40))
    assert "🔴 prod (eks-prod): 2 node groups behind" in text
    assert "✅ stage (eks-stage): 1.29 standard support ends" not in text  # near its end: a problem, not ✅
    assert "🔴 stage (eks-stage): 1.29 standard support ends" in text


def test_an_operator_updates_a_node_group_once_and_a_responder_is_refused(
    slack: SignedSlack, recorder: SlackRecorder, aws: tuple[Moto, EksStandIn], state: redis.Redis
) -> None:
    stand_in = aws[1]
    offer = ask(slack, recorder, "patches prod", "Security patches: prod", user=OPS)
    buttons = {b["text"]["text"]: b for b in release_buttons(offer)}
    assert set(buttons) == {
        "Update node group general to 1.29.3-20240315",
        "Update node group bottle to 1.19.2-bbbb2222",
    }
    general = buttons["Update node group general to 1.29.3-20240315"]
    assert "to AMI release 1.29.3-20240315 (Kubernetes 1.29 unchanged)" in general["confirm"]["text"]["text"]

    since = len(recorder.of("response_url"))
    slack.click(general["action_id"], general["value"], user=BOB)
    wait_reply(recorder, since, "Only operators")
    assert not stand_in.of("update_nodegroup_version")

    since = len(recorder.of("response_url"))
    for _ in range(2):
        slack.click(general["action_id"], general["value"], user=OPS)
    wait_reply(recorder, since, "<@U0OPS> started the update of `node group general of eks-prod to release 1.29.3")
    wait_reply(recorder, since, "it is not repeated")
    (update,) = stand_in.of("update_nodegroup_version")
    assert (update.nodegroup, update.release) == ("general", "1.29.3-20240315")
    wait_for(lambda: thread_posts(recorder, "InProgress"), what="progress")
    stand_in.finish(update.id)
    wait_for(
        lambda: any("Successful" in t for t in thread_posts(recorder, "Node group update of")),
        timeout=20,
        what="Successful",
    )
    audit = wait_for(
        lambda: (
            [f for _, f in state.xrange("audit") if f.get("kind") == "eks-nodegroup-release"][1:]
            and [f for _, f in state.xrange("audit") if f.get("kind") == "eks-nodegroup-release"]
        ),
        what="both audit entries",
    )
    assert isinstance(audit, list)
    assert [(a["actor"], a["result"]) for a in audit] == [("U0BOB", "refused: not an operator"), ("U0OPS", "done")]
    after = reply_text(ask(slack, recorder, "patches prod", "Security patches: prod"))
    assert "node group general (AL2_x86_64, 1.29): 1.29.3-20240315, the latest" in after
