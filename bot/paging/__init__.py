"""Paging that wakes people: SMS and calls through Twilio (SNS as SMS fallback), and their webhooks."""
