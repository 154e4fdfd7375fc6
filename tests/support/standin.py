"""The tests' stand-ins for third-party HTTP APIs are the demo platform's (``demo.standin``)."""

from demo.standin import Fault, Reply, Request, StandIn, forward

__all__ = ["Fault", "Reply", "Request", "StandIn", "forward"]
