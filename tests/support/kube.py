"""kmock's emulator on loopback: the demo platform's (``demo.kube``)."""

from demo.kube import KubeEmulator, plain

__all__ = ["KubeEmulator", "plain"]
