"""The pattern library: proven prompt-writing patterns, each with its rationale and source.

`prompteur draft` assembles a prompt from these when only the embedded model is available;
the optimizer can draw on the same entries for its mutations. See docs/draft.md.
"""

from ._catalogue import (
    CATALOGUE,
    LANGUAGE_NAMES,
    LANGUAGES,
    Language,
    Pattern,
    get,
    render,
)

__all__ = ["CATALOGUE", "LANGUAGES", "LANGUAGE_NAMES", "Language", "Pattern", "get", "render"]
