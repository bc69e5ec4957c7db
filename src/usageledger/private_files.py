"""Folders and files that hold usage data or secrets are the owner's alone: folders 0700, files 0600.

The database holds every organization's spend and the sealed admin keys, and the key file beside it opens
them; none of them may be readable by other users of the machine, whatever the umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["make_private_dir", "make_private_file"]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) with mode 0700 for the folder itself; an existing one is kept as is."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)


def make_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600, or narrow an existing file of ours to 0600 (older versions made 0644)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        info = path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(PRIVATE_FILE_MODE)
        return
    os.close(fd)
