"""The capacity review's arithmetic: quantities as the API server writes them, effective pod requests, why a pod waits,
HPAs pinned at their maximum, the sums per node group and the namespaces requesting far more than they use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from runbooks.checklist.capacity import (
    OTHER,
    Amount,
    Tally,
    group_of,
    pending_reason,
    pinned_hpa,
    pod_requests,
    quantity,
    usage,
)
from tests.support.capacity_seed import EKS, KARPENTER, hpa, node, pod, unschedulable

GIB = 1024**3
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", 0.25), ("1.5", 1.5), ("2", 2.0), ("3700123456n", 3.700123456), ("2Gi", 2 * GIB), ("128974848", 128974848.0),
     ("129M", 129e6), ("2097152Ki", 2 * GIB), ("1e3", 1000.0), ("0.5Mi", 0.5 * 1024**2), (".5", 0.5), (7, 7.0)],
)  # fmt: skip
def test_quantities_in_base_units(text: object, value: float) -> None:
    assert quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", None, "lots", "5Xi", "1.2.3", "--1", "Gi"])
def test_what_is_not_a_quantity_counts_nothing(text: object) -> None:
    assert quantity(text) == 0.0


def test_node_groups_by_eks_then_karpenter_label_else_other() -> None:
    assert group_of(node("a", "1", "1Gi", {EKS: "general", KARPENTER: "spot"})) == "general"
    assert group_of(node("b", "1", "1Gi", {KARPENTER: "spot"})) == "spot"
    assert group_of(node("c", "1", "1Gi")) == OTHER
    assert group_of(node("d", "1", "1Gi", {EKS: "*not a label value*"})) == OTHER  # never shown as is


def test_effective_requests_take_the_largest_init_container_and_the_overhead() -> None:
    plain = pod("p", "ns", "n", [{"cpu": "500m", "memory": "1Gi"}, {"cpu": "250m"}])
    assert pod_requests(plain) == Amount(0.75, GIB)
    init = pod("q", "ns", "n", [{"cpu": "250m", "memory": "3Gi"}], init=[{"cpu": "2", "memory": "1Gi"}])
    assert pod_requests(init) == Amount(2.0, 3 * GIB)  # each resource its own maximum
    init["spec"]["overhead"] = {"cpu": "100m", "memory": "128Mi"}
    assert pod_requests(init) == Amount(2.1, 3 * GIB + 128 * 1024**2)
    assert pod_requests({"spec": {"containers": [{"name": "x"}]}}) == Amount()  # no requests at all


def test_pending_reasons_from_the_schedulers_words() -> None:
    def waiting(message: str) -> str:
        return pending_reason(pod("w", "ns", None, [], phase="Pending", scheduled=unschedulable(message)))

    assert waiting("0/4 nodes are available: 4 Insufficient memory.") == "Insufficient memory"
    assert (
        waiting("0/9 nodes are available: 3 Insufficient memory, 6 Insufficient cpu.") == "Insufficient cpu and memory"
    )
    assert waiting("0/3 nodes are available: 3 node(s) had untolerated taint.") == "Unschedulable"
    assert pending_reason(pod("new", "ns", None, [], phase="Pending")) == "not scheduled yet"


def test_an_hpa_is_pinned_only_at_its_maximum_for_more_than_a_day() -> None:
    pinned = pinned_hpa(
        hpa("api", "shop", limited=("True", "TooManyReplicas", NOW - timedelta(days=2)), current=10), NOW
    )
    assert pinned is not None and (pinned.namespace, pinned.name, pinned.max_replicas) == ("shop", "api", 10)
    assert pinned.since == NOW - timedelta(days=2)
    for limited in [("True", "TooManyReplicas", NOW - timedelta(hours=23)), ("True", "TooFewReplicas", NOW - timedelta(days=5)),
                    ("False", "DesiredWithinRange", NOW - timedelta(days=5))]:  # fmt: skip
        assert pinned_hpa(hpa("x", "shop", limited=limited, current=3), NOW) is None
    assert pinned_hpa(hpa("y", "shop", limited=None, current=3), NOW) is None


def tally() -> Tally:
    t = Tally()
    t.add_nodes([node("a", "4", "16Gi", {EKS: "general"}), node("b", "4", "16Gi", {EKS: "general"}),
                 node("c", "16", "64Gi", {KARPENTER: "big"})])  # fmt: skip
    t.add_pods([
        pod("api", "shop", "a", [{"cpu": "1", "memory": "4Gi"}]),
        pod("web", "shop", "b", [{"cpu": "2", "memory": "2Gi"}], phase="Pending"),  # bound, starting: counted
        pod("job", "batch", "c", [{"cpu": "8", "memory": "32Gi"}]),
        pod("old", "batch", "c", [{"cpu": "8", "memory": "32Gi"}], phase="Succeeded"),
        pod("wait", "shop", None, [{"cpu": "1", "memory": "64Gi"}], phase="Pending",
            scheduled=unschedulable("0/3 nodes are available: 3 Insufficient memory.")),
        pod("ghost", "shop", "gone-node", [{"cpu": "1", "memory": "1Gi"}]),  # on a node not listed: in no group
    ])  # fmt: skip
    return t


def test_groups_sum_allocatable_and_requests_largest_first() -> None:
    t = tally()
    big, general = t.groups()
    assert (big.name, big.nodes, big.allocatable, big.requested) == (
        "big",
        1,
        Amount(16, 64 * GIB),
        Amount(8, 32 * GIB),
    )
    assert (general.name, general.nodes, general.allocatable) == ("general", 2, Amount(8, 32 * GIB))
    assert general.requested == Amount(3, 6 * GIB)
    assert big.used is None and general.used is None  # no metrics given
    assert dict(t.pending) == {"Insufficient memory": 1} and t.pending_pods == [("shop", "wait", "Insufficient memory")]


def test_a_groups_use_is_known_only_when_every_node_of_it_has_a_figure() -> None:
    t = tally()
    t.add_node_use({"a": Amount(1, GIB), "c": Amount(2, 8 * GIB), "not-a-node": Amount(9, GIB)})
    big, general = t.groups()
    assert big.used == Amount(2, 8 * GIB)
    assert general.used is None  # b has no figure: a partial sum would understate the group


def test_over_requesters_request_twice_their_use_and_a_real_amount_more() -> None:
    t = tally()
    use = {"shop": Amount(1.2, 3.5 * GIB), "batch": Amount(0.5, 4 * GIB)}
    (over,) = t.over_requesters(use)
    assert over.namespace == "batch" and over.requested == Amount(8, 32 * GIB) and over.used == Amount(0.5, 4 * GIB)
    assert [o.namespace for o in t.over_requesters({})] == ["batch", "shop"]  # nothing used: most left over first
    small = Tally()
    small.add_pods([pod("tiny", "dev", "a", [{"cpu": "100m", "memory": "100Mi"}])])
    assert small.over_requesters({}) == []  # twice its use, but too little to matter


def test_usage_by_node_and_by_namespace() -> None:
    nodes = [{"metadata": {"name": "a"}, "usage": {"cpu": "250m", "memory": "1Gi"}}]
    pods = [
        {"metadata": {"name": "p", "namespace": "shop"}, "containers": [{"usage": {"cpu": "1", "memory": "1Gi"}},
                                                                        {"usage": {"cpu": "500m", "memory": "1Gi"}}]},
        {"metadata": {"name": "q", "namespace": "shop"}, "containers": [{"usage": {"cpu": "500m", "memory": "2Gi"}}]},
    ]  # fmt: skip
    assert usage(nodes) == {"a": Amount(0.25, GIB)}
    assert usage(pods, by_namespace=True) == {"shop": Amount(2.0, 4 * GIB)}
