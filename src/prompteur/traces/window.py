"""Time windows as people type them: `7d`, `12h`, `30m`, `2w`, or an ISO date."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ..errors import UserError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str, *, field: str = "since") -> timedelta:
    m = _DURATION.match(text)
    if not m or float(m.group(1)) <= 0:
        raise UserError(f"not a duration: {text!r}", field=field, hint="e.g. 30m, 12h, 7d, 2w")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def parse_since(text: str, *, now: datetime | None = None, field: str = "since") -> datetime:
    """A start time: a duration back from now (`7d`) or an ISO date/time (UTC if naive)."""
    now = now or datetime.now(UTC)
    if _DURATION.match(text):
        return now - parse_duration(text, field=field)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"not a duration or a date: {text!r}",
            field=field,
            hint="e.g. 7d, 12h or 2026-01-31T08:00",
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
