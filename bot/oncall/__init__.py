"""On-call: the weekly rotation, overrides, escalation of unacknowledged incidents, the hand-off."""
