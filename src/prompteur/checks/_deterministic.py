"""Deterministic checks: string matching, JSON, sizes, edit distance, ROUGE-L, Python
functions, latency and cost. Each is a tiny factory; `value` defaults to the case's expected
value when omitted."""

from __future__ import annotations

import importlib
import json
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..i18n import plural
from ..text import levenshtein_distance
from . import _structure
from ._base import CheckContext, CheckFn, CheckResult, check, result

_MISSING = object()


def _target(value: Any, ctx: CheckContext) -> Any:
    if value is _MISSING or value is None:
        if ctx.expected is None:
            raise ValueError("no value given and the case has no expected value")
        return ctx.expected
    return value


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces: the usual exact-match normalisation."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


@check("equals")
def equals(
    value: Any = _MISSING,
    *,
    strip: bool = True,
    normalize: bool = False,
    fields: list[str] | None = None,
) -> CheckFn:
    """The output equals the value (stripped; `normalize: true` ignores case and punctuation).
    An object is compared field by field with the output's JSON (or the field at `path`), each
    field scored — only the keys in `fields` when given; a list gives alternatives."""
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields) or not fields
    ):
        raise ValueError("fields: expected a list of keys")

    def run(ctx: CheckContext) -> CheckResult:
        wanted = _target(value, ctx)
        alternatives = wanted if isinstance(wanted, list) else [wanted]
        if fields is not None:
            alternatives = [
                {k: a[k] for k in fields if k in a} for a in alternatives if isinstance(a, dict)
            ]
            if not any(alternatives):
                # nothing to compare is not a pass: the case's expectation lacks these keys
                return result("equals", False, f"the expected value has none of {fields}")
        if any(isinstance(a, dict) for a in alternatives):
            return _fields(ctx, alternatives, normalize)
        scalar = ctx.data if not isinstance(ctx.data, str | dict | list) else _structure.MISSING
        if scalar is not _structure.MISSING and any(
            _structure.same_value(a, scalar) for a in alternatives
        ):
            return result("equals", True)
        targets = _as_list(wanted)
        out = ctx.output.strip() if strip else ctx.output
        if normalize:
            ok = normalise(out) in {normalise(t) for t in targets}
        else:
            ok = out in {t.strip() if strip else t for t in targets}
        return result(
            "equals",
            ok,
            ""
            if ok
            else f"got {out[:80]!r}, expected {targets[0]!r}"
            + (f" (or {plural(len(targets) - 1, 'other')})" if len(targets) > 1 else ""),
        )

    return run


def _fields(ctx: CheckContext, alternatives: list[Any], normalize: bool) -> CheckResult:
    """An object expectation against the output's JSON: the best alternative's fields."""
    if ctx.data is _structure.MISSING:
        return result("equals", False, "the output holds no JSON to compare field by field")
    best: dict[str, tuple[float, Any, Any]] = {}
    best_score = -1.0
    for alt in alternatives:
        compared = _structure.compare_fields(alt, ctx.data, normalize=normalize)
        score = sum(f[0] for f in compared.values()) / max(len(compared), 1)
        if score > best_score:
            best, best_score = compared, score
    wrong = [(name, got, want) for name, (s, got, want) in best.items() if s < 1.0]
    reason = f"{len(best) - len(wrong)}/{len(best)} fields"
    if wrong:
        shown = "; ".join(
            f"{name}: got {_structure.shown(got)}, expected {_structure.shown(want)}"
            for name, got, want in wrong[:3]
        )
        more = f" (+{len(wrong) - 3} more)" if len(wrong) > 3 else ""
        reason += f"; {shown}{more}"
    out = result("equals", not wrong, reason, best_score)
    return replace(out, fields={name: f[0] for name, f in best.items()})


def _contains(name: str, mode: str, ignore_case: bool) -> Any:
    def factory(value: Any = _MISSING) -> CheckFn:
        def run(ctx: CheckContext) -> CheckResult:
            needles = _as_list(_target(value, ctx))
            hay = ctx.output.lower() if ignore_case else ctx.output
            found = [n for n in needles if (n.lower() if ignore_case else n) in hay]
            ok = {"one": bool(found), "any": bool(found), "all": len(found) == len(needles)}[mode]
            missing = [n for n in needles if n not in found]
            if ok:
                reason = f"found {found[:3]}"  # what a negated check reports
            elif mode == "all":
                reason = f"missing {missing[:3]}"
            else:
                reason = f"none of {needles[:3]} found"
            score = len(found) / len(needles) if mode == "all" else float(ok)
            return result(name, ok, reason, score)

        return run

    which = {"one": "the value", "any": "one of the values", "all": "every value"}[mode]
    factory.__doc__ = f"The output contains {which} (default: expected)" + (
        ", in any case." if ignore_case else "."
    )
    return factory


contains = check("contains")(_contains("contains", "one", False))
icontains = check("icontains")(_contains("icontains", "one", True))
contains_any = check("contains-any")(_contains("contains-any", "any", False))
icontains_any = check("icontains-any")(_contains("icontains-any", "any", True))
contains_all = check("contains-all")(_contains("contains-all", "all", False))
icontains_all = check("icontains-all")(_contains("icontains-all", "all", True))


@check("starts-with")
def starts_with(value: Any = _MISSING, *, strip: bool = True) -> CheckFn:
    """The output starts with the value (or one of the values; default: expected)."""

    def run(ctx: CheckContext) -> CheckResult:
        prefixes = _as_list(_target(value, ctx))
        out = ctx.output.lstrip() if strip else ctx.output
        ok = any(out.startswith(p) for p in prefixes)
        return result("starts-with", ok, "" if ok else f"starts with {out[:40]!r}")

    return run


@check("regex")
def regex(value: str, *, flags: str = "") -> CheckFn:
    """The output matches the regular expression (search); flags: i, m, s."""
    bits = 0
    for f in flags:
        bits |= {"i": re.I, "m": re.M, "s": re.S}[f]
    try:
        pattern = re.compile(value, bits)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None

    def run(ctx: CheckContext) -> CheckResult:
        ok = pattern.search(ctx.output) is not None
        return result("regex", ok, "" if ok else f"no match for /{value}/")

    return run


def extract_json(text: str) -> Any:
    """The JSON in an output: the whole text, else a fenced block, else the first {...}/[...]."""
    span = _structure.json_span(text)
    if span is None:
        raise ValueError("no JSON found")
    return span[2]


@check("is-json", reads="raw")
def is_json(*, strict: bool = False) -> CheckFn:
    """The output is JSON (`strict: true`: nothing but JSON)."""

    def run(ctx: CheckContext) -> CheckResult:
        try:
            json.loads(ctx.output) if strict else extract_json(ctx.output)
        except (ValueError, json.JSONDecodeError) as exc:
            return result("is-json", False, f"not JSON: {exc}")
        return result("is-json", True)

    return run


@check("json-schema", reads="raw")
def json_schema(value: dict[str, Any] | str, *, strict: bool = False) -> CheckFn:
    """The output's JSON validates against a JSON Schema (inline, or a file path);
    `strict: true` asks for nothing but JSON (else the JSON is found in the text)."""
    import jsonschema

    schema = value
    if isinstance(value, str):
        # A schema file is read (inside the project) and inlined when its suite loads
        # (suite.py): a check never opens a path itself.
        raise ValueError(
            f"'{value}' names a schema file: name it in the suite file's own checks, "
            "or give the schema itself"
        )
    validator_cls = jsonschema.validators.validator_for(schema)
    try:
        validator_cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"invalid JSON Schema: {exc.message}") from None
    validator = validator_cls(schema)

    def run(ctx: CheckContext) -> CheckResult:
        try:
            data = json.loads(ctx.output) if strict else extract_json(ctx.output)
        except ValueError:
            return result("json-schema", False, "not JSON")
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.path) or "(root)"
            return result("json-schema", False, f"{where}: {e.message}")
        return result("json-schema", True)

    return run


def _bounds(name: str, measure: Any, unit: str) -> Any:
    def factory(min: int | None = None, max: int | None = None) -> CheckFn:
        if min is None and max is None:
            raise ValueError("give min, max or both")

        def run(ctx: CheckContext) -> CheckResult:
            n = measure(ctx.output)
            ok = (min is None or n >= min) and (max is None or n <= max)
            return result(
                name,
                ok,
                ""
                if ok
                else f"{n} {unit}, expected "
                + (
                    f"{min}–{max}"
                    if min is not None and max is not None
                    else f"≥ {min}"
                    if min is not None
                    else f"≤ {max}"
                ),
            )

        return run

    factory.__doc__ = f"The output's length in {unit} is within `min` and `max`."
    return factory


length = check("length", reads="raw")(_bounds("length", lambda s: len(s.strip()), "characters"))
word_count = check("word-count", reads="raw")(
    _bounds("word-count", lambda s: len(s.split()), "words")
)


@check("levenshtein")
def levenshtein(
    value: Any = _MISSING, *, threshold: int | None = None, similarity: float | None = None
) -> CheckFn:
    """Edit distance to the value ≤ `threshold` (default 5), or similarity ≥ `similarity`."""

    def run(ctx: CheckContext) -> CheckResult:
        target = str(_target(value, ctx))
        out = ctx.output.strip()
        d = levenshtein_distance(out, target)
        sim = 1 - d / max(len(out), len(target), 1)
        ok = sim >= similarity if similarity is not None else d <= (threshold or 5)
        return result("levenshtein", ok, f"distance {d}, similarity {sim:.2f}", sim)

    return run


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F-measure on lower-cased word tokens."""
    c, r = candidate.lower().split(), reference.lower().split()
    if not c or not r:
        return float(c == r)
    prev = [0] * (len(r) + 1)
    for wc in c:
        cur = [0]
        for j, wr in enumerate(r, 1):
            cur.append(prev[j - 1] + 1 if wc == wr else max(prev[j], cur[j - 1]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(c), lcs / len(r)
    return 2 * p * rec / (p + rec)


@check("rouge-l")
def rouge(value: Any = _MISSING, *, threshold: float = 0.5) -> CheckFn:
    """ROUGE-L F1 of the output against the reference (default: expected) reaches `threshold`."""

    def run(ctx: CheckContext) -> CheckResult:
        score = max(rouge_l(ctx.output, t) for t in _as_list(_target(value, ctx)))
        return result("rouge-l", score >= threshold, f"ROUGE-L {score:.2f}", score)

    return run


@check("python", reads="raw")
def python(value: str, *, threshold: float = 1.0) -> CheckFn:
    """A Python function `module.path:function` or `file.py:function`, called with
    (output, context); it returns a bool, a score in [0, 1], or a (score, reason) pair."""
    import sys

    target, sep, attr = value.rpartition(":")
    if not sep or not target or not attr:
        raise ValueError("write path/to/file.py:function or package.module:function")
    if target.split(".")[0] in sys.stdlib_module_names:
        # `os:system` would run the model's output as a shell command.
        raise ValueError(f"'{target}' is a module of Python itself: name your own function")
    if target.endswith(".py"):
        spec = importlib.util.spec_from_file_location(Path(target).stem, target)
        if spec is None or spec.loader is None or not Path(target).is_file():
            raise ValueError(f"file not found: {target}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"{target} has no function {attr}")

    def run(ctx: CheckContext) -> CheckResult:
        out = fn(ctx.output, ctx)
        reason = ""
        if isinstance(out, tuple):
            out, reason = out
        score = float(out)
        return result("python", score >= threshold, str(reason), score)

    return run


@check("latency", reads="raw")
def latency(max_ms: float) -> CheckFn:
    """The call took at most `max_ms` milliseconds."""

    def run(ctx: CheckContext) -> CheckResult:
        if ctx.latency_s is None:
            return result("latency", False, "latency unknown")
        ms = ctx.latency_s * 1000
        return result("latency", ms <= max_ms, f"{ms:.0f} ms (limit {max_ms:.0f})")

    return run


@check("cost", reads="raw")
def cost(max_usd: float) -> CheckFn:
    """The call cost at most `max_usd` dollars (unknown cost fails)."""

    def run(ctx: CheckContext) -> CheckResult:
        if ctx.cost is None:
            return result("cost", False, "cost unknown (no price for this model)")
        return result("cost", ctx.cost <= max_usd, f"${ctx.cost:.6f} (limit ${max_usd})")

    return run
