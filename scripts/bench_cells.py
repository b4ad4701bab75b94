"""What reading cells right costs: encodings per line, mojibake repair, phones by phonenumbers, as ratios.

Run alone (`.venv/bin/python scripts/bench_cells.py [--rows N]`). Each file is read by the import's
reader (`open_table` then every row), in this process, timed with perf_counter; every figure is a ratio
to a clean UTF-8 file of the same size read in the same run, and each file is also read at a tenth of its
size: the cost per row stays flat when no step grows with the square of the file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locator.ingest import clean  # noqa: E402
from locator.ingest.table import open_table  # noqa: E402

HEADER = "type;nom;adresse;code_postal;commune;telephone\r\n"
# A per-row budget share: DESIGN.md's offline import is ≥ 5,000 rows/s, so 200 µs a row in all.
ROW_BUDGET_US = 200.0
SLOWER_AT_MOST = 1.5  # a mixed or repaired file read at most this much slower than a clean one
FLAT_FACTOR = 1.3  # the cost per row for 10× more rows


def _line(i: int) -> str:
    phone = f"04 73 80 {i % 100:02d} {i % 97:02d}"
    return f"cio;CIO n° {i} de Thiers, accueil d’été;{i % 90 + 1} rue de l’Église;63300;Thiers;{phone}\r\n"


def clean_utf8(rows: int) -> bytes:
    return (HEADER + "".join(_line(i) for i in range(rows))).encode()


def mixed(rows: int, every: int) -> bytes:
    """UTF-8 with one line in `every` written in Windows-1252."""
    return HEADER.encode() + b"".join(
        _line(i).encode("cp1252" if i % every == 7 else "utf-8") for i in range(rows)
    )


def mojibake(rows: int, every: int) -> bytes:
    """UTF-8 with one line in `every` whose name was UTF-8 read as Windows-1252 once (« Ã© »)."""
    return HEADER.encode() + b"".join(
        (_line(i).encode().decode("cp1252", errors="replace") if i % every == 7 else _line(i)).encode()
        for i in range(rows)
    )


def cp1252(rows: int) -> bytes:
    return (HEADER + "".join(_line(i) for i in range(rows))).encode("cp1252")


def _read(data: bytes) -> float:
    started = time.perf_counter()
    table = open_table(data, 1 << 30)
    for _row in table.rows():
        pass
    return time.perf_counter() - started


def ratio(a: bytes, b: bytes, rounds: int = 7) -> float:
    """Best time to read `b` over best time to read `a`, the two read in turn (the machine is shared)."""
    best_a = best_b = float("inf")
    for _ in range(rounds):
        best_a = min(best_a, _read(a))
        best_b = min(best_b, _read(b))
    return best_b / best_a


def phone_us(rows: int) -> float:
    """Microseconds per distinct phone cell read by clean.phone (no cache hit: every number differs)."""
    cells = [f"04 73 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}" for i in range(rows)]
    started = time.perf_counter()
    for c in cells:
        clean.phone(c)
    return (time.perf_counter() - started) / rows * 1e6


def run(rows: int = 50_000) -> list[tuple[str, str, str]]:
    """Measure; return (measure, value, budget and verdict) lines."""
    out = []
    cases = [
        ("UTF-8 + 1 ligne Windows-1252", lambda n: mixed(n, n)),
        ("UTF-8 + 1 % de lignes Windows-1252", lambda n: mixed(n, 100)),
        ("UTF-8 + 1 % de cellules « Ã© »", lambda n: mojibake(n, 100)),
        ("Windows-1252 pur", cp1252),
    ]
    for label, make in cases:
        slower = ratio(clean_utf8(rows), make(rows))
        flat = ratio(make(rows // 10), make(rows)) / 10  # cost per row, 10× more rows
        out.append(
            (
                f"lecture, {label}, {rows} lignes",
                f"× {slower:.2f} d’un UTF-8 propre ; × {flat:.2f} par ligne pour 10× plus",
                f"× ≤ {SLOWER_AT_MOST:g} et × ≤ {FLAT_FACTOR:g} : "
                + ("OK" if slower <= SLOWER_AT_MOST and flat <= FLAT_FACTOR else "DÉPASSÉ"),
            )
        )
    us = phone_us(rows)
    out.append(
        (
            "téléphone lu par phonenumbers (numéros tous différents)",
            f"{us:.1f} µs par cellule, {us / ROW_BUDGET_US:.0%} du budget d’une ligne",
            "information (le budget est celui de l’import entier : scripts/bench_import.py)",
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    for measure, value, budget in run(args.rows):
        print(f"{measure:<58} {value:<52} {budget}", flush=True)


if __name__ == "__main__":
    main()
