"""The terminal's part of a report on structured outputs: per-field accuracy, the queue time
beside the model's, and how outputs were held to the schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from .report import VariantSummary


def print_fields(console: Console, summaries: list[VariantSummary]) -> None:
    """A table of field accuracies when some check compared objects field by field, and one
    line per variant on queue time and enforcement when there is something to say."""
    from rich.table import Table

    if any(sm.fields for sm in summaries):
        table = Table(title="Fields", title_justify="left")
        for col in ("variant", "field", "accuracy [95% CI]"):
            table.add_column(col, justify="right" if col.startswith("acc") else "left")
        for sm in summaries:
            for name, acc in sm.fields.items():
                table.add_row(sm.label, name, str(acc))
        console.print(table)
    for sm in summaries:
        notes = []
        if sm.queue_p50:
            notes.append(f"queued p50 {sm.queue_p50 * 1000:.0f} ms (not in the model's time)")
        if sm.enforcement:
            notes.append(
                "schema: " + ", ".join(f"{k} ×{n}" for k, n in sorted(sm.enforcement.items()))
            )
        if notes:
            console.print(f"{sm.label}: " + " · ".join(notes), markup=False)
