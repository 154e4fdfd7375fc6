"""chatops-bot: incident response, escalation and runbooks in Slack."""

__version__ = "0.1.0"
