from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import SettingsError, load_config_file
from tests.support.bot_process import REPO, run_cli


def test_example_config_is_valid() -> None:
    config = load_config_file(REPO / "chatops.example.yaml")
    assert config.channels.incidents == "C0INCIDENTS"
    assert str(config.severities["P1"].ack_within) == "0:15:00"  # type: ignore[index]


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "channels: {incidents: general}\n"
        "severities: {P7: {ack_within: 5m}, P1: {ack_within: soon}}\n"
        "oncall: {timezone: Mars/Olympus, handoff: 'someday', rotation: [alice]}\n"
        "permissions: {operators: [root]}\n"
        "digest: {cron: 'every morning'}\n"
        "escalaton: {}\n"
    )
    with pytest.raises(SettingsError) as err:
        load_config_file(path)
    text = "\n".join(err.value.problems)
    for expected in (
        "channels.incidents: 'general' is not a Slack channel id",
        "severities.P7",
        "'soon' is not a duration",
        "'Mars/Olympus' is not an IANA time zone",
        "'someday' is not a weekly hand-off time",
        "'alice' is not a Slack user id",
        "'root' is not a Slack user id (U…) or user group id (S…)",
        "is not a 5-field cron expression",
        "escalaton: unknown setting",
    ):
        assert expected in text, (expected, text)


def test_partial_severities_keep_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("channels: {incidents: C0INC}\nseverities: {P1: {ack_within: 90s}}\n")
    config = load_config_file(path)
    assert config.severities["P1"].ack_within.total_seconds() == 90  # type: ignore[index,union-attr]
    assert config.severities["P4"].ack_within == "next_business_day"  # type: ignore[index]


def test_serve_with_missing_settings_exits_2_without_traceback(tmp_path: Path) -> None:
    result = run_cli(
        "serve", env={"CHATOPS_CONFIG": str(tmp_path / "missing.yaml"), "SLACK_BOT_TOKEN": "not-a-token"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-" in result.stderr
    assert "missing.yaml not found" in result.stderr


def test_check_config_reports_ok_and_problems(tmp_path: Path) -> None:
    ok = run_cli("check-config", "--file-only", env={"CHATOPS_CONFIG": str(REPO / "chatops.example.yaml")})
    assert ok.returncode == 0 and "OK" in ok.stdout and "next business day" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels: [\n")
    result = run_cli("check-config", env={"CHATOPS_CONFIG": str(bad)}, cwd=tmp_path)
    assert result.returncode == 2 and "not valid YAML (line 2" in result.stderr
    assert "SLACK_SIGNING_SECRET: is required" in result.stderr and "Traceback" not in result.stderr
    empty = run_cli("check-config", env={"CHATOPS_CONFIG": str(bad), "SLACK_SIGNING_SECRET": "  "}, cwd=tmp_path)
    assert empty.returncode == 2 and "SLACK_SIGNING_SECRET: is required" in empty.stderr


def test_help_for_each_subcommand() -> None:
    for args in (["--help"], ["serve", "--help"], ["check-config", "--help"]):
        result = run_cli(*args)
        assert result.returncode == 0 and "usage: chatops-bot" in result.stdout


def test_prometheus_settings_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "channels: {incidents: C0INC}\nprometheus: {url: 'not a url', error_target: 2, queries: {cpu: 'x'}}\n"
    )
    with pytest.raises(SettingsError) as err:
        load_config_file(path)
    text = "\n".join(err.value.problems)
    assert "'not a url' is not an http(s) URL" in text and "error_target" in text and "unknown metric(s) cpu" in text


def test_everyone_paged_must_be_able_to_acknowledge(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "channels: {incidents: C0INC}\n"
        "oncall: {rotation: [U0ALICE, U0BOB], lead: U0LEAD}\n"
        "permissions: {responders: [U0ALICE]}\n"
    )
    with pytest.raises(SettingsError) as err:
        load_config_file(path)
    assert "oncall names U0BOB, U0LEAD, not in permissions.responders" in "\n".join(err.value.problems)
    # A user group may hold them: only Slack knows, so that is not refused.
    path.write_text(path.read_text().replace("responders: [U0ALICE]", "responders: [U0ALICE, S0ONCALL]"))
    assert load_config_file(path).oncall.lead == "U0LEAD"
