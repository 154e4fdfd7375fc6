"""chatops-bot shell: the real bot with Slack played in the terminal."""
