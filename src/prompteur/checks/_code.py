"""Checks written as code, the way promptfoo runs them: `javascript` and `python-script`.

`value` is inline code — an expression (`output.length < 50`), or a function body with
`return` — or `file` (+ `function`) names a file. The code gets `output` and `context`
(`vars`, `prompt`, `test`, `provider`, `config`) and returns a bool, a score, or
`{pass, score, reason}`; a score passes when ≥ `threshold`, or > 0 without one.

The code runs out of process, bounded in time, memory and output (`prompteur.code`): Python
in a child interpreter, JavaScript in an embedded V8 engine (`pip install 'prompteur[js]'`).
`transform:` on any check (JavaScript, or a `file` ending in `.py`) rewrites the output
before the check reads it, as promptfoo's transforms do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ._base import CheckContext, CheckFn, CheckResult, check, result

_PY_INDENT = re.compile(r"^(?!\s*$)\s+", re.M)


def script_context(ctx: CheckContext, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """promptfoo's assertion context, from what prompteur knows of the result."""
    out: dict[str, Any] = {
        "vars": dict(ctx.inputs),
        "prompt": ctx.prompt,
        "test": {"vars": dict(ctx.inputs)},
        "provider": {"id": ctx.model} if ctx.model else None,
        "logProbs": None,
    }
    if config:
        out["config"] = config
    return out


def python_script(code: str) -> str:
    """promptfoo's wrapper of inline Python: one line is returned, several are a body."""
    if "\n" not in code:
        return f"import json\n\ndef main(output, context):\n    return {code}\n"
    m = _PY_INDENT.search(code)
    indent = m.group(0) if m else "    "
    body = "\n".join(f"{indent}{line}" for line in code.split("\n"))
    return f"import json\n\ndef main(output, context):\n{body}\n"


def javascript_body(code: str) -> str:
    """promptfoo's inline JavaScript: one line is an expression (declarations before it are
    kept), several lines are a function body."""
    code = code.rstrip()
    if "\n" in code:
        return code
    trimmed = re.sub(r";+\s*$", "", code.strip())
    if re.match(r"^(const|let|var)\s", trimmed):
        last = _last_statement_end(trimmed)
        if last != -1 and trimmed[last + 1 :].strip():
            return f"{trimmed[: last + 1]} return {trimmed[last + 1 :].strip()}"
        return trimmed
    return f"return {trimmed}"


def _last_statement_end(code: str) -> int:
    """Index of the last `;` outside strings and brackets."""
    depth, quote, last, i = 0, "", -1, 0
    while i < len(code):
        c = code[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ";" and depth == 0:
            last = i
        i += 1
    return last


def _language_of(file: str | None, default: str) -> str:
    return "python" if file and file.endswith(".py") else default


async def run_script(
    language: str,
    *,
    code: str | None,
    file: str | None,
    function: str | None,
    args: list[Any],
    timeout: float,
) -> Any:
    from ..code import call

    language = _language_of(file, language)
    if file is not None:
        return await call(
            language,  # type: ignore[arg-type]
            file=str(Path(file).resolve()),
            function=function,
            args=args,
            timeout=timeout,
        )
    assert code is not None
    if language == "python":
        return await call(
            "python", code=python_script(code), function="main", args=args, timeout=timeout
        )
    return await call("javascript", code=javascript_body(code), args=args, timeout=timeout)


def grade(name: str, out: Any, threshold: float | None) -> CheckResult:
    """A script's answer as a result, with promptfoo's rules (bool, number, JSON, object)."""
    if isinstance(out, str):
        low = out.strip().lower()
        if low in ("true", "false"):
            out = low == "true"
        elif out.strip().startswith("{"):
            try:
                out = json.loads(out)
            except json.JSONDecodeError:
                return result(name, False, f"the code returned text that is not JSON: {out[:80]!r}")
        else:
            try:
                out = float(out)
            except ValueError:
                return result(name, False, f"the code returned {out[:80]!r}, not a verdict")
    if isinstance(out, bool):
        return result(name, out, "" if out else "the code returned false")
    if isinstance(out, int | float):
        score = float(out)
        ok = score >= threshold if threshold is not None else score > 0
        return result(name, ok, f"score {score:g}", min(1.0, max(0.0, score)))
    if isinstance(out, dict) and ("pass" in out or "pass_" in out or "score" in out):
        passed = out.get("pass", out.get("pass_"))
        score = out.get("score")
        score = float(score) if isinstance(score, int | float) else float(bool(passed))
        ok = bool(passed) if passed is not None else score > 0
        if threshold is not None and score < threshold:
            ok = False
        return result(name, ok, str(out.get("reason") or ""), min(1.0, max(0.0, score)))
    shown = json.dumps(out, default=str)[:80]
    return result(name, False, f"the code must return a bool, a score or {{pass, score}}: {shown}")


def _script_check(name: str, language: str) -> Any:
    def factory(
        value: str | None = None,
        *,
        file: str | None = None,
        function: str | None = None,
        threshold: float | None = None,
        config: dict[str, Any] | None = None,
        timeout: float = 30.0,
    ) -> CheckFn:
        if (value is None) == (file is None):
            raise ValueError("give the code as `value`, or a `file`")
        if file is not None and not Path(file).is_file():
            raise ValueError(f"file not found: {file}")
        if file is not None and function is None and _language_of(file, language) == "python":
            raise ValueError("name the Python `function` to call")

        async def run(ctx: CheckContext) -> CheckResult:
            from ..code import CodeError

            output = ctx.output if ctx.transformed is None else ctx.transformed
            try:
                out = await run_script(
                    language,
                    code=value,
                    file=file,
                    function=function,
                    args=[output, script_context(ctx, config)],
                    timeout=timeout,
                )
            except CodeError as exc:
                return result(name, False, f"the code failed: {exc}")
            return grade(name, out, threshold)

        return run

    return factory


javascript_check = check("javascript")(_script_check("javascript", "javascript"))
python_script_check = check("python-script")(_script_check("python-script", "python"))


async def apply_transform(spec: Any, ctx: CheckContext) -> Any:
    """The output after one transform: inline JavaScript, or {file, function} (JS or .py)."""
    output = ctx.output if ctx.transformed is None else ctx.transformed
    context = {"vars": dict(ctx.inputs), "prompt": {"label": ""}}
    if isinstance(spec, dict):
        file = str(spec["file"])
        language = _language_of(file, "javascript")
        function = spec.get("function") or ("get_transform" if language == "python" else None)
        return await run_script(
            language, code=None, file=file, function=function, args=[output, context], timeout=30
        )
    from ..code import call

    code = str(spec)
    body = code if "\n" in code else f"return {code}"
    return await call(
        "javascript", code=body, params=["output", "context"], args=[output, context], timeout=30
    )
