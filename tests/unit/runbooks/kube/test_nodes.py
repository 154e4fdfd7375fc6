"""Drain's decisions: which pods are left alone, which budget blocked an eviction."""

from __future__ import annotations

from runbooks.kube.nodes import Drained, budgets_for, selector_matches, skipped


def test_selectors_as_budgets_read_them() -> None:
    labels = {"app": "ledger", "tier": "db"}
    assert selector_matches({"matchLabels": {"app": "ledger"}}, labels)
    assert not selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not selector_matches({}, labels)  # an empty budget selector selects nothing
    assert selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, labels)


def test_what_a_drain_skips() -> None:
    assert skipped({"metadata": {"ownerReferences": [{"kind": "DaemonSet"}]}}) == "DaemonSet pod"
    assert skipped({"metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}}) == "mirror pod"
    assert skipped({"metadata": {}, "status": {"phase": "Succeeded"}}) == "finished"
    assert skipped({"metadata": {"ownerReferences": [{"kind": "ReplicaSet"}]}, "status": {"phase": "Running"}}) is None


def test_the_budget_that_blocked_and_the_summary() -> None:
    pdbs = [
        {"metadata": {"name": "ledger-pdb"}, "spec": {"selector": {"matchLabels": {"app": "ledger"}}}},
        {"metadata": {"name": "web-pdb"}, "spec": {"selector": {"matchLabels": {"app": "web"}}}},
    ]
    assert budgets_for({"metadata": {"labels": {"app": "ledger"}}}, pdbs) == ["ledger-pdb"]
    result = Drained(evicted=["p/a"], blocked={"p/l": "PDB ledger-pdb"}, skipped={"DaemonSet pod": ["p/f"]})
    assert result.summary() == "evicted 1 pod(s), blocked by PDB ledger-pdb: p/l, skipped 1 DaemonSet pod(s)"
