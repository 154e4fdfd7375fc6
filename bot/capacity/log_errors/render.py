"""The digest's "Errors in logs" as lines (pure): per cluster (or for Loki) the error lines of the last 24 h, the top
workloads by them, and a sample line each only when ``kubernetes.share_logs`` (log text never reaches the shared
channel otherwise)."""

from __future__ import annotations

from bot.core.text import clip, escape
from runbooks.checklist.capacity import LogErrors

WORKLOADS_SHOWN = 5
SAMPLE_SHOWN = 200
NOT_SHARED = "_counts only: sample lines are left out unless kubernetes.share_logs_"


def sample(text: str) -> str:
    """A log line quoted as code: backticks replaced, mentions and links escaped, clipped."""
    return "    `" + escape(clip(" ".join(text.replace("`", "'").split()), SAMPLE_SHOWN)) + "`"


def _head(where: str, report: LogErrors, read: str) -> str:
    total = sum(w.lines for w in report.workloads)
    if not total:
        return f"*{escape(where)}*: no error lines ({read})"
    return f"*{escape(where)}*: {total} error lines in {len(report.workloads)} workloads ({read})"


def lines(where: str, report: LogErrors, share_logs: bool, *, loki: bool = False) -> list[str]:
    """``where``: the cluster's name, or Loki; ``loki``: counted there (no pods read)."""
    read = "counted in Loki" if loki else f"{report.pods_read} pods' logs of the last 24 h read"
    out = [_head(where, report, read)]
    for w in report.workloads[:WORKLOADS_SHOWN]:
        cut = " (log cut at digest.log_errors.max_bytes)" if w.truncated else ""
        what = f"{w.pods} pods" if not loki else f"{w.pods} series"
        out.append(f"• `{escape(w.namespace)}/{escape(w.name)}`: {w.lines} lines in {what}{cut}")
        if share_logs and w.sample:
            out.append(sample(w.sample))
    if len(report.workloads) > WORKLOADS_SHOWN:
        out.append(f"• and {len(report.workloads) - WORKLOADS_SHOWN} more workloads")
    if report.workloads and not share_logs:
        out.append(NOT_SHARED)
    if report.left_out:
        out.append(f"_{report.left_out} pods past digest.log_errors.max_pods not read_")
    if report.unread:
        out.append(f"_{report.unread} container logs could not be read_")
    out += [f"⚠️ {escape(n)}" for n in report.notes]
    return out


def failed(what: str) -> list[str]:
    """A source that did not answer, named: the rest of the digest is posted."""
    return [f"⚠️ {escape(what)}: error lines not counted"]
