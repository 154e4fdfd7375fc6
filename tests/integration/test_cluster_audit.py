"""The weekly report's "Who did what in the clusters" over the wire: a real bot, moto's EKS and CloudWatch Logs (in
front of it, a stand-in that can refuse the CloudWatch Logs calls alone) with audit events planted as EKS writes them:
a change, an exec, a Secret read by a person and by a service account, a denial, Kubernetes' own traffic, a stage
logged twice, an event of last week and one of another stream; a cluster whose audit logging is off, and one whose
log group does not exist."""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.aws import AwsFront, Moto
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator
from tests.support.redis_server import RedisServer
from tests.support.replies import reply_text, wait_reply
from tests.support.slack_recorder import SlackRecorder
from tests.support.standin import Reply, Request

ROLE = "arn:aws:iam::123456789012:role/eks"
ADMIN_ARN = "arn:aws:sts::123456789012:assumed-role/Admin/alice"
SECRET_IN_BODY = "hunter2-planted-secret-value"
CONFIG = """
channels: {incidents: C0INCIDENTS, digest: C0HEALTH}
permissions: {operators: [U0OPS]}
kubernetes:
  clusters: [{name: prod, context: emu}, {name: stage, context: emu}, {name: gone, context: emu}, {name: busy, context: emu}]
aws:
  region: us-east-1
  eks: {clusters: {prod: {name: eks-prod}, stage: {name: eks-stage}, gone: {name: eks-gone}, busy: {name: eks-busy}}}
"""


class LogsFront(AwsFront):
    """moto's front, which can also refuse only the CloudWatch Logs calls (``logs_denied``) as AWS does."""

    logs_denied = False
    describe_denied = False  # EKS's DescribeCluster of eks-prod refused (REST-JSON: 403 with the error type header)

    def handle(self, request: Request) -> Reply:
        if self.describe_denied and request.method == "GET" and request.path.rstrip("/") == "/clusters/eks-prod":
            body = b'{"message": "User: arn:aws:sts::123456789012:assumed-role/chatops-bot is not authorized"}'
            return Reply(403, body, {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"})
        if self.logs_denied and request.headers.get("X-Amz-Target", "").startswith("Logs_"):
            body = (
                b'{"__type": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/'
                b'chatops-bot is not authorized to perform: logs:FilterLogEvents"}'
            )
            return Reply(400, body, {"Content-Type": "application/x-amz-json-1.1"})
        return super().handle(request)


def event(
    user: str,
    verb: str,
    resource: str,
    *,
    code: int = 200,
    stage: str = "ResponseComplete",
    audit_id: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    """One audit event as the API server writes it (``audit.k8s.io/v1``)."""
    ref = {
        "resource": resource,
        "namespace": "production",
        "name": more.pop("name", "api-gateway"),
        "apiVersion": "v1",
        **more.pop("ref", {}),
    }
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": audit_id or str(uuid.uuid4()),
        "stage": stage,
        "requestURI": f"/api/v1/namespaces/production/{resource}",
        "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"], **more.pop("identity", {})},
        "sourceIPs": ["10.0.0.1"],
        "userAgent": "kubectl/v1.30.0",
        "objectRef": ref,
        "responseStatus": {"metadata": {}, "code": code},
        **more,
    }


def planted() -> list[dict[str, Any]]:
    exec_id = str(uuid.uuid4())
    admin = {"extra": {"arn": [ADMIN_ARN], "sessionName": ["alice"]}}
    return [
        event("admin", "patch", "deployments", identity=admin, requestObject={"data": {"password": SECRET_IN_BODY}}),
        event(
            "admin",
            "create",
            "pods",
            name="api-gateway-abc",
            ref={"subresource": "exec"},
            identity=admin,
            stage="ResponseStarted",
            audit_id=exec_id,
            code=101,
        ),
        event(
            "admin",
            "create",
            "pods",
            name="api-gateway-abc",
            ref={"subresource": "exec"},
            identity=admin,
            audit_id=exec_id,
            code=101,
        ),
        event("bob@acme.io", "get", "secrets", name="db-password"),
        event("system:serviceaccount:production:api", "get", "secrets", name="db-password"),
        event("system:node:ip-10-0-0-1.ec2.internal", "get", "secrets", name="db-password"),
        event("carol@acme.io", "delete", "secrets", name="db-password", code=403),
        event("system:kube-controller-manager", "update", "leases", name="kube-controller-manager"),
        event("eks:node-manager", "patch", "nodes", name="ip-10-0-0-1"),
        event("dave@acme.io", "patch", "deployments", stage="RequestReceived"),
        event(
            "system:serviceaccount:chatops:bot", "patch", "deployments", impersonatedUser={"username": "erin@acme.io"}
        ),
        event("frank@acme.io", "get", "deployments"),  # a read: not a change
    ]


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = Moto()
    server.front = LogsFront()
    server.start()
    eks, logs = server.client("eks"), server.client("logs")
    vpc = {"subnetIds": ["subnet-1"]}
    on = {"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]}
    off = {"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": False}]}
    eks.create_cluster(name="eks-prod", version="1.30", roleArn=ROLE, resourcesVpcConfig=vpc, logging=on)
    eks.create_cluster(name="eks-stage", version="1.30", roleArn=ROLE, resourcesVpcConfig=vpc, logging=off)
    eks.create_cluster(name="eks-gone", version="1.30", roleArn=ROLE, resourcesVpcConfig=vpc, logging=on)
    group = "/aws/eks/eks-prod/cluster"
    logs.create_log_group(logGroupName=group)
    for stream in ("kube-apiserver-audit-0a1b2c", "authenticator-0a1b2c"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    day = 24 * 3600 * 1000
    events = [{"timestamp": now - day + i, "message": json.dumps(e)} for i, e in enumerate(planted())]
    logs.put_log_events(logGroupName=group, logStreamName="kube-apiserver-audit-0a1b2c", logEvents=events)
    old = [{"timestamp": now - 9 * day, "message": json.dumps(event("mallory@acme.io", "delete", "deployments"))}]
    logs.put_log_events(logGroupName=group, logStreamName="kube-apiserver-audit-0a1b2c", logEvents=old)
    other = [{"timestamp": now - day, "message": json.dumps(event("eve@acme.io", "delete", "deployments"))}]
    logs.put_log_events(logGroupName=group, logStreamName="authenticator-0a1b2c", logEvents=other)
    plant_busy(eks, logs, now - day)
    yield server
    server.stop()


BUSY = 60  # people changing things in the busy cluster this week


def plant_busy(eks: Any, logs: Any, when: int) -> None:
    """A cluster where 60 people with long IAM role names each made a dozen kinds of change."""
    on = {"clusterLogging": [{"types": ["audit"], "enabled": True}]}
    eks.create_cluster(
        name="eks-busy", version="1.30", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["s"]}, logging=on
    )
    group, stream = "/aws/eks/eks-busy/cluster", "kube-apiserver-audit-busy"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    kinds = ["deployments", "configmaps", "services", "ingresses", "jobs", "cronjobs"]
    events = []
    for i in range(BUSY):
        arn = f"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_PlatformEngineeringAdministrators_{i:04d}/p{i}"
        who = {"extra": {"arn": [arn]}}
        for j in range(1 + i % 12):
            verb = ["patch", "create", "delete", "update"][j % 4]
            events.append(event(f"person-{i:02d}", verb, kinds[j % len(kinds)], identity=who, name=f"thing-{j}"))
    batch = [{"timestamp": when + k, "message": json.dumps(e)} for k, e in enumerate(events)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory, recorder: SlackRecorder, moto: Moto) -> Iterator[SignedSlack]:
    directory = tmp_path_factory.mktemp("cluster-audit")
    redis_server = RedisServer().start()
    emulator = KubeEmulator().start()
    config = directory / "chatops.yaml"
    config.write_text(textwrap.dedent(CONFIG))
    bot = Bot(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=directory / "bot.log",
        extra_env={"KUBECONFIG": str(emulator.kubeconfig(directory / "kubeconfig", context="emu")), **moto.env()},
    ).start()
    client = SignedSlack(bot.base_url, recorder.response_url)
    yield client
    client.close()
    bot.terminate()
    emulator.stop()
    redis_server.cleanup()


def weekly(slack: SignedSlack, recorder: SlackRecorder) -> str:
    since = len(recorder.of("response_url"))
    ack_text(slack.command("weekly", command="/report", user="U0BOB"))
    return reply_text(wait_reply(recorder, since, "Weekly report", timeout=40))


def test_the_week_is_summed_up_per_person_and_logging_off_is_said_plainly(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    report = weekly(slack, recorder)
    assert "Who did what in the clusters" in report
    # The exec logged at two stages counts once; Kubernetes', EKS's and the service account's reads do not count.
    assert "*prod* (EKS eks-prod): 5 request(s) by 4 person(s)/account(s)" in report
    assert (
        f"• admin ({ADMIN_ARN}): 1 change(s) (patch deployments ×1); "
        "exec/attach ×1 (exec production/api-gateway-abc ×1)"
    ) in report
    assert "• bob@acme.io: Secret reads ×1" in report
    assert "• carol@acme.io: 🚫 denied ×1 (delete secrets ×1)" in report
    assert "• erin@acme.io via system:serviceaccount:chatops:bot: 1 change(s) (patch deployments ×1)" in report
    for absent in (
        "system:serviceaccount:production:api",
        "system:node:",
        "kube-controller-manager",
        "eks:node-manager",
        "dave@",
        "frank@",
        "mallory@",
        "eve@",
        SECRET_IN_BODY,
    ):
        assert absent not in report
    assert (
        "⚪ *stage* (EKS eks-stage): audit logging is off for eks-stage: enable it (aws eks update-cluster-config "
        "--region us-east-1 --name eks-stage --logging"
    ) in report
    assert "audit logging is off for eks-gone" in report and "there is no /aws/eks/eks-gone/cluster" in report


def test_cloudwatch_logs_denied_is_one_line_naming_it_and_the_rest_is_posted(
    slack: SignedSlack, recorder: SlackRecorder, moto: Moto
) -> None:
    front = moto.front
    assert isinstance(front, LogsFront)
    front.logs_denied = True
    try:
        report = weekly(slack, recorder)
    finally:
        front.logs_denied = False
    assert (
        "⚠️ *prod*: CloudWatch Logs not read: access denied: the bot's AWS identity may not call logs:FilterLogEvents"
    ) in report
    assert "bob@acme.io" not in report
    assert "audit logging is off for eks-stage" in report  # the other clusters are still read
    assert "Access audit" in report and "Reliability" in report


def test_a_busy_cluster_names_its_most_active_people_and_the_report_stays_one_message(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    report = weekly(slack, recorder)  # the stand-in refuses a message past Slack's limits, which fails the test
    busy = report[report.index("*busy* (EKS eks-busy)") :]
    assert f"*busy* (EKS eks-busy): {sum(1 + i % 12 for i in range(BUSY))} request(s) by {BUSY} person(s)" in busy
    shown = [line for line in busy.splitlines() if line.startswith("• person-")]
    # The quiet clusters leave their share to the busy one: more than its quarter of the section, at most ten people.
    assert 6 <= len(shown) <= 10
    assert shown[0].startswith("• person-11 (arn:aws:sts::123456789012:assumed-role/")  # the most active first
    counts = [int(line.split(": ", 1)[1].split(" change(s)", 1)[0]) for line in shown]
    assert counts[:5] == [12] * 5 and counts == sorted(counts, reverse=True)  # i % 12 == 11 changed most
    assert f"…and {BUSY - len(shown)} more" in busy
    assert all(len(line) <= 300 for line in shown)
    assert "…cut:" not in report and "• bob@acme.io: Secret reads ×1" in report  # the other clusters still shown


def test_eks_refusing_describe_cluster_is_one_line_naming_it(
    slack: SignedSlack, recorder: SlackRecorder, moto: Moto
) -> None:
    front = moto.front
    assert isinstance(front, LogsFront)
    front.describe_denied = True
    try:
        report = weekly(slack, recorder)
    finally:
        front.describe_denied = False
    assert (
        "⚠️ *prod*: audit log not read (EKS, CloudWatch Logs): access denied: the bot's AWS identity may not call "
        "eks:DescribeCluster (deploy/iam-policy.json grants it)"
    ) in report
    assert "bob@acme.io" not in report and "*busy* (EKS eks-busy)" in report
