"""The bot's foundation: settings, Redis and its keys, Slack, Block Kit helpers, errors, permissions,
telemetry, logs, background tasks and durations. Imports nothing from the domains above it."""
