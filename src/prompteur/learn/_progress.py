"""Which lessons a learner passed, kept in the project (`.prompteur/learn.json`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..files import write_atomic

PROGRESS_FILE = "learn.json"


def progress_path(state_dir: Path) -> Path:
    return state_dir / PROGRESS_FILE


def load_progress(state_dir: Path) -> dict[str, dict[str, Any]]:
    path = progress_path(state_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError:
        # A damaged progress file must not stop anyone learning: start again, keep nothing.
        return {}
    return data if isinstance(data, dict) else {}


def record_attempt(state_dir: Path, lesson: str, passed: bool, score: float) -> dict[str, Any]:
    """Count the attempt; a lesson once passed stays passed."""
    data = load_progress(state_dir)
    entry = data.get(lesson) or {"passed": False, "attempts": 0, "best": 0.0}
    entry["attempts"] = int(entry.get("attempts", 0)) + 1
    entry["passed"] = bool(entry.get("passed")) or passed
    entry["best"] = max(float(entry.get("best", 0.0)), score)
    entry["last"] = datetime.now(UTC).isoformat(timespec="seconds")
    if passed and not entry.get("passed_at"):
        entry["passed_at"] = entry["last"]
    data[lesson] = entry
    write_atomic(progress_path(state_dir), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return entry
