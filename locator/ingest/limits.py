"""Bounds on what an imported file may cost: unpacked size and ratio, JSON depth, CSV cells, dates.

Every import path (the CLI, the wizard, `fetch`) reads through these guards, so a small hostile file
is refused with a French reason after reading a bounded amount, before any parser pays for it.
"""

from __future__ import annotations

import abc
import io
from dataclasses import dataclass
from typing import IO, Any

from .table import FileProblem


@dataclass(frozen=True)
class Limits:
    """The bounds of one import (defaults: those of `locator/config.py`)."""

    max_decompressed: int = 1024**3
    max_ratio: float = 100.0
    max_depth: int = 64
    max_cell_chars: int = 32768
    max_cell_lines: int = 30
    future_days: int = 2

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Limits:
        """Return the limits the settings give (missing ones keep their default)."""
        names = {
            "max_decompressed": "IMPORT_MAX_DECOMPRESSED_BYTES",
            "max_ratio": "IMPORT_MAX_RATIO",
            "max_depth": "IMPORT_MAX_JSON_DEPTH",
            "max_cell_chars": "IMPORT_MAX_CELL_CHARS",
            "max_cell_lines": "IMPORT_MAX_CELL_LINES",
            "future_days": "IMPORT_FUTURE_DAYS",
        }
        kind = {f: type(getattr(cls(), f)) for f in names}
        return cls(**{f: kind[f](settings[s]) for f, s in names.items() if s in settings})


class _Guard(io.RawIOBase, abc.ABC):
    """A read-only binary stream over another one, checking each chunk before passing it on."""

    def __init__(self, inner: IO[bytes]):
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.check(data)
        buffer[: len(data)] = data
        return len(data)

    @abc.abstractmethod
    def check(self, data: bytes) -> None:
        """Refuse the stream (FileProblem) when these bytes take it past a limit."""


class Unpacked(_Guard):
    """Counts the bytes a decompressor yields; refuses past the size cap or the ratio to the packed size."""

    def __init__(self, inner: IO[bytes], packed_size: int, limits: Limits):
        super().__init__(inner)
        self.seen = 0
        self.cap = min(limits.max_decompressed, int(max(packed_size, 1) * limits.max_ratio))
        self.limits = limits

    def check(self, data: bytes) -> None:
        self.seen += len(data)
        if self.seen > self.cap:
            raise FileProblem(
                f"Archive refusée : elle se décompresse en plus de {_size(self.cap)} "
                f"(au plus {_size(self.limits.max_decompressed)}, et {self.limits.max_ratio:g} fois "
                "la taille du fichier compressé). Ce n’est pas un export normal de l’annuaire."
            )


class Shallow(_Guard):
    """Refuses JSON nested deeper than the limit, counting [ and { outside strings, in one pass."""

    def __init__(self, inner: IO[bytes], max_depth: int):
        super().__init__(inner)
        self.max_depth = max_depth
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def check(self, data: bytes) -> None:
        # Fast path: a chunk without quotes or backslashes only moves the depth by its brackets.
        if not self.in_string and b'"' not in data and b"\\" not in data:
            self._brackets(data)
            return
        for piece_index, piece in enumerate(data.split(b'"')):
            if piece_index:
                self._quote()
            if self.in_string:
                self.escaped = _ends_escaped(piece, self.escaped)
            else:
                self._brackets(piece)

    def _quote(self) -> None:
        if self.in_string and self.escaped:
            self.escaped = False
            return
        self.in_string = not self.in_string
        self.escaped = False

    def _brackets(self, piece: bytes) -> None:
        opens = piece.count(b"[") + piece.count(b"{")
        if self.depth + opens <= self.max_depth:
            self.depth = max(0, self.depth + opens - piece.count(b"]") - piece.count(b"}"))
            return
        for byte in piece:  # a close call: follow the order of the brackets
            if byte in (0x5B, 0x7B):
                self.depth += 1
                if self.depth > self.max_depth:
                    raise FileProblem(
                        f"Fichier JSON refusé : imbriqué sur plus de {self.max_depth} niveaux. "
                        "Ce n’est pas un export de l’Annuaire de l’administration."
                    )
            elif byte in (0x5D, 0x7D):
                self.depth = max(0, self.depth - 1)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} Mo" if n >= 100_000 else f"{n / 1e3:.1f} ko"


def _ends_escaped(piece: bytes, escaped: bool) -> bool:
    """Tell whether a run of string bytes ends with an odd number of backslashes (escaping a quote)."""
    if not piece:
        return escaped
    run = len(piece) - len(piece.rstrip(b"\\"))
    if run == len(piece):
        return escaped != (run % 2 == 1)
    return run % 2 == 1


def unpacked(stream: IO[bytes], packed_size: int, limits: Limits) -> IO[bytes]:
    """Return a buffered stream over a decompressor's output, bounded in size and ratio."""
    return io.BufferedReader(Unpacked(stream, packed_size, limits), 1 << 16)


def shallow(stream: IO[bytes], limits: Limits) -> IO[bytes]:
    """Return a buffered stream over JSON bytes, refused once nested deeper than the limit."""
    return io.BufferedReader(Shallow(stream, limits.max_depth), 1 << 16)
