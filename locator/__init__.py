"""locator: partner directory and geographic locator against school dropout (Auvergne-Rhône-Alpes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app as create_app

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`locator.create_app`, loaded on first use: offline jobs (an import's second process, the CLI's
    imports) never load Flask."""
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'locator' has no attribute {name!r}")
