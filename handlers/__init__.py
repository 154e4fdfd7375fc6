"""Slack listeners: parse, check permission, ack within 3 s, call the domain, render."""
