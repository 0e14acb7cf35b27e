"""Paths of the repository, for tests wherever they sit under tests/."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
