"""Importers: projects written for other tools, converted into prompt files and suites.

An importer builds every file in memory, says plainly what it could not convert, and writes
nothing until the whole conversion is ready (`Conversion.write`, which rolls back on failure).
"""

from .promptfoo import Conversion, Skipped, convert_promptfoo

__all__ = ["Conversion", "Skipped", "convert_promptfoo"]
