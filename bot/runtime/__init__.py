"""The composition root: the Bolt app, the HTTP/Socket Mode server, the CLI, the services and the one poller."""
