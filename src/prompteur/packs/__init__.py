"""Domain packs: prompts and suites for a domain, ready for `prompteur init --pack NAME`."""

from ._packs import Pack, get_pack, packs

__all__ = ["Pack", "get_pack", "packs"]
