"""Real components for tests and benchmarks: Redis, a Slack Web API recorder, the bot process."""
