"""The registry: labels on immutable versions, the promotion gate, rollback, the audit log,
and regression runs on a model change.

Reading labels (`resolve`, `resolve_with_labels`, `labels_of`) needs only the store: it is
what the server, the gateway and the SDK call on every request. The gate and regression runs
load the evaluation engine, so they are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._labels import (
    LABEL_PATTERN,
    LabelInfo,
    Move,
    all_labels,
    audit_log,
    check_label,
    default_actor,
    gated_labels,
    labels_of,
    move_label,
    remove_label,
    resolve,
    resolve_with_labels,
    rollback,
)

if TYPE_CHECKING:
    from ._gate import Promotion, promote
    from ._regress import PromptRegression, Regression, regress, regress_prompt
    from ._suites import find_suite

_LAZY = {
    "Promotion": "._gate",
    "promote": "._gate",
    "Regression": "._regress",
    "PromptRegression": "._regress",
    "regress": "._regress",
    "regress_prompt": "._regress",
    "find_suite": "._suites",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "LABEL_PATTERN",
    "LabelInfo",
    "Move",
    "Promotion",
    "PromptRegression",
    "Regression",
    "all_labels",
    "audit_log",
    "check_label",
    "default_actor",
    "find_suite",
    "gated_labels",
    "labels_of",
    "move_label",
    "promote",
    "regress",
    "regress_prompt",
    "remove_label",
    "resolve",
    "resolve_with_labels",
    "rollback",
]
