"""A finished run with known results, made through the run lifecycle, for the review tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prompteur.records import ResultRecord
from prompteur.runs import RunKind, start
from prompteur.store import Store

V1 = "1" * 64
V2 = "2" * 64


def judged(name: str, passed: bool) -> dict[str, Any]:
    return {"name": name, "passed": passed, "score": 1.0 if passed else 0.0, "reason": ""}


def record(
    case: int, *, version: str = V1, model: str = "local", passed: bool = True, **kw: Any
) -> ResultRecord:
    return ResultRecord(
        prompt="greet",
        version=version,
        model=model,
        case_id=f"c{case}",
        repeat=0,
        inputs={"name": f"n{case}"},
        expected=f"Hello n{case}",
        output=kw.pop("output", f"{'Hello' if passed else 'Bye'} n{case} from {version[0]}"),
        passed=passed,
        score=1.0 if passed else 0.0,
        checks=kw.pop("checks", [judged("contains", passed)]),
        **kw,
    )


def make_run(store: Store, records: list[ResultRecord]) -> str:
    handle = start(store, RunKind.EVAL, "suites/greet.yaml", {"models": ["local"]}, len(records))
    with handle:
        store.write_results(handle.id, records)
    return handle.id


def two_variant_run(store: Store, cases: int = 10) -> str:
    """Cases c0..c{n-1}, each answered by version 1 (passes on even cases) and version 2."""
    records = [record(i, passed=i % 2 == 0) for i in range(cases)]
    records += [record(i, version=V2, passed=True) for i in range(cases)]
    return make_run(store, records)


def simple_run(store: Store, cases: int) -> str:
    """Cases c0..c{n-1} of one variant, passing on even cases."""
    return make_run(store, [record(i, passed=i % 2 == 0) for i in range(cases)])


def trace_row(i: int, at: datetime, **kw: Any) -> dict[str, Any]:
    """The row of trace number `i` of the prompt greet (version 1), as the store inserts it:
    inputs {name: n<i>}, output "out <i>"; `kw` sets or adds columns."""
    return {
        "trace_id": f"{i:032x}",
        "span_id": f"{i:016x}",
        "prompt": "greet",
        "version": V1,
        "source": "api",
        "inputs": {"name": f"n{i}"},
        "output": f"out {i}",
        "meta": {},
        "flagged": False,
        "started_at": at,
        "created_at": at,
        **kw,
    }
