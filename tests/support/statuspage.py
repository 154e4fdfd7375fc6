"""Statuspage and Alertmanager stand-ins: the demo platform's (``demo.statuspage``)."""

from demo.statuspage import (
    ALERTMANAGER_PASSWORD,
    ALERTMANAGER_TOKEN,
    ALERTMANAGER_USER,
    AlertmanagerStandIn,
    Call,
    StatuspageStandIn,
)

__all__ = [
    "ALERTMANAGER_PASSWORD",
    "ALERTMANAGER_TOKEN",
    "ALERTMANAGER_USER",
    "AlertmanagerStandIn",
    "Call",
    "StatuspageStandIn",
]
