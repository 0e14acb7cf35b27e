"""Traces: production calls recorded by the SDK, the gateway and OTLP exporters, scored online
with the prompt's suite checks, watched per version over time, and turned back into cases."""

from .model import MAX_BATCH, ScoreIn, TraceIn, TraceRecord
from .storage import (
    TraceFilter,
    TracePage,
    get_trace,
    iter_traces,
    list_traces,
    record,
    set_flag,
    set_scores,
)

__all__ = [
    "MAX_BATCH",
    "ScoreIn",
    "TraceFilter",
    "TraceIn",
    "TracePage",
    "TraceRecord",
    "get_trace",
    "iter_traces",
    "list_traces",
    "record",
    "set_flag",
    "set_scores",
]
