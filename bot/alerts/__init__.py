"""Alerts that open incidents (Alertmanager and Grafana webhooks), what is firing now, and the public status page."""
