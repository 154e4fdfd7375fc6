"""The offers after an EKS upgrade: several node groups share a block, and Slack takes it (action_ids unique)."""

from __future__ import annotations

import re

from bot.operations.render import next_offers_blocks
from bot.shell import blockkit
from handlers.runbooks import OFFER_ACTIONS
from runbooks.changes.eks import EksUpgrade, NodeGroupUpgrade


def test_seven_node_groups_are_offered_in_blocks_slack_takes_and_every_button_is_answered() -> None:
    base = {"eks_name": "prod", "region": "eu-west-1", "version": "1.31", "token": "t"}
    done = EksUpgrade(**base)
    offers = [(NodeGroupUpgrade(**base, group=f"ng-{i}"), f"offer{i}") for i in range(7)]
    blocks = [b.to_dict() for b in next_offers_blocks(done, offers)]
    blockkit.check_message("next", blocks)  # raises what Slack would answer: invalid_blocks for a repeated action_id
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == 7 and all(isinstance(OFFER_ACTIONS, re.Pattern) and OFFER_ACTIONS.match(i) for i in ids)
