"""The demo platform for ``chatops-bot shell --demo``: a small Kubernetes cluster, AWS account, Alertmanager and
status page on loopback, seeded with the operations guide's own situations, in its own process (``python -m demo``).
Nothing in the bot imports it (an import contract keeps it so): the shell starts it and points the bot at it, as
the environment and the config file would point it at a real platform. Installed with the ``[demo]`` extra."""
