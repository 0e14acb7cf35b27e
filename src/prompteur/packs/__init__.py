"""Domain packs: versioned prompts and suites for a domain, with a model card; installed into a
project by `prompteur packs install NAME` (or `init --pack NAME`), updated without touching
the user's edits by `prompteur packs update NAME`, measured by `prompteur packs measure`."""

from ._card import measure, suite_version, write_card
from ._install import FileChange, Update, install, manifest, update
from ._packs import Pack, get_pack, packs

__all__ = [
    "FileChange",
    "Pack",
    "Update",
    "get_pack",
    "install",
    "manifest",
    "measure",
    "packs",
    "suite_version",
    "update",
    "write_card",
]
