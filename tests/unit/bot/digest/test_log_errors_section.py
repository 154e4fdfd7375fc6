"""The digest's "Errors in logs", its pure parts: Loki's series per workload, the lines (no log text unless
share_logs), the config (RE2 only, no credentials in loki.url), LOKI_AUTH, and what the section loads at import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.capacity.log_errors import model, render
from bot.core.settings.capacity import LogErrors, LokiConfig
from bot.core.settings.environment import Environment
from runbooks.checklist.capacity import LogErrors as Report
from runbooks.checklist.capacity import WorkloadErrors

SERIES = [
    ({"namespace": "shop", "pod": "checkout-5d8f7b9c4-x2x9z"}, 3.0),
    ({"namespace": "shop", "pod": "checkout-5d8f7b9c4-k7p4q"}, 2.0),
    ({"namespace": "web", "pod": "front-6c9d8b7f5-wq2hz"}, 7.0),
    ({"namespace": "web", "pod": "admin-6c9d8b7f5-wq2hz"}, 9.0),
    ({"namespace": "other", "pod": "x-0"}, 1.0),
    ({"namespace": "shop", "pod": "idle-0"}, 0.0),
]


def test_loki_series_become_workloads_of_the_listed_namespaces_and_workloads() -> None:
    report = model.from_series(SERIES, ["shop"], ["web/front"], "pod")
    assert [(w.namespace, w.name, w.lines, w.pods) for w in report.workloads] == [
        ("web", "front", 7, 1), ("shop", "checkout", 5, 2),
    ]  # fmt: skip
    assert report.pods_read == 4  # the idle pod's series is read, with nothing to show
    model.with_samples(
        report, [({"namespace": "shop", "pod": "checkout-5d8f7b9c4-k7p4q"}, "panic: x" * 100)], "pod", 50
    )
    assert report.workloads[1].sample == ("panic: x" * 100)[:50] and report.workloads[0].sample is None


def report() -> Report:
    return Report(workloads=[WorkloadErrors("shop", "checkout", 4, 2, "ERROR <!channel> `token` *bold*")], pods_read=3)


def test_without_share_logs_no_log_text_is_in_the_lines() -> None:
    lines = render.lines("emu", report(), share_logs=False)
    assert lines[0] == "*emu*: 4 error lines in 1 workloads (3 pods' logs of the last 24 h read)"
    assert "token" not in "\n".join(lines) and render.NOT_SHARED in lines


def test_with_share_logs_the_sample_is_quoted_and_cannot_mention_anyone() -> None:
    lines = render.lines("Loki", report(), share_logs=True, loki=True)
    assert lines[0].endswith("(counted in Loki)") and "in 2 series" in lines[1]
    assert lines[2] == "    `ERROR &lt;!channel&gt; 'token' *bold*`"


def test_many_workloads_are_cut_and_no_errors_is_said() -> None:
    many = Report(workloads=[WorkloadErrors("ns", f"w{i}", 10 - i, 1) for i in range(8)], left_out=4, unread=2)
    lines = render.lines("emu", many, share_logs=False)
    assert "• and 3 more workloads" in lines and "_4 pods past digest.log_errors.max_pods not read_" in lines
    assert "_2 container logs could not be read_" in lines
    assert render.lines("emu", Report(pods_read=5), share_logs=False) == [
        "*emu*: no error lines (5 pods' logs of the last 24 h read)"
    ]
    assert render.failed("Loki is unreachable (x)") == ["⚠️ Loki is unreachable (x): error lines not counted"]


@pytest.mark.parametrize("pattern", ["(a)\\1", "ERROR(?=:)", "(?<!x)panic", "(unclosed"])
def test_a_pattern_re2_cannot_compile_is_refused_with_why(pattern: str) -> None:
    with pytest.raises(ValidationError, match="does not compile as RE2"):
        LogErrors(namespaces=["shop"], pattern=pattern)


def test_log_errors_names_are_validated() -> None:
    assert LogErrors().pattern == "ERROR|FATAL|panic" and not LogErrors().enabled
    for bad in ({"workloads": ["checkout"]}, {"workloads": ["shop/Bad_Name"]}, {"namespaces": ["Shop!"]}):
        with pytest.raises(ValidationError):
            LogErrors(**bad)


def test_loki_config_refuses_credentials_a_bad_label_and_a_bad_tenant() -> None:
    with pytest.raises(ValidationError, match="set LOKI_AUTH instead"):
        LokiConfig(url="http://user:hunter2@loki:3100")
    for bad in ({"label": "namespace"}, {"label": "pod name"}, {"org_id": "acme corp"}, {"org_id": "a\nb"}):
        with pytest.raises(ValidationError):
            LokiConfig(url="http://loki:3100", **bad)
    assert LokiConfig(url="http://loki:3100", org_id="tenant-a|tenant-b", label="app").label == "app"


def test_loki_auth_is_a_header_and_a_secret_to_redact() -> None:
    env = Environment(loki_auth="Basic reader:hunter2")  # type: ignore[arg-type]
    assert env.loki_authorization() == "Basic cmVhZGVyOmh1bnRlcjI="
    assert "cmVhZGVyOmh1bnRlcjI=" in env.secrets() and "Basic reader:hunter2" in env.secrets()
    with pytest.raises(ValidationError, match="Bearer <token>"):
        Environment(loki_auth="hunter2")  # type: ignore[arg-type]


def test_the_section_loads_no_slack_store_or_http_client_until_loki_is_asked() -> None:
    probe = ("import json, sys\nimport bot.capacity.log_errors.section\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")  # fmt: skip
    root = Path(__file__).resolve().parents[4]
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out))
    assert not loaded & {"slack_sdk", "slack_bolt", "redis", "aiohttp", "httpx", "boto3", "uvicorn", "starlette"}
