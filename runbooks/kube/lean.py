"""The official ``kubernetes`` client without its 700 model classes.

The bot reads and writes Kubernetes as raw JSON (``ApiClient.call_api`` with ``_preload_content=False``) and
never builds a typed model, but ``import kubernetes`` runs the package's ``__init__``, which imports every API
class and every model: about 0.5 s and 35 MB for each process start (``chatops-bot digest --print``, each
bot replica). This module imports only what the bot uses (configuration, the API client and its REST layer,
the kubeconfig and in-cluster loaders, the exceptions) by registering the packages' ``__init__``s as empty
namespaces before anything else imports them. The models stay reachable: a model named as an attribute of
``kubernetes.client.models`` is imported on first use.

Every other module of the bot imports the client from here. When the real package was imported first (a
test that imports ``kubernetes`` itself), this module simply uses it.

Only ``ApiException`` (one small module) is loaded with this one: the API client, its configuration and the
kubeconfig loaders (with urllib3, requests and oauthlib behind them, about 0.15 s) load on first use, so a process
that answers a Slack command before it reads a cluster (``chatops-bot shell``'s first answer) does not wait for them.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from typing import TYPE_CHECKING, Any

_MARK = "__chatops_lean__"


def _stub(name: str, path: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = [path]
    module.__package__ = name
    setattr(module, _MARK, True)
    sys.modules[name] = module
    return module


def _model(name: str) -> Any:
    """``kubernetes.client.models.V1Pod`` → the class, imported from ``kubernetes.client.models.v1_pod`` on demand."""
    if name.startswith("__"):
        raise AttributeError(name)
    module = importlib.import_module("kubernetes.client.models." + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())
    return getattr(module, name)


if "kubernetes" not in sys.modules:
    _spec = importlib.util.find_spec("kubernetes")
    assert _spec is not None and _spec.submodule_search_locations
    _root = next(iter(_spec.submodule_search_locations))
    _stub("kubernetes", _root)
    _client = _stub("kubernetes.client", f"{_root}/client")
    _models = _stub("kubernetes.client.models", f"{_root}/client/models")
    _models.__getattr__ = _model  # type: ignore[method-assign]

from kubernetes.client.exceptions import ApiException  # noqa: E402 - after the namespaces are in place

LEAN = bool(getattr(sys.modules["kubernetes"], _MARK, False))

if TYPE_CHECKING:
    from kubernetes import config
    from kubernetes.client.api_client import ApiClient
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.config_exception import ConfigException

_LATER = {
    "ApiClient": ("kubernetes.client.api_client", "ApiClient"),
    "Configuration": ("kubernetes.client.configuration", "Configuration"),
    "ConfigException": ("kubernetes.config.config_exception", "ConfigException"),
    "config": ("kubernetes.config", None),
}


def __getattr__(name: str) -> Any:
    """``ApiClient``, ``Configuration``, ``ConfigException`` and ``config``, imported on first use (the loaders
    take the client's two classes from the ``kubernetes.client`` namespace, so those come first)."""
    if name not in _LATER:
        raise AttributeError(name)
    for needed in ("ApiClient", "Configuration", name):
        if needed not in globals():
            module_name, attribute = _LATER[needed]
            module = importlib.import_module(module_name)
            globals()[needed] = module if attribute is None else getattr(module, attribute)
            if LEAN and needed in ("ApiClient", "Configuration"):
                setattr(sys.modules["kubernetes.client"], needed, globals()[needed])
    return globals()[name]


__all__ = ["LEAN", "ApiClient", "ApiException", "ConfigException", "Configuration", "config"]
