"""AWS through boto3: one Session per process, each service's client created once and shared (clients are
thread-safe), standard retries and timeouts. Credentials only from boto3's default chain (environment, shared
config, the pod's IRSA web identity); ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``) honoured.

Every call is made from a worker thread by the caller: boto3 is synchronous.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_ce.client import CostExplorerClient
    from mypy_boto3_eks.client import EKSClient
    from mypy_boto3_rds.client import RDSClient

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 20


class AwsSession:
    def __init__(self, region: str) -> None:
        self.region = region
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        """The shared client of ``service`` (in ``region``, default the configured one)."""
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                import boto3  # noqa: PLC0415 - only a process that talks to AWS pays for boto3
                from botocore.config import Config  # noqa: PLC0415

                if self._session is None:
                    self._session = boto3.session.Session(region_name=self.region)
                config = Config(
                    retries={"mode": "standard", "max_attempts": 3},
                    connect_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                )
                self._clients[key] = self._session.client(service, region_name=key[1], config=config)
            return self._clients[key]

    def rds(self) -> RDSClient:
        client: RDSClient = self.client("rds")
        return client

    def eks(self, region: str | None = None) -> EKSClient:
        client: EKSClient = self.client("eks", region)
        return client

    def cost_explorer(self) -> CostExplorerClient:
        client: CostExplorerClient = self.client("ce", "us-east-1")  # Cost Explorer answers in us-east-1 only
        return client
