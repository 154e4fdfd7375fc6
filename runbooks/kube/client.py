"""Reading and changing a cluster with the official ``kubernetes`` client, lean: raw JSON over the client's
transport (``ApiClient.call_api`` with the kubeconfig's or the pod's credentials), never the typed models.

Every list is paginated (``limit`` / ``continue``), so a 10,000-pod cluster is read a page at a time, and each
page can be reduced to findings before the next is read. Resources are named by their API paths (``/api/v1/…``,
``/apis/<group>/<version>/…``), which also serves custom resources (cert-manager, Velero) without generated code.

The large lists the checks read (pods, nodes, events) are decoded by msgspec straight into the typed shapes of
``runbooks.kube.shapes``, which hold only the fields the checks read (``list_typed``): decoding every field of every
object into dicts was half of what a large cluster's digest spent.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import msgspec

from runbooks.errors import BadRequest, NotConfigured
from runbooks.kube import lean, names
from runbooks.kube.objects import Obj
from runbooks.kube.shapes import Page, Shape

if TYPE_CHECKING:
    from runbooks.kube.lean import ApiClient

PAGE_SIZE = 500
REQUEST_TIMEOUT = 10.0
MERGE_PATCH = "application/merge-patch+json"
# The API server's metadata-only lists: no spec, no data (a Secret's values never leave the server).
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json"

log = logging.getLogger(__name__)

S = TypeVar("S", bound=Shape)
_decoders: dict[type[Shape], Any] = {}


def _page_decoder(kind: type[Shape]) -> Any:
    """The JSON decoder of a page of ``kind`` (one per kind; decoders are thread-safe)."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(Page[kind])  # type: ignore[valid-type]
    return decoder


def path(base: str, namespace: str | None, plural: str, name: str | None = None, sub: str | None = None) -> str:
    """``/apis/apps/v1`` + namespace + ``deployments`` + name (+ subresource), each segment quoted."""
    parts = [base.rstrip("/")]
    if namespace is not None:
        parts += ["namespaces", quote(namespace, safe="")]
    parts.append(plural)
    if name is not None:
        parts.append(quote(name, safe=""))
    if sub is not None:
        parts.append(sub)
    return "/".join(parts)


class Cluster:
    """One cluster, as named in ``kubernetes.clusters`` (or the current/in-cluster context)."""

    def __init__(self, name: str, api: ApiClient) -> None:
        self.name = name
        self.api = api
        self._requests = 0
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, name: str, context: str | None = None) -> Cluster:
        """In-cluster config when running in a pod (and no context is named), else KUBECONFIG's context
        (KUBECONFIG read now, not when the client library was imported).

        May run a kubeconfig exec plugin (``aws eks get-token``): call it from a worker thread.
        """
        kubeconfig = os.environ.get("KUBECONFIG") or "~/.kube/config"
        in_pod = context is None and {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"} <= os.environ.keys()
        if not in_pod and not any(os.path.isfile(f) for f in _files(kubeconfig)):
            # Neither loader could succeed: said without loading them (the client's transport and loaders, 0.15 s
            # of a process that has no cluster to read)
            missing = FileNotFoundError(f"no kubeconfig at {kubeconfig} and not in a pod (no KUBERNETES_SERVICE_HOST)")
            raise NoClusterConfig.of(missing, name, context, kubeconfig)
        if context is None:
            try:
                configuration = lean.Configuration()  # the client loads here, on the first cluster read
                lean.config.load_incluster_config(client_configuration=configuration)
                return cls(name, lean.ApiClient(configuration))
            except lean.ConfigException:
                pass
        try:
            return cls(name, lean.config.new_client_from_config(config_file=kubeconfig, context=context))
        except Exception as exc:  # whatever the loader raises: its ConfigException, YAML or file errors
            raise NoClusterConfig.of(exc, name, context, kubeconfig) from exc

    @property
    def requests(self) -> int:
        return self._requests

    def as_user(self, user: str, groups: Sequence[str] = ()) -> Cluster:
        """This cluster, every request made as ``user`` (in ``groups``) through Kubernetes impersonation: the
        ``Impersonate-User`` and one ``Impersonate-Group`` header per group on each call of the returned client,
        so the cluster's RBAC decides and its audit log names the person. The connection and its credentials are
        this cluster's; this cluster's own calls never carry the headers."""
        headers = [("Impersonate-User", user), *(("Impersonate-Group", g) for g in groups)]
        for name, value in headers:
            if not value or not value.isascii() or not value.isprintable():  # what an HTTP header carries as is
                raise BadRequest(f"not a Kubernetes identity for {name}: {value!r}")
        return Cluster(self.name, _impersonating(self.api, headers))

    def call(
        self,
        resource: str,
        method: str = "GET",
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
        timeout: float = REQUEST_TIMEOUT,
    ) -> Any:
        """One request; the raw response (``.data`` holds the body). Raises ApiException for a non-2xx answer."""
        with self._lock:
            self._requests += 1
        headers = {"Accept": accept, **({"Content-Type": content_type} if content_type else {})}
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        return self.api.call_api(
            resource,
            method,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=timeout,
        )

    def get(
        self, resource: str, *, timeout: float = REQUEST_TIMEOUT, accept: str = "application/json", **query: Any
    ) -> Obj:
        """One object (or any JSON answer) as a plain dict."""
        data: Obj = json.loads(self.call(resource, query=query, timeout=timeout, accept=accept).data)
        return data

    def text(self, resource: str, *, timeout: float = REQUEST_TIMEOUT, **query: Any) -> str:
        """A plain-text answer (pod logs), decoded here whatever content type the server declares."""
        return bytes(self.call(resource, query=query, accept="*/*", timeout=timeout).data).decode("utf-8", "replace")

    def merge_patch(self, resource: str, body: dict[str, Any], *, timeout: float = REQUEST_TIMEOUT) -> None:
        self.call(resource, "PATCH", body=body, content_type=MERGE_PATCH, timeout=timeout)

    def create(self, resource: str, body: dict[str, Any], *, timeout: float = REQUEST_TIMEOUT) -> Obj:
        """POST a new object to a collection; the object as the API server stored it."""
        created: Obj = json.loads(
            self.call(resource, "POST", body=body, content_type="application/json", timeout=timeout).data
        )
        return created

    def list_all(
        self, resource: str, *, timeout: float = REQUEST_TIMEOUT, metadata_only: bool = False, **query: Any
    ) -> Iterator[Obj]:
        """Yield every item of a list, page by page, as plain dicts (only one page is held at a time).
        ``metadata_only``: the items' metadata alone (``PartialObjectMetadataList``; a server that cannot answer so
        sends whole objects, which the caller reads the metadata of all the same)."""
        token: str | None = None
        accept = METADATA_ONLY if metadata_only else "application/json"
        while True:
            more = {"continue": token} if token else {}
            page = self.get(resource, timeout=timeout, accept=accept, limit=PAGE_SIZE, **query, **more)
            yield from page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def list_typed(
        self, resource: str, kind: type[S], *, timeout: float = REQUEST_TIMEOUT, **query: Any
    ) -> Iterator[S]:
        """Yield every item of a list as ``kind`` (``runbooks.kube.shapes``), page by page: each page's body is
        decoded straight into the shape, every field it does not name skipped, and only one page is held at a
        time. A body that is not such a list raises ``ValueError`` (``msgspec.DecodeError``)."""
        decoder = _page_decoder(kind)
        token: str | None = None
        while True:
            more = {"continue": token} if token else {}
            body = self.call(resource, query={"limit": PAGE_SIZE, **query, **more}, timeout=timeout).data
            page: Page[S] = decoder.decode(body)
            del body
            items, token = page.items or [], page.metadata.next if page.metadata is not None else None
            del page
            yield from items
            del items  # the next page is read with this one already let go
            if not token:
                return

    def version(self, timeout: float = REQUEST_TIMEOUT) -> str | None:
        """The API server's ``gitVersion``, or None when its answer does not say."""
        info = self.get("/version/", timeout=timeout)
        version = info.get("gitVersion") if isinstance(info, dict) else None
        return str(version) if version else None

    # The lists of the Morning Checklist ------------------------------------------------------------------
    def nodes(self) -> Iterator[Obj]:
        return self.list_all("/api/v1/nodes")

    def pods(self, namespace: str | None = None, selector: str | None = None) -> Iterator[Obj]:
        return self.list_all(path("/api/v1", namespace, "pods"), labelSelector=selector)

    def pods_as(self, kind: type[S], namespace: str | None = None, selector: str | None = None) -> Iterator[S]:
        """The pods as ``kind`` (``shapes.Pod`` for their health, ``shapes.SecuredPod`` for the audit)."""
        return self.list_typed(path("/api/v1", namespace, "pods"), kind, labelSelector=selector)

    def nodes_as(self, kind: type[S]) -> Iterator[S]:
        return self.list_typed("/api/v1/nodes", kind)

    def warning_events_as(self, kind: type[S]) -> Iterator[S]:
        return self.list_typed("/api/v1/events", kind, fieldSelector="type=Warning")

    def pvcs(self) -> Iterator[Obj]:
        return self.list_all("/api/v1/persistentvolumeclaims")

    def warning_events(self) -> Iterator[Obj]:
        return self.list_all("/api/v1/events", fieldSelector="type=Warning")

    def hpas(self, namespace: str | None = None) -> Iterator[Obj]:
        return self.list_all(path("/apis/autoscaling/v2", namespace, "horizontalpodautoscalers"))

    def certificates(self, namespace: str | None = None) -> Iterator[Obj]:
        return self.list_all(path("/apis/cert-manager.io/v1", namespace, "certificates"))

    # The lists of the Security Audit ----------------------------------------------------------------------
    def services(self) -> Iterator[Obj]:
        return self.list_all("/api/v1/services")

    def default_service_accounts(self) -> Iterator[Obj]:
        """Every namespace's ``default`` ServiceAccount (the selector narrows the list where the server applies it)."""
        return self.list_all("/api/v1/serviceaccounts", fieldSelector="metadata.name=default")

    def role_bindings(self) -> Iterator[Obj]:
        return self.list_all("/apis/rbac.authorization.k8s.io/v1/rolebindings")

    def cluster_role_bindings(self) -> Iterator[Obj]:
        return self.list_all("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")


def _impersonating(api: ApiClient, headers: Sequence[tuple[str, str]]) -> ApiClient:
    """A shallow copy of ``api`` (the same configuration, token refresh and connection pool) whose every request
    carries ``headers`` too. ``ApiClient.__call_api`` sends through ``self.request``, found on the instance first;
    the headers go in a urllib3 map that sends a repeated name once per value (each group a header of its own).
    Nothing here is mutated once built: the original and its copies serve any number of threads at once."""
    copied = copy.copy(api)
    send, extra = api.request, tuple(headers)

    def request(method: str, url: str, *args: Any, headers: Any = None, **kwargs: Any) -> Any:
        from urllib3 import HTTPHeaderDict  # noqa: PLC0415 - loaded with the client, not before

        merged = HTTPHeaderDict(headers or {})
        for name, value in extra:
            merged.add(name, value)
        return send(method, url, *args, headers=merged, **kwargs)

    copied.request = request
    return copied


def _files(kubeconfig: str) -> list[str]:
    """The files a ``KUBECONFIG`` value names (a list, as the loaders read it)."""
    return [os.path.expanduser(f) for f in kubeconfig.split(os.pathsep) if f]


class NoClusterConfig(NotConfigured):
    """The cluster cannot be reached for want of configuration: no in-cluster service account and no kubeconfig,
    or a kubeconfig without the context ``kubernetes.clusters`` names. Raised where a cluster's client is built, so
    every command that needs a cluster says the same; the loader's own words (file paths, lines) go to the log."""

    @classmethod
    def of(cls, exc: BaseException, name: str, context: str | None, kubeconfig: str) -> NoClusterConfig:
        log.warning("kubernetes configuration for cluster %s not usable: %s: %s", name, type(exc).__name__, exc)
        if not any(os.path.isfile(f) for f in _files(kubeconfig)):
            return cls(
                "No Kubernetes configuration: the bot does not run in a cluster (no service account) and finds no "
                "kubeconfig. Set `KUBECONFIG` to a kubeconfig file (default ~/.kube/config), or run the bot in a pod "
                "with a service account."
            )
        if context is not None and f"name {context} in" in str(exc):
            return cls(
                f"The kubeconfig (`KUBECONFIG`) has no context `{names.shown(context)}`, which cluster "
                f"`{names.shown(name)}` of kubernetes.clusters names. Add the context, or correct the cluster's "
                "`context` in the config."
            )
        if context is None and "current-context" in str(exc):
            return cls(
                "The kubeconfig (`KUBECONFIG`) has no current context: set one (`kubectl config use-context`), or "
                "list the cluster with its context in kubernetes.clusters."
            )
        return cls(
            f"The kubeconfig (`KUBECONFIG`) cannot be used for cluster `{names.shown(name)}` (the bot's log has "
            "the details)."
        )


class UnknownCluster(BadRequest):
    """A cluster named that ``kubernetes.clusters`` does not list (any more)."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        super().__init__(f"No cluster named `{names.shown(name or '')}` in kubernetes.clusters.")


class ClusterSet:
    """The clusters the bot may use, by name (``kubernetes.clusters``: name and kubeconfig context).

    The first one listed is the default; with none listed, the bot uses the cluster it runs in
    (or KUBECONFIG's current context), named ``UNLISTED``. A cluster is connected once (its kubeconfig read, an
    exec plugin run) and its client kept; the client refreshes an expiring exec token by itself.
    """

    UNLISTED = "default"

    def __init__(self, listed: Sequence[tuple[str, str | None]]) -> None:
        self.listed = list(listed)
        self._connected: dict[str, Cluster] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.listed]

    @property
    def several(self) -> bool:
        return len(self.listed) > 1

    @property
    def default(self) -> str | None:
        return self.listed[0][0] if self.listed else None

    def shown(self, name: str | None) -> str:
        """How a cluster is named to people: its name, else the default's, else ``UNLISTED``."""
        return name or self.default or self.UNLISTED

    def connect(self, name: str | None = None) -> Cluster:
        """The named cluster (UnknownCluster when it is not listed), or the default one."""
        if not self.listed and name is None:
            return self._once(self.UNLISTED, None)
        context = dict(self.listed)
        chosen = name if name is not None else self.listed[0][0]
        if chosen not in context:
            raise UnknownCluster(chosen)
        return self._once(chosen, context[chosen])

    def connect_all(self) -> list[Cluster]:
        if not self.listed:
            return [self._once(self.UNLISTED, None)]
        return [self._once(name, ctx) for name, ctx in self.listed]

    def _once(self, name: str, context: str | None) -> Cluster:
        with self._lock:
            cluster = self._connected.get(name)
            if cluster is None:
                cluster = self._connected[name] = Cluster.connect(name, context)
            return cluster
