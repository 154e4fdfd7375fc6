"""The bot's local state directory (``CHATOPS_DATA_DIR``, ``./.chatops``: the embedded Redis, the shell's log and
history) is its user's alone: the directory 0700, every file in it 0600, whatever the umask. An existing directory
left readable by an older version is tightened when the bot starts; a directory that also holds other things is
left as it is and named in the log."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


# What the bot keeps there: the embedded Redis' snapshot, settings and temporary files, the shell's log and history.
OURS = ("redis.db", "temp-", "appendonly", "shell.log", "shell_history", "demo")


def private_dir(path: Path) -> Path:
    """``path`` created 0700 (its parents as the umask says), or tightened to 0700 with the bot's files in it to
    0600. A directory holding anything else (``CHATOPS_DATA_DIR=/tmp`` by mistake) is not changed, only named."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    try:
        children = list(path.iterdir())
        if any(not child.name.startswith(OURS) for child in children):
            log.warning(
                "%s holds more than chatops-bot's state: not made private (0700); choose a directory of "
                "its own for CHATOPS_DATA_DIR",
                path,
            )
        else:
            os.chmod(path, DIR_MODE)
        for child in children:
            info = child.lstat()  # never through a symlink
            if child.name.startswith(OURS) and stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) & ~FILE_MODE:
                os.chmod(child, FILE_MODE)
    except OSError as exc:  # not ours (another user's directory): say so, the rest still works
        log.warning("could not make %s private (0700, files 0600): %s", path, exc)
    return path


def open_private(path: Path) -> TextIO:
    """``path`` opened to append text, created 0600 (an existing file is tightened to 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "a", encoding="utf-8")


def touch_private(path: Path) -> Path:
    """``path`` created empty and 0600 if it is not there, for a library that then opens it itself."""
    open_private(path).close()
    return path


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created meanwhile, and by programs started meanwhile for as long as they run (the embedded Redis
    server writes its snapshot later), are the user's alone."""
    before = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(before)
