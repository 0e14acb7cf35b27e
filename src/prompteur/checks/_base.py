"""What a check is: a small factory, registered by name, that scores one output.

A check spec in a suite is `{type: NAME, value: ..., weight: 1, threshold: ...}`; `not-NAME`
negates any check. A check returns a score in [0, 1] and whether it passed (score ≥ its
threshold, 1.0 unless set), with a reason a person can read.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import UserError


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may look at for one result."""

    output: str
    expected: Any = None
    inputs: dict[str, Any] = field(default_factory=dict)
    latency_s: float | None = None
    cost: float | None = None
    model: str | None = None
    # The project's models (a models.pool.ModelPool): where a judge or an embedder comes from.
    models: Any = None


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    score: float
    reason: str = ""
    weight: float = 1.0


CheckFn = Callable[[CheckContext], "CheckResult | Awaitable[CheckResult]"]
Factory = Callable[..., CheckFn]

_REGISTRY: dict[str, Factory] = {}


def check(name: str) -> Callable[[Factory], Factory]:
    """Register a check factory under `name` (used as `type:` in suites)."""

    def register(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory

    return register


def registered() -> list[str]:
    return sorted(_REGISTRY)


def result(name: str, passed: bool, reason: str = "", score: float | None = None) -> CheckResult:
    return CheckResult(name, passed, (1.0 if passed else 0.0) if score is None else score, reason)


@dataclass(frozen=True)
class Check:
    """A configured check, ready to run."""

    name: str
    fn: CheckFn
    weight: float = 1.0
    negate: bool = False

    async def __call__(self, ctx: CheckContext) -> CheckResult:
        try:
            out = self.fn(ctx)
            if inspect.isawaitable(out):
                out = await out
        except Exception as exc:  # a check that cannot run on this case fails it, said why
            # Never negated: a `not-` check that could not run has not shown the opposite.
            return CheckResult(
                self.name, False, 0.0, f"the check could not run: {exc}", self.weight
            )
        assert isinstance(out, CheckResult)
        if self.negate:
            out = CheckResult(
                self.name,
                not out.passed,
                1.0 - out.score,
                f"expected the opposite: {out.reason}" if out.reason else "",
            )
        return replace(out, name=self.name, weight=self.weight)


def build(spec: dict[str, Any] | str, *, where: str = "check") -> Check:
    """A Check from its suite spec; errors name the field."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise UserError(
            "a check needs a type", field=where, hint="e.g. {type: contains, value: ...}"
        )
    params = dict(spec)
    kind = str(params.pop("type"))
    weight = float(params.pop("weight", 1.0))
    negate = kind.startswith("not-")
    base = kind[4:] if negate else kind
    factory = _REGISTRY.get(base)
    if factory is None:
        import difflib

        close = difflib.get_close_matches(base, list(_REGISTRY), n=1)
        raise UserError(
            f"unknown check type '{kind}'",
            field=f"{where}.type",
            hint=f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(registered()),
        )
    try:
        fn = factory(**params)
    except TypeError as exc:
        raise UserError(f"bad parameters for check '{kind}': {exc}", field=where) from None
    except ValueError as exc:
        raise UserError(f"check '{kind}': {exc}", field=where) from None
    return Check(kind, fn, weight, negate)
