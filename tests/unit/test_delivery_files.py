"""The Slack manifest and the Kubernetes manifests match the code and stay least-privilege."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((REPO / "manifest.yml").read_text())
SPEC_COMMANDS = {c["command"] for c in MANIFEST["features"]["slash_commands"]}


def test_manifest_declares_every_command_on_one_endpoint() -> None:
    manifest = MANIFEST
    commands = manifest["features"]["slash_commands"]
    assert {"/incident", "/oncall", "/health", "/runbook", "/rollback"} <= SPEC_COMMANDS  # the spec's own
    urls = {c["url"] for c in commands}
    urls |= {
        manifest["settings"]["interactivity"]["request_url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "app_mentions:read",
        "usergroups:read",
        "im:write",
        "channels:manage",
        "groups:write",
        "channels:read",
        "groups:read",
        "pins:write",
        "files:write",
        "users:read",
        "users:read.email",
    }
    assert "socket_mode_enabled" in manifest["settings"]


def test_every_manifest_command_has_a_listener_and_is_documented() -> None:
    import re

    registered = set()
    for source_file in (REPO / "handlers").glob("*.py"):
        source = source_file.read_text()
        registered |= set(re.findall(r'kit\.command\(\s*"(/[a-z]+)"', source))
    assert registered == SPEC_COMMANDS
    readme = (REPO / "README.md").read_text()
    assert [c for c in sorted(SPEC_COMMANDS) if f"`{c}" not in readme] == []


def _docs(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [d for d in yaml.safe_load_all((REPO / "deploy" / name).read_text()) if d]


def test_deployment_runs_two_replicas_with_probes_and_no_root() -> None:
    (deployment,) = _docs("deployment.yaml")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    container = spec["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["envFrom"][0]["secretRef"]["name"] == "chatops-bot"


def test_cluster_role_is_read_only_and_never_touches_secrets() -> None:
    role = next(d for d in _docs("rbac-read.yaml") if d["kind"] == "ClusterRole")
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
        assert "secrets" not in rule["resources"]


def test_rollback_role_is_namespaced_and_minimal() -> None:
    role = next(d for d in _docs("rbac-rollback.yaml") if d["kind"] == "Role")
    assert role["metadata"]["namespace"]
    verbs = {(res, verb) for rule in role["rules"] for res in rule["resources"] for verb in rule["verbs"]}
    assert ("deployments", "patch") in verbs
    assert all(verb in {"get", "list", "patch"} for _, verb in verbs)
    assert not any(res == "secrets" for res, _ in verbs)


def test_velero_role_reads_and_only_creates_backups_and_restores() -> None:
    assert "rbac-velero.yaml" in _docs("kustomization.yaml")[0]["resources"]
    role = next(d for d in _docs("rbac-velero.yaml") if d["kind"] == "Role")
    assert role["metadata"]["namespace"] == "velero"
    verbs = {(res, verb) for rule in role["rules"] for res in rule["resources"] for verb in rule["verbs"]}
    assert all(rule["apiGroups"] == ["velero.io"] for rule in role["rules"])
    assert {res for res, verb in verbs if verb == "create"} == {"backups", "restores"}
    assert {verb for _, verb in verbs} == {"get", "list", "watch", "create"}


def test_iam_policy_grants_exactly_the_actions_the_code_names() -> None:
    import json
    import re

    policy = json.loads((REPO / "deploy" / "iam-policy.json").read_text())
    granted = {a for s in policy["Statement"] for a in s["Action"] if s["Effect"] == "Allow"}
    named = set()
    for source in [*REPO.glob("bot/**/*.py"), *REPO.glob("runbooks/**/*.py")]:
        named |= set(re.findall(r"\b(rds|eks|ce|sts|ssm|sns|logs):([A-Z][A-Za-z]+)", source.read_text()))
    assert {f"{service}:{action}" for service, action in named} == granted
    assert not any(a.endswith("*") or a.startswith(("rds:Delete", "rds:Modify")) for a in granted)


def test_nodes_role_patches_nodes_and_evicts_only() -> None:
    assert "rbac-nodes.yaml" in _docs("kustomization.yaml")[0]["resources"]
    role = next(d for d in _docs("rbac-nodes.yaml") if d["kind"] == "ClusterRole")
    verbs = {(res, verb) for rule in role["rules"] for res in rule["resources"] for verb in rule["verbs"]}
    assert verbs == {
        ("nodes", "get"),
        ("nodes", "patch"),
        ("pods/eviction", "create"),
        ("poddisruptionbudgets", "get"),
        ("poddisruptionbudgets", "list"),
    }


def test_certs_role_patches_only_the_certificate_status() -> None:
    assert "rbac-certs.yaml" in _docs("kustomization.yaml")[0]["resources"]
    role = next(d for d in _docs("rbac-certs.yaml") if d["kind"] == "ClusterRole")
    verbs = {(res, verb) for rule in role["rules"] for res in rule["resources"] for verb in rule["verbs"]}
    assert verbs == {("certificates/status", "patch")}
    read = next(d for d in _docs("rbac-read.yaml") if d["kind"] == "ClusterRole")
    readable = {res for rule in read["rules"] for res in rule["resources"]}
    assert {"services", "serviceaccounts", "rolebindings", "clusterrolebindings", "certificaterequests"} <= readable


def test_impersonate_role_is_opt_in_and_names_each_subject() -> None:
    assert "rbac-impersonate.yaml" not in _docs("kustomization.yaml")[0]["resources"]
    role = next(d for d in _docs("rbac-impersonate.yaml") if d["kind"] == "ClusterRole")
    assert {(res, verb) for rule in role["rules"] for res in rule["resources"] for verb in rule["verbs"]} == {
        ("users", "impersonate"),
        ("groups", "impersonate"),
    }
    assert all(rule["apiGroups"] == [""] and rule["resourceNames"] for rule in role["rules"])  # never any subject
    binding = next(d for d in _docs("rbac-impersonate.yaml") if d["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "chatops-bot", "namespace": "chatops"}]
