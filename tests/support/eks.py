"""The EKS calls moto lacks: the demo platform's stand-in (``demo.eks``)."""

from demo.eks import AddonState, EksStandIn, Update

__all__ = ["AddonState", "EksStandIn", "Update"]
