"""The pure parts of counting error lines: LogQL built and Loki's answers read, pod names to workloads, lines matched
in a pod's log, a workload's pods by its selector."""

from __future__ import annotations

import json

import pytest

from bot.core.settings.capacity import compile_pattern
from runbooks.checklist import logs
from runbooks.loki import logql


def test_the_count_query_quotes_the_pattern_as_a_logql_string() -> None:
    query = logql.error_count(["shop"], 'ERROR|"quoted"|\\d+ failed', "pod")
    assert query == (
        'sum by (namespace, pod) (count_over_time({namespace="shop"} |~ "ERROR|\\"quoted\\"|\\\\d+ failed" [24h]))'
    )
    # What Loki reads back from that string literal is the pattern itself.
    literal = query.split("|~ ", 1)[1].rsplit(" [24h]", 1)[0]
    assert json.loads(literal) == 'ERROR|"quoted"|\\d+ failed'


def test_several_namespaces_are_one_regex_matcher_and_none_is_refused() -> None:
    assert logql.stream_selector(["web", "shop", "web"]) == '{namespace=~"shop|web"}'
    assert logql.error_lines(["shop"], "panic") == '{namespace="shop"} |~ "panic"'
    with pytest.raises(ValueError, match="no namespace"):
        logql.error_count([], "x", "pod")


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("payments-api-7d4b9c8f6-x2x9z", "payments-api"),  # a Deployment's: template hash and suffix
        ("node-exporter-wq2hz", "node-exporter"),  # a DaemonSet's
        ("db-0", "db"),  # a StatefulSet's
        ("standalone", "standalone"),
        ("api-gateway", "api-gateway"),  # "gateway" has vowels: not a generated suffix
    ],
)
def test_a_pod_name_says_its_workload(pod: str, workload: str) -> None:
    assert logql.workload_of_pod(pod) == workload


def test_a_vector_answer_is_read_and_anything_else_refused() -> None:
    data = {"resultType": "vector", "result": [
        {"metric": {"namespace": "shop", "pod": "a"}, "value": [1.0, "12"]},
        {"metric": {"namespace": "shop", "pod": "b"}, "value": [1.0, "NaN"]},
    ]}  # fmt: skip
    assert logql.series(data) == [({"namespace": "shop", "pod": "a"}, 12.0)]
    with pytest.raises(ValueError, match="'streams', not an instant vector"):
        logql.series({"resultType": "streams", "result": []})
    with pytest.raises(ValueError, match="not in Loki's format"):
        logql.series({"resultType": "vector", "result": [{"metric": {}, "value": []}]})


def test_streams_are_read_newest_first_across_streams() -> None:
    data = {"resultType": "streams", "result": [
        {"stream": {"pod": "a"}, "values": [["300", "a newest"], ["100", "a oldest"]]},
        {"stream": {"pod": "b"}, "values": [["200", "b middle"]]},
    ]}  # fmt: skip
    assert [line for _, line in logql.stream_lines(data)] == ["a newest", "b middle", "a oldest"]
    with pytest.raises(ValueError, match="not log streams"):
        logql.stream_lines({"resultType": "vector", "result": []})


def test_the_default_pattern_counts_matching_lines_and_keeps_the_last() -> None:
    search = getattr(compile_pattern("ERROR|FATAL|panic"), "search")  # noqa: B009
    text = "INFO up\nERROR one\nerror: lowercase\nWARN x\npanic: two\n"
    assert logs.count(text, search) == (2, "panic: two")
    assert logs.count("INFO only\n", search) == (0, None)


def test_a_pod_belongs_to_its_controllers_workload() -> None:
    pod = {"metadata": {"name": "api-5d8f7b9c4-x2x9z", "labels": {"pod-template-hash": "5d8f7b9c4"},
                        "ownerReferences": [{"kind": "ReplicaSet", "name": "api-5d8f7b9c4", "controller": True}]}}  # fmt: skip
    assert logs.workload_of(pod) == "api"
    assert logs.workload_of({"metadata": {"name": "lonely"}}) == "lonely"
    assert logs.selected(pod, {"pod-template-hash": "5d8f7b9c4"}) and not logs.selected(pod, {"app": "api"})
