"""Lists that grow with a scan, kept on disk: `Spool`, and `sorted_items`, a sort whose
memory does not grow with the items either.

A spool pickles each item it is given into an anonymous temporary file (already unlinked on
POSIX, so nothing is left behind however the process ends) and reads them back in order,
as often as asked: several reports can be written from one result. It is not thread-safe.
"""

from __future__ import annotations

import io
import itertools
import pickle
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Items `sorted_items` sorts in memory at once; the sorted runs are then merged from disk,
# at most MERGE_WIDTH at a time (more runs are first merged into longer ones).
SORT_CHUNK = 2_000
MERGE_WIDTH = 32
READ_BUFFER = 16 * 1024
_REVISIONS = itertools.count()


class SpoolError(Exception):
    """The temporary folder cannot hold the spooled results (full, or not writable)."""

    def __init__(self, exc: OSError):
        import tempfile

        super().__init__(f"cannot keep the results in the temporary folder {tempfile.gettempdir()}: "
                         f"{exc.strerror or exc} (set TMPDIR to a folder with space)")


class _Store:
    """One temporary file of pickled items, closed when the store is dropped."""

    def __init__(self) -> None:
        import tempfile  # not at import: `kmspolicy` starts faster without it

        try:
            self.file = tempfile.TemporaryFile(prefix="kmspolicy-spool-")
        except OSError as exc:
            raise SpoolError(exc) from exc
        self.size = 0  # bytes written
        self.count = 0  # items written
        self.moved = False  # a reader moved the file position away from the end
        self.close = weakref.finalize(self, self.file.close)

    def write(self, data: bytes, count: int) -> None:
        """Add `count` items given as their pickles, one after another."""
        try:
            if self.moved:
                self.file.seek(self.size)
                self.moved = False
            self.file.write(data)
        except OSError as exc:
            raise SpoolError(exc) from exc
        self.size += len(data)
        self.count += count

    def read_at(self, position: int, buffer: memoryview) -> int:
        self.moved = True
        self.file.seek(position)
        return self.file.readinto(buffer)


class _Window(io.RawIOBase):
    """The bytes of a store up to `end`, read from a position of its own."""

    def __init__(self, store: _Store, end: int):
        self.store = store
        self.end = end
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.end - self.position)
        if size <= 0:
            return 0
        read = self.store.read_at(self.position, memoryview(buffer).cast("B")[:size])
        self.position += read
        return read


class Spool(Generic[T]):
    """A list kept on disk: append, extend, iterate (any number of times, also nested), len,
    index (by reading up to the item) and sort. The file is made at the first item.
    `revision` changes with every change of the content and is never reused: what was
    computed from a spool holds as long as its revision does."""

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._store: _Store | None = None
        self.revision = next(_REVISIONS)
        self._sorted_by: tuple[Callable | None, int] | None = None  # (key, at revision)
        self.extend(items)

    def append(self, item: T) -> None:
        self._write(pickle.dumps(item, pickle.HIGHEST_PROTOCOL), 1)

    def extend(self, items: Iterable[T]) -> None:
        if isinstance(items, Pickled):  # already in the store's format: written as it is
            if items.count:
                self._write(items.data, items.count)
            return
        for item in items:
            self.append(item)

    def _write(self, data: bytes, count: int) -> None:
        if self._store is None:
            self._store = _Store()
        self._store.write(data, count)
        self.revision = next(_REVISIONS)

    def __len__(self) -> int:
        return self._store.count if self._store else 0

    def __iter__(self) -> Iterator[T]:
        """The items appended so far (not those appended while iterating)."""
        store = self._store
        if store is None:
            return
        count = store.count
        reader = io.BufferedReader(_Window(store, store.size), READ_BUFFER)
        for _ in range(count):
            yield pickle.load(reader)

    def __getitem__(self, index: int) -> T:
        """The item at `index`, read from the start of the file: for tests and small spools."""
        if not isinstance(index, int):
            raise TypeError(f"spool indices must be integers, not {type(index).__name__}")
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("spool index out of range")
        return next(itertools.islice(self, position, None))

    def sort(self, *, key: Callable[[T], Any] | None = None) -> None:
        """Sort in place, stably, as list.sort does (with `sorted_items`)."""
        if not in_order(self, key):
            ordered = Spool(sorted_items(self, key=key))
            self.close()
            self._store, ordered._store = ordered._store, None
        self._sorted_by = (key, self.revision)

    def is_sorted_by(self, key: Callable[[T], Any] | None) -> bool:
        """Was the spool sorted by this very `key` function, and not changed since?"""
        return self._sorted_by is not None and self._sorted_by[0] is key and self._sorted_by[1] == self.revision

    def close(self) -> None:
        """Drop the file; the spool is empty afterwards."""
        if self._store is not None:
            self._store.close()
            self._store = None
            self.revision = next(_REVISIONS)

    def __enter__(self) -> Spool[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Spool({len(self)} items)"


class Pickled(Generic[T]):
    """Items kept as their pickles, in a spool's format: a worker's results cross to the
    parent in these and are written into its spools as they are, not unpickled and pickled
    again (cli/parallel.py). Iterating unpickles them."""

    def __init__(self, items: Iterable[T] = ()) -> None:
        pickles = [pickle.dumps(item, pickle.HIGHEST_PROTOCOL) for item in items]
        self.count = len(pickles)
        self.data = b"".join(pickles)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[T]:
        reader = io.BytesIO(self.data)
        for _ in range(self.count):
            yield pickle.load(reader)

    def __getitem__(self, index: int) -> T:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:  # as the list of its items
        if isinstance(other, (Pickled, list)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a list's equality, not hashable

    def __repr__(self) -> str:
        return f"Pickled({self.count} items)"


def sorted_items(items: Iterable[T], key: Callable[[T], Any] | None = None) -> Iterator[T]:
    """`sorted(items, key=key)` one item at a time, stable, with at most SORT_CHUNK items in
    memory: sorted runs of SORT_CHUNK items are spooled, then merged (MERGE_WIDTH runs at a
    time, so the items held while merging do not grow with the items either)."""
    if isinstance(items, Spool) and in_order(items, key):  # one read, no rewriting
        yield from items
        return
    iterator = iter(items)
    block = sorted(itertools.islice(iterator, SORT_CHUNK), key=key)
    if len(block) < SORT_CHUNK:
        yield from block
        return
    runs: list[Spool[T]] = []
    try:
        while block:
            runs.append(Spool(block))
            block.clear()
            block = sorted(itertools.islice(iterator, SORT_CHUNK), key=key)
        while len(runs) > MERGE_WIDTH:
            runs = _merge_runs(runs, key)
        yield from _merged(runs, key)
    finally:
        for run in runs:
            run.close()


def _merged(runs: list[Spool[T]], key: Callable[[T], Any] | None) -> Iterator[T]:
    import heapq

    # heapq.merge takes equal items from the earlier run first: the sort stays stable
    return heapq.merge(*runs, key=key)


def _merge_runs(runs: list[Spool[T]], key: Callable[[T], Any] | None) -> list[Spool[T]]:
    """Runs of MERGE_WIDTH consecutive runs each merged into one (the old ones closed)."""
    longer = []
    for start in range(0, len(runs), MERGE_WIDTH):
        group = runs[start:start + MERGE_WIDTH]
        longer.append(Spool(_merged(group, key)))
        for run in group:
            run.close()
    return longer


def in_order(items: Iterable[T], key: Callable[[T], Any] | None = None) -> bool:
    """True when `items` are already sorted by `key` (a stable sort would not move them)."""
    keys = items if key is None else map(key, items)
    return not any(later < earlier for earlier, later in itertools.pairwise(keys))
