"""Incident collaboration: incident channels, status updates and reminders, post-mortem drafts."""
