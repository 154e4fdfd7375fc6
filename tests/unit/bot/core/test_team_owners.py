"""Grouping by team (pure): the teams in the config's order, the default team (with what nobody owns) last."""

from __future__ import annotations

import yaml

from bot.core.settings.config import BotConfig
from bot.core.settings.teams import Owns, Team, owners


def test_without_teams_nothing_is_grouped() -> None:
    assert owners({}, None) is None


def test_items_group_by_team_in_config_order_with_the_default_team_last() -> None:
    teams = {"platform": Team(owns=Owns(namespaces=["kube-system"])), "data": Team(owns=Owns(namespaces=["kafka"]))}
    found = owners(teams, "platform")
    assert found is not None
    items = [("a", None), ("b", "data"), ("c", "platform"), ("d", "gone"), ("e", "data")]
    grouped = found.group(items, lambda item: item[1])
    assert [(team, [name for name, _ in group]) for team, group in grouped] == [
        ("data", ["b", "e"]),
        ("platform", ["a", "c", "d"]),  # None and a team no longer configured: the default team's
    ]
    assert found.of_namespace("kafka") == "data" and found.of_namespace("shop") == "platform"
    assert found.of_namespace(None) == "platform"
    only_data = owners({"data": Team(), "platform": Team()}, None)
    assert only_data is not None and only_data.default == "data"  # default_team unset: the first team
    assert [t for t, _ in only_data.group(["x"], lambda _: "platform")] == ["platform"]  # empty teams left out


def test_owners_from_the_config_as_the_builders_read_it() -> None:
    """``owners(config.teams, config.default_team)``, as the digest, the weekly report and ``/changes`` call it."""
    text = """
channels: {incidents: C0INC}
default_team: data
teams:
  platform: {owns: {namespaces: [kube-system, ingress]}, schedules: [{rotation: [U0ALICE]}]}
  data: {owns: {namespaces: [kafka]}, schedules: [{rotation: [U0FAY]}]}
"""
    config = BotConfig.model_validate(yaml.safe_load(text))
    found = owners(config.teams, config.default_team)
    assert found is not None and found.default == config.home_team == "data"
    assert found.order == ("platform", "data") and found.of_namespace("ingress") == "platform"
    first = BotConfig.model_validate(yaml.safe_load(text.replace("default_team: data\n", "")))
    assert owners(first.teams, first.default_team).default == first.home_team == "platform"  # type: ignore[union-attr]
    alone = BotConfig.model_validate({"channels": {"incidents": "C0INC"}, "oncall": {"rotation": ["U0ALICE"]}})
    assert owners(alone.teams, alone.default_team) is None  # the oncall section: one implicit team, no grouping
