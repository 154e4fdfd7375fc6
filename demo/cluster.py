"""The demo cluster's API: kmock's emulator, plus what a cluster's controllers would do after a write, so a click
in the shell really changes the platform. A Deployment whose pod template changed rolls out (a new ReplicaSet
revision, new pods, the status caught up), a Velero Restore completes with its items, and a certificate whose
renewal was triggered is issued again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import kmock

from demo import seed
from demo.kube import Emulator, plain
from demo.objects import Obj, iso

DEPLOYMENTS = "apps/v1/deployments"
REPLICASETS = "apps/v1/replicasets"
PODS = "v1/pods"
RESTORES = "velero.io/v1/restores"
CERTIFICATES = "cert-manager.io/v1/certificates"


class DemoCluster(Emulator):
    def load(self, objects: dict[str, list[Obj]]) -> None:
        for resource, items in objects.items():
            self.resources[resource] = {}  # type: ignore[assignment]  # kmock: a kind with no details
            for obj in items:
                self.objects[resource, obj["metadata"].get("namespace"), obj["metadata"]["name"]] = obj
        for obj in objects.get(PODS, []):
            app = obj["metadata"].get("labels", {}).get("app", "")
            text = seed.LOGS.get(app, "INFO serving")
            self[kmock.name(obj["metadata"]["name"]), kmock.subresource("log")] << text.encode()

    async def _serve_list(self, request: Any) -> Any:
        """As the API server lists: equality selectors applied (``fieldSelector=involvedObject.name=x``,
        ``labelSelector=app=y``); kmock lists every object of the kind."""
        answer: Any = await super()._serve_list(request)
        wanted = [
            (kind, *term.split("=", 1))
            for kind in ("fieldSelector", "labelSelector")
            for term in (request.params.get(kind) or "").replace("==", "=").split(",")
            if "=" in term and "!=" not in term
        ]
        if wanted:
            answer["items"] = [item for item in answer["items"] if all(_has(item, *w) for w in wanted)]
        return answer

    async def _handle(self, request: Any) -> Any:
        response = await super()._handle(request)
        if request.resource is None or response.status >= 400:
            return response
        name = request.name or (request.data or {}).get("metadata", {}).get("name")
        key = (request.resource, request.namespace or (request.data or {}).get("metadata", {}).get("namespace"), name)
        try:
            if request.action == kmock.action.UPDATE and request.resource == kmock.resource(DEPLOYMENTS):
                async with self._lock:
                    self._rolled_out(key)
            elif request.action == kmock.action.CREATE and request.resource == kmock.resource(RESTORES):
                async with self._lock:
                    self._restored(key)
            elif request.action == kmock.action.UPDATE and request.resource == kmock.resource(CERTIFICATES):
                async with self._lock:
                    self._issued(key)
        except (KeyError, TypeError, ValueError):
            pass  # a write the demo's controllers do not know: it stays as written
        return response

    # What the controllers do -----------------------------------------------------------------------------------
    def _rolled_out(self, key: tuple[Any, str, str]) -> None:
        obj = self.objects[key]
        dep = plain(obj.raw)
        meta, spec = dep["metadata"], dep["spec"]
        replicas = int(spec.get("replicas", 1))
        generation = int(meta.get("generation", 1)) + 1
        patch: Obj = {"metadata": {"generation": generation}}
        template = spec.get("template") or {}
        app, namespace = meta["name"], meta.get("namespace")
        current = self._replicasets(namespace, app)
        latest = max(current, key=_revision, default=None)
        if latest is None or _pod_spec(latest) != (template.get("spec") or {}):
            revision = max((_revision(rs) for rs in current), default=0) + 1
            again = next((rs for rs in current if _pod_spec(rs) == (template.get("spec") or {})), None)
            if again is not None:  # as the Deployment controller does: the old ReplicaSet again, its revision new
                hash_ = again["metadata"]["labels"]["pod-template-hash"]
                self._scale_to(namespace, app, again["metadata"]["name"], revision, replicas)
                self._replace_pods(namespace, app, hash_, replicas)
            else:
                digest = hashlib.sha256(repr(template).encode()).hexdigest()[:5]
                self._new_replicaset(namespace, app, template, revision, f"{app[:3]}{revision}{digest}", replicas)
            patch["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": str(revision)}
        patch["status"] = {
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }
        obj.patch(patch)

    def _replicasets(self, namespace: str | None, app: str) -> list[Obj]:
        found = []
        for (resource, ns, _), obj in self.objects.items():
            if resource == kmock.resource(REPLICASETS) and ns == namespace and not obj.deleted:
                raw = plain(obj.raw)
                owners = raw["metadata"].get("ownerReferences") or []
                if any(o.get("kind") == "Deployment" and o.get("name") == app for o in owners):
                    found.append(raw)
        return found

    def _scale_to(self, namespace: str | None, app: str, name: str, revision: int, replicas: int) -> None:
        """Only ``name`` of the Deployment's ReplicaSets keeps pods; it takes ``revision``."""
        for rs in self._replicasets(namespace, app):
            mine = rs["metadata"]["name"] == name
            count = replicas if mine else 0
            patch: Obj = {"spec": {"replicas": count}, "status": {"replicas": count, "availableReplicas": count}}
            if mine:
                patch["metadata"] = {"annotations": {"deployment.kubernetes.io/revision": str(revision)}}
            self.objects[kmock.resource(REPLICASETS), namespace, rs["metadata"]["name"]].patch(patch)

    def _new_replicaset(
        self, namespace: str | None, app: str, template: Obj, revision: int, hash_: str, replicas: int
    ) -> None:
        now = datetime.now(UTC)
        for rs in self._replicasets(namespace, app):
            self.objects[kmock.resource(REPLICASETS), namespace, rs["metadata"]["name"]].patch(
                {"spec": {"replicas": 0}, "status": {"replicas": 0, "availableReplicas": 0}}
            )
        image = ((template.get("spec") or {}).get("containers") or [{}])[0].get("image", "")
        rs = seed.replicaset(app, revision, image, now, replicas)
        rs["metadata"]["name"] = f"{app}-{hash_}"
        rs["metadata"]["labels"]["pod-template-hash"] = hash_
        rs["metadata"]["annotations"]["kubernetes.io/change-cause"] = f"rolled back to {image.rsplit(':', 1)[-1]}"
        rs["metadata"]["managedFields"] = [{"manager": "chatops-bot", "operation": "Update", "time": iso(now)}]
        rs["spec"]["template"] = template | {"metadata": {"labels": {"app": app, "pod-template-hash": hash_}}}
        self.objects[kmock.resource(REPLICASETS), namespace, rs["metadata"]["name"]] = rs
        self._replace_pods(namespace, app, hash_, replicas)

    def _replace_pods(self, namespace: str | None, app: str, hash_: str, replicas: int) -> None:
        for (resource, ns, name), obj in list(self.objects.items()):
            labels = (obj.get("metadata") or {}).get("labels") or {}
            if resource == kmock.resource(PODS) and ns == namespace and labels.get("app") == app and not obj.deleted:
                self.objects[resource, ns, name].delete()
        node = "ip-10-0-1-12.ec2.internal"
        for index in range(min(replicas, 5)):
            pod = seed.app_pod(app, hash_, index, node)
            self.objects[kmock.resource(PODS), namespace, pod["metadata"]["name"]] = pod
            self[kmock.name(pod["metadata"]["name"]), kmock.subresource("log")] << b"INFO serving\n"

    def _restored(self, key: tuple[Any, str, str]) -> None:
        now = datetime.now(UTC)
        obj = self.objects[key]
        restore = plain(obj.raw)
        backup = restore.get("spec", {}).get("backupName", "")
        items = 142
        obj.patch(
            {
                "status": {
                    "phase": "Completed",
                    "startTimestamp": iso(now),
                    "completionTimestamp": iso(now + timedelta(seconds=40)),
                    "progress": {"totalItems": items, "itemsRestored": items},
                    "warnings": 0,
                    "errors": 0,
                }
            }
        )
        mapping = restore.get("spec", {}).get("namespaceMapping") or {}
        target = mapping.get(seed.NS, seed.NS)
        config = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "payments-settings",
                "namespace": target,
                "labels": {"velero.io/backup-name": backup, "velero.io/restore-name": restore["metadata"]["name"]},
            },
            "data": {"MAX_HEAP": "192m"},
        }
        self.objects[kmock.resource("v1/configmaps"), target, "payments-settings"] = config

    def _issued(self, key: tuple[Any, str, str]) -> None:
        obj = self.objects[key]
        cert = plain(obj.raw)
        conditions = (cert.get("status") or {}).get("conditions") or []
        if not any(c.get("type") == "Issuing" and c.get("status") == "True" for c in conditions):
            return
        now = datetime.now(UTC)
        obj.patch(
            {
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "Ready",
                            "message": "Certificate is up to date and has not expired",
                        }
                    ],
                    "notBefore": iso(now),
                    "notAfter": iso(now + timedelta(days=90)),
                    "renewalTime": iso(now + timedelta(days=60)),
                    "revision": int((cert.get("status") or {}).get("revision") or 0) + 1,
                }
            }
        )


def _has(obj: Obj, kind: str, key: str, value: str) -> bool:
    if kind == "labelSelector":
        return str(((obj.get("metadata") or {}).get("labels") or {}).get(key)) == value
    found: Any = obj
    for part in key.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return (found is None and value == "") or str(found) == value


def _revision(rs: Obj) -> int:
    return int(((rs.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision") or 0)


def _pod_spec(rs: Obj) -> Obj:
    spec: Obj = ((rs.get("spec") or {}).get("template") or {}).get("spec") or {}
    return spec
