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
    prompt: str | None = None  # the rendered prompt, as text
    transformed: Any = None  # the output as a `transform:` left it (any JSON value)


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    score: float
    reason: str = ""
    weight: float = 1.0


CheckFn = Callable[[CheckContext], "CheckResult | Awaitable[CheckResult]"]
Factory = Callable[..., CheckFn]

# Factories by name: the built-ins' (registered as their modules load) and those found through
# the entry points of the group "prompteur.checks" (plugins.py), loaded on first use.
_REGISTRY: dict[str, Factory] = {}
GROUP = "prompteur.checks"


def check(name: str) -> Callable[[Factory], Factory]:
    """Declare a check factory under `name` (used as `type:` in suites). A plugin also
    declares it as an entry point; it cannot take a built-in's name."""

    def register(factory: Factory) -> Factory:
        known = _REGISTRY.get(name)
        if known is not None and known is not factory and _builtin(known) and not _builtin(factory):
            import warnings

            warnings.warn(
                f"{factory.__module__} declares the check '{name}', a built-in: "
                "the built-in is used",
                stacklevel=2,
            )
            return factory
        _REGISTRY[name] = factory
        return factory

    return register


def _builtin(factory: Factory) -> bool:
    return getattr(factory, "__module__", "").startswith("prompteur.")


def factory(name: str) -> Factory | None:
    """The factory of the check `name`: a built-in, else a plugin's (loaded now)."""
    found = _REGISTRY.get(name)
    if found is not None:
        return found
    from .. import plugins

    entry = plugins.entries(GROUP).get(name)
    if entry is None:
        return None
    loaded = entry.load()
    return _REGISTRY.setdefault(name, loaded)


def registered() -> list[str]:
    """Every check's name: the built-ins' and the plugins' (from their metadata)."""
    from .. import plugins

    return sorted(set(_REGISTRY) | set(plugins.entries(GROUP)))


def describe_checks() -> list[dict[str, str]]:
    """Each check (every plugin loaded): name, where it comes from, what it does."""
    from .. import plugins

    entries = plugins.entries(GROUP)
    out = []
    for name in registered():
        fn = factory(name)
        entry = entries.get(name)
        doc = (getattr(fn, "__doc__", None) or "").strip().split("\n\n")[0]
        out.append(
            {
                "name": name,
                "from": entry.dist if entry is not None else "prompteur",
                "description": " ".join(doc.split()),
            }
        )
    return out


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
    transforms = params.pop("transform", None)
    metric = params.pop("metric", None)
    negate = kind.startswith("not-")
    base = kind[4:] if negate else kind
    make = factory(base)
    if make is None:
        import difflib

        close = difflib.get_close_matches(base, registered(), n=1)
        raise UserError(
            f"unknown check type '{kind}'",
            field=f"{where}.type",
            hint=f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(registered()),
        )
    try:
        fn = make(**params)
    except TypeError as exc:
        raise UserError(f"bad parameters for check '{kind}': {exc}", field=where) from None
    except ValueError as exc:
        raise UserError(f"check '{kind}': {exc}", field=where) from None
    if transforms is not None:
        fn = _transformed(fn, transforms if isinstance(transforms, list) else [transforms], kind)
    return Check(str(metric) if metric else kind, fn, weight, negate)


def _transformed(fn: CheckFn, transforms: list[Any], kind: str) -> CheckFn:
    """`transform:` — code that rewrites the output before the check reads it (see
    checks/_code.py); a transform that fails fails the check, with its error."""
    for t in transforms:
        if not (isinstance(t, str) and t.strip()) and not (isinstance(t, dict) and t.get("file")):
            raise UserError(
                "a transform is JavaScript code or {file: path, function: name}",
                field=f"{kind}.transform",
            )

    async def run(ctx: CheckContext) -> CheckResult:
        import json

        from ..code import CodeError
        from ._code import apply_transform

        for t in transforms:
            try:
                value = await apply_transform(t, ctx)
            except CodeError as exc:
                return result(kind, False, f"the transform failed: {exc}")
            if value is None:
                return result(kind, False, "the transform returned nothing")
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            ctx = replace(ctx, output=text, transformed=value)
        out = fn(ctx)
        if inspect.isawaitable(out):
            out = await out
        return out  # type: ignore[return-value]

    return run
