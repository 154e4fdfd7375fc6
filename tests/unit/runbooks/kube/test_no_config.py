"""With no kubeconfig and no pod, a cluster read says so as it always did, without loading the Kubernetes client's
transport and loaders first (a process with no cluster, the shell's first seconds, does not pay for them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]

PROBE = """
import json, sys
from runbooks.kube.client import ClusterSet, NoClusterConfig
try:
    ClusterSet([]).connect_all()
except NoClusterConfig as exc:
    said = str(exc)
print(json.dumps({"said": said, "loaded": sorted(m for m in sys.modules if m.startswith(("kubernetes", "urllib3")))}))
"""


def run(tmp_path: Path, **env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "KUBERNETES_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env={**base, "HOME": str(tmp_path), **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout))


def test_no_kubeconfig_and_no_pod_is_said_without_loading_the_client(tmp_path: Path) -> None:
    out = run(tmp_path, KUBECONFIG=f"{tmp_path / 'none'}{os.pathsep}{tmp_path / 'nor-this'}")
    assert str(out["said"]).startswith("No Kubernetes configuration: the bot does not run in a cluster")
    assert "kubernetes.config" not in out["loaded"] and "kubernetes.client.api_client" not in out["loaded"]


def test_a_kubeconfig_that_is_there_is_read_by_the_loaders(tmp_path: Path) -> None:
    """A file that is there goes to the loaders as before (here one without a current context)."""
    (tmp_path / "config").write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    out = run(tmp_path, KUBECONFIG=str(tmp_path / "config"))
    assert "no current context" in str(out["said"])
    assert "kubernetes.config" in out["loaded"]
