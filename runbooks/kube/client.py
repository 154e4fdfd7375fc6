"""Reading a cluster with the official ``kubernetes`` client, lean: raw JSON pages, never the typed models.

Every list is paginated (``limit`` / ``continue``), so a 10,000-pod cluster is read a page at a time.
The typed models cost ~6x the time and ~2x the memory of raw JSON on large lists (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kubernetes import client, config

from runbooks.kube.objects import Obj

PAGE_SIZE = 500
REQUEST_TIMEOUT = 10.0


class Cluster:
    """One cluster, as named in ``kubernetes.clusters`` (or the current/in-cluster context)."""

    def __init__(self, name: str, api: client.ApiClient) -> None:
        self.name = name
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.autoscaling = client.AutoscalingV2Api(api)
        self.custom = client.CustomObjectsApi(api)
        self._requests = 0
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, name: str, context: str | None = None) -> Cluster:
        """In-cluster config when running in a pod (and no context is named), else KUBECONFIG's context."""
        if context is None:
            try:
                configuration = client.Configuration()
                config.load_incluster_config(client_configuration=configuration)
                return cls(name, client.ApiClient(configuration))
            except config.ConfigException:
                pass
        return cls(name, config.new_client_from_config(context=context))

    @property
    def requests(self) -> int:
        return self._requests

    def _count(self) -> None:
        with self._lock:
            self._requests += 1

    def version(self, timeout: float = REQUEST_TIMEOUT) -> str:
        self._count()
        info = client.VersionApi(self.api).get_code(_request_timeout=timeout)
        return str(info.git_version)

    def read(self, fetch: Callable[..., Any], *args: Any, timeout: float = REQUEST_TIMEOUT, **kwargs: Any) -> Obj:
        """One object (or any JSON answer) as a plain dict."""
        self._count()
        resp: Any = fetch(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
        data: Obj = json.loads(resp.data)
        return data

    def text(self, fetch: Callable[..., Any], *args: Any, timeout: float = REQUEST_TIMEOUT, **kwargs: Any) -> str:
        """A plain-text answer (pod logs), decoded here whatever content type the server declares."""
        self._count()
        resp: Any = fetch(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
        return bytes(resp.data).decode("utf-8", errors="replace")

    def call(self, fetch: Callable[..., Any], *args: Any, timeout: float = REQUEST_TIMEOUT, **kwargs: Any) -> Any:
        """A call whose answer is not needed as JSON (patches, logs): counted and time-limited."""
        self._count()
        return fetch(*args, _request_timeout=timeout, **kwargs)

    def list_all(self, fetch: Callable[..., Any], timeout: float = REQUEST_TIMEOUT, **kwargs: Any) -> Iterator[Obj]:
        """Yield every item of a list call, page by page, as plain dicts."""
        token: str | None = None
        while True:
            self._count()
            if token:
                kwargs["_continue"] = token
            resp = fetch(limit=PAGE_SIZE, _preload_content=False, _request_timeout=timeout, **kwargs)
            data = json.loads(resp.data)
            yield from data.get("items") or []
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                return

    def nodes(self) -> Iterator[Obj]:
        return self.list_all(self.core.list_node)

    def pods(self) -> Iterator[Obj]:
        return self.list_all(self.core.list_pod_for_all_namespaces)

    def pvcs(self) -> Iterator[Obj]:
        return self.list_all(self.core.list_persistent_volume_claim_for_all_namespaces)

    def warning_events(self) -> Iterator[Obj]:
        return self.list_all(self.core.list_event_for_all_namespaces, field_selector="type=Warning")

    def hpas(self) -> Iterator[Obj]:
        return self.list_all(self.autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces)

    def certificates(self) -> Iterator[Obj]:
        return self.list_all(
            self.custom.list_cluster_custom_object, group="cert-manager.io", version="v1", plural="certificates"
        )


class ClusterSet:
    """The clusters the bot may use, by name (``kubernetes.clusters``: name and kubeconfig context).

    The first one listed is the default; with none listed, the bot uses the cluster it runs in
    (or KUBECONFIG's current context), named "default".
    """

    def __init__(self, listed: Sequence[tuple[str, str | None]]) -> None:
        self.listed = list(listed)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.listed]

    @property
    def several(self) -> bool:
        return len(self.listed) > 1

    @property
    def default(self) -> str | None:
        return self.listed[0][0] if self.listed else None

    def connect(self, name: str | None = None) -> Cluster:
        """The named cluster (KeyError when it is not listed), or the default one."""
        if not self.listed and name is None:
            return Cluster.connect("default")
        context = dict(self.listed)
        chosen = name if name is not None else self.listed[0][0]
        if chosen not in context:
            raise KeyError(chosen)
        return Cluster.connect(chosen, context[chosen])

    def connect_all(self) -> list[Cluster]:
        if not self.listed:
            return [Cluster.connect("default")]
        return [Cluster.connect(name, ctx) for name, ctx in self.listed]
