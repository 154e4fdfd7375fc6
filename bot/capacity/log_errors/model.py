"""Loki's series as error lines per workload (pure): each series is one namespace and one value of the grouping label
(a pod, whose name says its workload, or the workload's own label), kept when its namespace is listed or its
workload is."""

from __future__ import annotations

from collections.abc import Sequence

from runbooks.checklist.capacity import LogErrors, WorkloadErrors
from runbooks.loki.logql import workload_of_pod


def from_series(
    series: Sequence[tuple[dict[str, str], float]], namespaces: Sequence[str], workloads: Sequence[str], label: str
) -> LogErrors:
    """Error lines per workload, largest first; ``pods_read`` is the number of series (pods, or label values)."""
    listed = set(namespaces)
    wanted = {tuple(ref.split("/", 1)) for ref in workloads}
    by_workload: dict[tuple[str, str], WorkloadErrors] = {}
    kept = 0
    for labels, value in series:
        namespace, named = labels.get("namespace", ""), labels.get(label, "")
        if not namespace or not named:
            continue
        workload = workload_of_pod(named) if label == "pod" else named
        if namespace not in listed and (namespace, workload) not in wanted:
            continue
        kept += 1
        entry = by_workload.setdefault((namespace, workload), WorkloadErrors(namespace, workload))
        entry.pods += 1
        entry.lines += round(value)
    report = LogErrors(pods_read=kept)
    report.workloads = sorted(
        (w for w in by_workload.values() if w.lines), key=lambda w: (-w.lines, w.namespace, w.name)
    )
    return report


def with_samples(report: LogErrors, lines: Sequence[tuple[dict[str, str], str]], label: str, chars: int) -> None:
    """Each workload's newest matching line (``lines`` newest first), cut to ``chars``."""
    first: dict[tuple[str, str], str] = {}
    for labels, text in lines:
        named = labels.get(label, "")
        workload = workload_of_pod(named) if label == "pod" else named
        first.setdefault((labels.get("namespace", ""), workload), text)
    for entry in report.workloads:
        sample = first.get((entry.namespace, entry.name))
        if sample is not None:
            entry.sample = sample[:chars]
