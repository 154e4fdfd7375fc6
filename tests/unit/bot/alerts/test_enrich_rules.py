"""``alerts.enrich``: the rules as the config loads them (every mistake a clear problem), which rule an alert's labels
match, the target they name (checked as Kubernetes names before any API), and what the shared post leaves out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts import targets as plan
from bot.alerts.enrich import WITHHELD, gist, missing, quotes_logs, withheld
from bot.core.settings import SettingsError, load_config_file
from bot.core.settings.alerting import DEFAULT_ENRICH, ENRICH_RUNS, Alerts, EnrichRule
from runbooks.books.crashloop import CrashingContainer, CrashloopReport
from runbooks.books.error_rate import ErrorRateReport
from runbooks.registry import registry


def problems(tmp_path: Path, alerts: str) -> str:
    path = tmp_path / "chatops.yaml"
    path.write_text(f"channels: {{incidents: C0INCIDENTS}}\nalerts:\n{alerts}")
    with pytest.raises(SettingsError) as err:
        load_config_file(path)
    return "\n".join(err.value.problems)


# The config -------------------------------------------------------------------------------------------------------
def test_the_example_of_the_issue_loads_with_the_defaults_after_the_rules(tmp_path: Path) -> None:
    path = tmp_path / "chatops.yaml"
    path.write_text(
        "channels: {incidents: C0INCIDENTS}\n"
        "alerts:\n"
        "  enrich:\n"
        "    - {match: {alertname: KubePodCrashLooping}, run: crashloop}\n"
        '    - {match: {alertname: HighErrorRate}, run: high-error-rate, args: "--pattern=ERROR"}\n'
        '    - {match: {namespace: "~.+"}, run: changes}\n'
        "  enrich_defaults: true\n"
        "  enrich_timeout: 20s\n"
    )
    alerts = load_config_file(path).alerts
    assert [r.run for r in alerts.enrichments] == ["crashloop", "high-error-rate", "changes"] + [
        r.run for r in DEFAULT_ENRICH
    ]
    assert alerts.enrich_timeout == timedelta(seconds=20)
    assert alerts.enrichments[1].options == ["--pattern=ERROR"]
    assert Alerts().enrichments == [] and Alerts().enrich_timeout == timedelta(seconds=20)
    assert {r.match["alertname"]: r.run for r in Alerts(enrich_defaults=True).enrichments} == {
        "KubePodCrashLooping": "crashloop",
        "KubeContainerWaiting": "crashloop",
        "KubePodNotReady": "crashloop",
        "KubeDeploymentReplicasMismatch": "changes",
    }


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ('{match: {namespace: "~(prod"}, run: crashloop}', "the regex does not compile"),
        ("{match: {alertname: X}, run: rollback}", "run 'rollback' is not one of crashloop, high-error-rate, changes"),
        ('{match: {alertname: X}, run: crashloop, args: "--pattern=ERROR"}', "crashloop takes no options"),
        ('{match: {alertname: X}, run: high-error-rate, args: "ERROR"}', "high-error-rate takes --pattern=…, --deps=…"),
        ("{match: {bad-label: X}, run: crashloop}", "'bad-label' is not a label name"),
        ("{match: {}, run: crashloop}", "at least 1 item"),
        ("{match: {alertname: X}, run: crashloop, when: now}", "when: unknown setting"),
    ],
)
def test_a_bad_rule_is_a_clear_config_problem(tmp_path: Path, rule: str, said: str) -> None:
    text = problems(tmp_path, f"  enrich:\n    - {rule}\n")
    assert "alerts.enrich.0" in text and said in text


def test_the_time_box_is_bounded(tmp_path: Path) -> None:
    assert "between 1s and 5m" in problems(tmp_path, "  enrich_timeout: 10m\n")
    assert "must be longer than zero" in problems(tmp_path, "  enrich_timeout: 0s\n")


def test_the_runs_the_config_allows_are_the_registry_s_diagnoses_and_their_options() -> None:
    books = registry()
    for run, options in ENRICH_RUNS.items():
        if run == plan.CHANGES:
            continue
        assert run in books and books[run].shows_logs  # both quote logs: the shared post leaves them out
        assert set(books[run].params.model_fields) - {"workload", "namespace"} == set(options)
        assert list(books[run].params.model_fields)[:2] == ["workload", "namespace"]  # the target, by position


# Matching ---------------------------------------------------------------------------------------------------------
RULES = [
    EnrichRule(match={"alertname": "KubePodCrashLooping"}, run="crashloop"),
    EnrichRule(match={"alertname": "~High.*Rate", "team": "payments"}, run="high-error-rate", args="--pattern=5\\d\\d"),
    EnrichRule(match={"namespace": "~.+"}, run="changes"),
]


def test_the_first_rule_whose_matchers_all_match_wins() -> None:
    crash = {"alertname": "KubePodCrashLooping", "namespace": "production", "pod": "api-7d4b9c8f6-x2k9p"}
    assert plan.rule_for(RULES, crash) is RULES[0]  # before the namespace rule
    assert plan.rule_for(RULES, {"alertname": "HighErrorRate", "team": "payments"}) is RULES[1]
    assert plan.rule_for(RULES, {"alertname": "HighErrorRate", "team": "search", "namespace": "x"}) is RULES[2]
    # Regexes are anchored: "HighErrorRateBudget" does not match "High.*Rate"; a plain value is equality.
    assert plan.rule_for(RULES, {"alertname": "HighErrorRateBudget", "team": "payments"}) is None
    assert plan.rule_for(RULES, {"alertname": "kubepodcrashlooping"}) is None
    assert plan.rule_for(RULES, {"alertname": "Other", "namespace": ""}) is None  # "~.+": a namespace, not none


def test_the_target_comes_from_the_labels() -> None:
    rule = RULES[0]
    pod = plan.target(rule, {"namespace": "production", "pod": "payments-7d4b9c8f6-x2k9p"}, ["us", "eu"], [])
    assert (pod.namespace, pod.workload, pod.pod, pod.cluster, pod.problem) == (
        "production", None, "payments-7d4b9c8f6-x2k9p", None, None,
    )  # fmt: skip
    both = {"namespace": "production", "pod": "x-1", "statefulset": "db", "cluster": "eu"}
    named = plan.target(rule, both, ["us", "eu"], [])
    assert (named.workload, named.pod, named.cluster) == ("db", None, "eu")  # the workload label wins; eu is listed
    assert plan.target(rule, {**both, "cluster": "mars"}, ["us", "eu"], []).cluster is None  # the default cluster
    assert plan.target(RULES[1], {"namespace": "p", "deployment": "api"}, [], []).options == ("--pattern=5\\d\\d",)


@pytest.mark.parametrize(
    ("labels", "said"),
    [
        ({"namespace": "production", "pod": "Pay$ments; rm -rf"}, "is not a valid pod name"),
        ({"namespace": "production", "deployment": "a" * 300}, "is not a valid workload name"),
        ({"namespace": "Prod_1", "pod": "api-0"}, "is not a valid namespace name"),
        ({"namespace": "staging", "pod": "api-0"}, "namespace `staging` is not one the bot may act in"),
        ({"pod": "api-0"}, "the alert has no `namespace` label"),
        ({"namespace": "production"}, "no `pod`, `deployment`, `statefulset` or `daemonset` label"),
    ],
)
def test_a_target_that_cannot_be_used_has_its_problem(labels: dict[str, str], said: str) -> None:
    found = plan.target(RULES[0], labels, [], ["production"])
    assert found.problem is not None and said in found.problem
    assert len(found.problem) < 300 and "\n" not in found.problem


def test_the_change_feed_takes_the_labels_as_they_are() -> None:
    found = plan.target(RULES[2], {"namespace": "Not A Name", "alertname": "X"}, [], [])
    assert found.problem is None and found.labels["namespace"] == "Not A Name"


def test_a_pod_s_workload_from_its_name() -> None:
    assert plan.workload_of_pod("payments-api-7d4b9c8f6-x2k9p") == "payments-api"  # Deployment → ReplicaSet → pod
    assert plan.workload_of_pod("postgres-12") == "postgres"  # StatefulSet
    assert plan.workload_of_pod("node-exporter-x2k9p") == "node-exporter"  # DaemonSet
    assert plan.workload_of_pod("payments-api-5c7d9") == "payments-api"
    assert plan.workload_of_pod("standalone") == "standalone"
    assert plan.workload_of_pod("api-gateway") == "api-gateway"  # "gateway" has vowels: not a random suffix


def test_a_delivery_asks_each_target_once_up_to_the_limit() -> None:
    crash = [
        {"alertname": "KubePodCrashLooping", "namespace": "production", "pod": f"api-7d4b9c8f6-x2k9{c}", "c": "1"}
        for c in "bcdfghjk"
    ]
    again = [{**crash[0], "container": "sidecar"}]  # the same pod, another container: the same target
    found = plan.targets(RULES, crash[:2] + again + [{"alertname": "Nothing"}], [], [], limit=5)
    assert [t.pod for t in found] == ["api-7d4b9c8f6-x2k9b", "api-7d4b9c8f6-x2k9c"]
    assert len(plan.targets(RULES, crash, [], [], limit=5)) == 5
    one, other = plan.targets(RULES, crash[:2], [], [], limit=5)
    assert one.key() != other.key() and one.key("api") == other.key("api")  # two pods of one workload: one claim
    assert one.key() != plan.target(RULES[0], {**crash[0], "cluster": "eu"}, ["eu"], []).key()  # another cluster
    feed = [{"namespace": "production", "pod": p, "alertname": "PodDown"} for p in ("api-7d4b9c8f6-x2k9b", "api-0")]
    changes = plan.targets(RULES, feed, [], [], limit=5)
    assert len({t.key() for t in changes}) == 1  # the feed's scope is the workload: one call for its pods


# What the shared post leaves out -------------------------------------------------------------------------------
def crashloop(logs: list[str]) -> CrashloopReport:
    crashing = CrashingContainer(
        pod="api-1", container="api", restarts=3, waiting="CrashLoopBackOff", last_reason="OOMKilled", exit_code=137,
        memory_limit="256Mi", previous_logs=logs,
    )  # fmt: skip
    return CrashloopReport(
        namespace="production", workload="api", deployment=True, selector="app=api", pods_seen=1, crashing=[crashing],
        events=[], configmaps=[], secrets=[],
    )  # fmt: skip


def test_log_lines_are_left_out_of_the_shared_report_and_the_rest_kept() -> None:
    report = crashloop(["token=hunter2", "java.lang.OutOfMemoryError"])
    assert quotes_logs(report)
    shared = withheld(report)
    assert isinstance(shared, CrashloopReport)
    assert shared.crashing[0].previous_logs == [WITHHELD] and "hunter2" not in shared.model_dump_json()
    assert shared.crashing[0].restarts == 3 and shared.crashing[0].last_reason == "OOMKilled"
    assert not quotes_logs(crashloop([])) and withheld(crashloop([])) == crashloop([])
    rate = ErrorRateReport(
        namespace="p", workload="api", pattern="ERROR", pods_seen=2, lines_read=10, error_lines=6,
        samples=["ERROR card 4111 1111 1111 1111"], history=None, dependencies=[], dependencies_checked=0,
    )  # fmt: skip
    shared_rate = withheld(rate)
    assert (
        isinstance(shared_rate, ErrorRateReport) and shared_rate.samples == [WITHHELD] and shared_rate.error_lines == 6
    )


def test_the_timeline_gist_and_a_workload_that_is_not_there() -> None:
    assert gist(crashloop(["x"]), "summary") == "3 restarts, OOMKilled"
    gone = crashloop([]).model_copy(update={"crashing": [], "pods_seen": 0, "deployment": False})
    assert missing(gone) and not missing(crashloop([]))
    assert gist(gone, "summary") == "no crashing containers among 0 pod(s)"
