"""Tickets: each incident\x27s ticket in an issue tracker (Jira, GitHub Issues or Linear), kept in sync."""
