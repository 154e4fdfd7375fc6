"""The Security Audit's checks on plain dicts: each planted finding is found, each healthy twin is not."""

from __future__ import annotations

from typing import Any

from runbooks.checklist.security import (
    CHECKS,
    check_bindings,
    check_pods,
    check_services,
    default_accounts,
    sort,
    workload,
)


def pod(name: str, spec: dict[str, Any], ns: str = "app", **meta: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name, **meta}, "spec": spec, "status": {"phase": "Running"}}


SAFE = {"runAsNonRoot": True, "runAsUser": 1000}


def safe_spec(**extra: Any) -> dict[str, Any]:
    return {"serviceAccountName": "api", "securityContext": SAFE, "containers": [{"name": "app"}], **extra}


def whys(findings: list[Any], check: str) -> list[str]:
    return [f"{f.ref} — {f.why}" for f in findings if f.check == check]


def test_a_safe_pod_has_no_findings() -> None:
    assert check_pods([pod("ok", safe_spec())], {}) == []


def test_privileged_in_init_and_ephemeral_containers_escalation_and_capabilities() -> None:
    spec = safe_spec(
        initContainers=[{"name": "setup", "securityContext": {"privileged": True}}],
        ephemeralContainers=[{"name": "debug", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "CHOWN"]}}}],
        containers=[{"name": "app", "securityContext": {"allowPrivilegeEscalation": True}}],
    )
    found = whys(check_pods([pod("p", spec)], {}), "privileged")
    assert found == [
        "app/Pod/p — init container setup: privileged",
        "app/Pod/p — app: allowPrivilegeEscalation",
        "app/Pod/p — ephemeral container debug: adds capability SYS_ADMIN",
    ]
    twin = safe_spec(
        containers=[{"name": "app", "securityContext": {"privileged": False, "capabilities": {"add": ["CHOWN"]}}}]
    )
    assert whys(check_pods([pod("p", twin)], {}), "privileged") == []


def test_the_containers_run_as_user_wins_over_the_pods() -> None:
    spec = {"serviceAccountName": "api", "securityContext": {"runAsUser": 0},
            "containers": [{"name": "ok", "securityContext": {"runAsUser": 1000}}, {"name": "inherits"}]}  # fmt: skip
    found = whys(check_pods([pod("p", spec)], {}), "root")
    assert found == ["app/Pod/p — inherits: runAsUser 0 (set on the pod)"]
    override = {"serviceAccountName": "api", "securityContext": SAFE,
                "containers": [{"name": "c", "securityContext": {"runAsUser": 0}}]}  # fmt: skip
    assert whys(check_pods([pod("p", override)], {}), "root") == ["app/Pod/p — c: runAsUser 0 (set on the container)"]


def test_no_run_as_user_and_no_run_as_non_root_is_a_lower_finding() -> None:
    spec = {"serviceAccountName": "api", "containers": [{"name": "c"}]}
    (finding,) = [f for f in check_pods([pod("p", spec)], {}) if f.check == "root"]
    assert finding.rank == 1 and "may run as root: the image decides" in finding.why
    non_root = {"serviceAccountName": "api", "securityContext": {"runAsNonRoot": True}, "containers": [{"name": "c"}]}
    assert whys(check_pods([pod("p", non_root)], {}), "root") == []


def test_default_service_account_and_whether_its_token_is_mounted() -> None:
    spec = {"securityContext": SAFE, "containers": [{"name": "c"}]}
    mounted = check_pods([pod("p", spec)], {})
    assert whys(mounted, "default-sa") == ["app/Pod/p — uses the default ServiceAccount, its token mounted"]
    account_off = check_pods([pod("p", spec)], {"app": False})
    assert whys(account_off, "default-sa") == ["app/Pod/p — uses the default ServiceAccount (token not mounted)"]
    pod_on = check_pods([pod("p", {**spec, "automountServiceAccountToken": True})], {"app": False})
    assert "token mounted" in whys(pod_on, "default-sa")[0]  # the pod's setting wins over the account's
    assert default_accounts([{"metadata": {"namespace": "app", "name": "default"},
                              "automountServiceAccountToken": False}]) == {"app": False}  # fmt: skip


def test_host_namespaces_and_paths() -> None:
    spec = safe_spec(hostNetwork=True, hostPID=True, volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}])
    assert whys(check_pods([pod("p", spec)], {}), "host") == [
        "app/Pod/p — hostNetwork, hostPID",
        "app/Pod/p — hostPath volume docker (/var/run)",
    ]
    assert whys(check_pods([pod("p", safe_spec(volumes=[{"name": "d", "emptyDir": {}}]))], {}), "host") == []


def test_replicas_are_one_finding_named_by_their_deployment() -> None:
    owner = {"ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d9f8c6b5", "controller": True}],
             "labels": {"pod-template-hash": "7d9f8c6b5"}}  # fmt: skip
    spec = safe_spec(hostNetwork=True)
    pods = [pod(f"web-7d9f8c6b5-{i}", spec, **owner) for i in range(40)]
    assert whys(check_pods(pods, {}), "host") == ["app/Deployment/web — hostNetwork"]
    assert workload(pod("job-28000-x", {}, ownerReferences=[{"kind": "Job", "name": "nightly-28000"}])) == (
        "app",
        "CronJob/nightly",
    )
    finished = {**pod("done", spec), "status": {"phase": "Succeeded"}}
    assert check_pods([finished], {}) == []


def test_exposed_services() -> None:
    def svc(name: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
        return {"metadata": {"namespace": "app", "name": name, "annotations": annotations or {}}, "spec": spec}

    found = check_services([
        svc("open", {"type": "LoadBalancer"}),
        svc("narrow", {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]}),
        svc("wide", {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/0"]}),
        svc("np", {"type": "NodePort", "ports": [{"nodePort": 30080}]}),
        svc("internal", {"type": "LoadBalancer"}, {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}),
        svc("inside", {"type": "ClusterIP"}),
    ])  # fmt: skip
    assert [(f.name, f.why, f.rank) for f in found] == [
        ("open", "LoadBalancer open to 0.0.0.0/0", 2),
        ("narrow", "LoadBalancer, from 10.0.0.0/8", 1),
        ("wide", "LoadBalancer open to 0.0.0.0/0", 2),
        ("np", "NodePort 30080", 1),
        ("internal", "LoadBalancer (internal)", 1),
    ]


def test_bindings_to_anonymous_and_cluster_admin_for_everyone() -> None:
    def binding(kind: str, name: str, role: str, *subjects: str, ns: str | None = None) -> dict[str, Any]:
        meta = {"name": name, **({"namespace": ns} if ns else {})}
        return {"kind": kind, "metadata": meta, "roleRef": {"kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "Group", "name": s} for s in subjects]}  # fmt: skip

    found = check_bindings([
        binding("RoleBinding", "peek", "view", "system:anonymous", ns="app"),
        binding("ClusterRoleBinding", "everyone-admin", "cluster-admin", "system:authenticated"),
        binding("ClusterRoleBinding", "discovery", "system:discovery", "system:authenticated"),
        binding("RoleBinding", "team", "edit", "developers", ns="app"),
    ])  # fmt: skip
    assert [f.ref for f in found] == ["app/peek", "everyone-admin"]
    assert found[0].why == "RoleBinding grants ClusterRole view to system:anonymous"


def test_sorted_most_severe_first() -> None:
    spec = {"hostPID": True, "containers": [{"name": "c"}]}
    ranks = [f.rank for f in sort(check_pods([pod("p", spec)], {}))]
    assert ranks == sorted(ranks, reverse=True)


def test_the_configs_check_names_are_the_audits() -> None:
    from typing import get_args

    from bot.core.settings.config import AuditCheck

    assert set(get_args(AuditCheck)) == set(CHECKS)
