"""Rate-limit counters shared by every worker of one host: a `limits` storage in shared memory.

`RATE_LIMIT_STORAGE = "shared-memory://"` (the default): the table is mapped when the app is built,
before gunicorn forks its workers, so they all count in the same memory (a worker gunicorn restarts
forks from the same master and finds the counters). Each counter is a sliding window (the current
and the previous window's counts), found by a 64-bit hash of its key among PROBES slots; a full
neighbourhood forgets the counter whose windows end first, which can only let requests through,
never refuse one wrongly. A process-wide lock (POSIX record lock, released by the kernel if its
holder dies) and a thread lock make each update atomic: a few microseconds per request.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import tempfile
import threading
import time
import weakref
from functools import partial
from typing import Any

from limits.storage import SlidingWindowCounterSupport, Storage

SLOTS = 65536  # counters at once: distinct (client address, rule) pairs active within two windows
PROBES = 32  # slots a key may live in, from its hash
# One array per field, each of SLOTS + PROBES entries (a probe never wraps around).
_FIELDS = (
    ("hash", "Q", 8),
    ("window", "q", 8),
    ("expiry", "d", 8),
    ("current", "I", 4),
    ("previous", "I", 4),
)


def _shared_file(size: int) -> int:
    """Return the descriptor of an anonymous file of `size` zero bytes (memory, where Linux allows)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("locator-rate-limits", os.MFD_CLOEXEC)
    else:  # pragma: no cover (not Linux)
        handle, path = tempfile.mkstemp(prefix="locator-rate-limits-")
        os.unlink(path)
        fd = handle
    os.ftruncate(fd, size)
    return fd


class SharedMemoryStorage(Storage, SlidingWindowCounterSupport):
    """Sliding-window counters in memory shared by the processes forked after its creation."""

    STORAGE_SCHEME = ["shared-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        count = SLOTS + PROBES
        size = sum(width for _name, _code, width in _FIELDS) * count
        self._fd = _shared_file(size)
        self._map = mmap.mmap(self._fd, size)  # MAP_SHARED: the forked workers write the same pages
        view, offset = memoryview(self._map), 0
        arrays = {}
        for name, code, width in _FIELDS:
            arrays[name] = view[offset : offset + width * count].cast(code)
            offset += width * count
        self._hash, self._window, self._expiry = arrays["hash"], arrays["window"], arrays["expiry"]
        self._current, self._previous = arrays["current"], arrays["previous"]
        self._thread_lock = threading.Lock()
        weakref.finalize(self, os.close, self._fd)
        os.register_at_fork(after_in_child=partial(_new_thread_lock, weakref.ref(self)))

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return OSError

    # --- the table --------------------------------------------------------------------------------

    def _locked(self) -> _Locked:
        return _Locked(self._thread_lock, self._fd)

    @staticmethod
    def _key_hash(key: str) -> int:
        return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") or 1

    def _slot(self, key: str, expiry: float, now: float, create: bool) -> int | None:
        """Return the slot of `key`, rolled to the current window; with `create`, take one if needed."""
        wanted = self._key_hash(key)
        start = wanted % SLOTS
        hashes = self._hash[start : start + PROBES].tolist()
        try:
            slot = start + hashes.index(wanted)
        except ValueError:
            if not create:
                return None
            slot = min(range(start, start + PROBES), key=self._ends)  # free, or ending first
            self._hash[slot], self._window[slot], self._expiry[slot] = wanted, 0, expiry
            self._current[slot] = self._previous[slot] = 0
        window = math.floor(now / expiry)
        if self._window[slot] != window or self._expiry[slot] != expiry:
            follows = self._window[slot] == window - 1 and self._expiry[slot] == expiry
            self._previous[slot] = self._current[slot] if follows else 0
            self._current[slot] = 0
            self._window[slot], self._expiry[slot] = window, expiry
        return slot

    def _ends(self, slot: int) -> float:
        """When the slot's counts stop mattering (0 for a free slot): the end of its next window."""
        if not self._hash[slot]:
            return 0.0
        return (self._window[slot] + 2) * self._expiry[slot]

    def _window_info(self, slot: int | None, expiry: float, now: float) -> tuple[int, float, int, float]:
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        if slot is None:
            return 0, 0.0, 0, current_ttl
        previous = self._previous[slot]
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        return previous, previous_ttl, self._current[slot], current_ttl

    # --- the sliding window counter ------------------------------------------------------------------

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._locked():
            slot = self._slot(key, float(expiry), now, create=True)
            previous, previous_ttl, current, _ttl = self._window_info(slot, float(expiry), now)
            if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
                return False
            self._current[slot] = current + amount
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        with self._locked():
            return self._window_info(self._slot(key, float(expiry), now, create=False), float(expiry), now)

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        self.clear(key)

    # --- the storage interface (fixed windows: aligned on the clock) ----------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._locked():
            slot = self._slot(key, float(expiry), time.time(), create=True)
            self._current[slot] += amount
            return self._current[slot]

    def get(self, key: str) -> int:
        with self._locked():
            wanted = self._key_hash(key)
            start = wanted % SLOTS
            hashes = self._hash[start : start + PROBES].tolist()
            if wanted not in hashes:
                return 0
            slot = start + hashes.index(wanted)
            if math.floor(time.time() / self._expiry[slot]) != self._window[slot]:
                return 0
            return self._current[slot]

    def get_expiry(self, key: str) -> float:
        with self._locked():
            wanted = self._key_hash(key)
            start = wanted % SLOTS
            hashes = self._hash[start : start + PROBES].tolist()
            if wanted not in hashes:
                return time.time()
            slot = start + hashes.index(wanted)
            return (self._window[slot] + 1) * self._expiry[slot]

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._locked():
            used = sum(1 for h in self._hash.tolist() if h)
            self._map[:] = bytes(len(self._map))
            return used

    def clear(self, key: str) -> None:
        with self._locked():
            wanted = self._key_hash(key)
            start = wanted % SLOTS
            hashes = self._hash[start : start + PROBES].tolist()
            if wanted in hashes:
                slot = start + hashes.index(wanted)
                self._hash[slot] = 0
                self._current[slot] = self._previous[slot] = 0


def _new_thread_lock(ref: weakref.ref[SharedMemoryStorage]) -> None:
    """In a forked child: a fresh thread lock (a thread of the parent may have held it at the fork)."""
    storage = ref()
    if storage is not None:
        storage._thread_lock = threading.Lock()


class _Locked:
    """Hold the thread lock, then the record lock that excludes the other processes."""

    def __init__(self, thread_lock: threading.Lock, fd: int):
        self._thread_lock, self._fd = thread_lock, fd

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()
