"""Read a file that kmspolicy was told to read, refusing what could hang or exhaust it.

Every file kmspolicy opens by name — templates, `--config`, `--parameters-file`,
`--baseline`, a bundle archive — goes through `read_file`: opened without blocking (a FIFO
or a device must not wait for a writer), refused unless it is a regular file, and read to
at most `max_bytes` (so `/dev/zero` or a growing file cannot fill memory). Problems are a
`ReadError` whose message is one line; the callers name the file in their own error type.
What is read is parsed by the loader (`load.load_data`, `load.parse_data`), which adds the
depth, node and alias limits.
"""

from __future__ import annotations

import os
import stat


class ReadError(Exception):
    """The file cannot be read: `message` says why, in one line, without the file name."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def too_big(size: int, limit: int) -> str:
    return f"file is {size:,} bytes, larger than the {limit:,}-byte limit"


def read_file(path: str, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of the regular file `path`, at most `max_bytes` of them (ReadError)."""
    try:
        # O_NONBLOCK: opening a FIFO or a device must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise ReadError(f"is a directory, not a {what}")
            if not stat.S_ISREG(info.st_mode):
                raise ReadError(f"not a regular file (a pipe, socket or device), not a {what}")
            if info.st_size > max_bytes:
                raise ReadError(too_big(info.st_size, max_bytes))
            data = handle.read(max_bytes + 1)
    except OSError as err:
        raise ReadError(f"cannot read file: {err.strerror or err}") from None
    if len(data) > max_bytes:  # it grew while being read
        raise ReadError(too_big(len(data), max_bytes))
    return data
