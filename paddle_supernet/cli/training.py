"""Subcommands that train or evaluate supernets (Paddle imported only when they run)."""
from __future__ import annotations


def add_commands(sub) -> None:
    """Registered by the engine issue."""
