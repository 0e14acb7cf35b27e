"""The child process of `prompteur.code`: one request in (JSON on stdin), one answer out.

Run as `python -m prompteur.code._worker`. Python code runs here under an address-space limit;
JavaScript runs in an embedded V8 (mini-racer) with its own time and heap limits, without
`require`, files or network. The parent kills this process when it runs past its timeout.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import re
import sys
from typing import Any

from prompteur.code._typescript import TS_SUFFIXES, strip_types

MAX_ANSWER = 1_000_000  # characters of JSON sent back
PY_MEMORY = 2 * 1024**3
JS_MEMORY = 256 * 1024**2


def _python(req: dict[str, Any]) -> Any:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (PY_MEMORY, PY_MEMORY))
    except (ImportError, ValueError, OSError):  # not on this platform, or already lower
        pass
    if req.get("file"):
        path = req["file"]
        folder = os.path.dirname(os.path.abspath(path))
        sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location("promptfoo_user_code", path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fn = getattr(module, req["function"], None)
        if not callable(fn):
            raise ValueError(f"{os.path.basename(path)} has no function {req['function']}")
    else:
        scope: dict[str, Any] = {"__name__": "promptfoo_inline"}
        exec(compile(req["code"], "<inline>", "exec"), scope)
        fn = scope[req["function"]]
    out = fn(*req.get("args", []))
    if inspect.isawaitable(out):
        out = asyncio.run(_await(out))
    return out


async def _await(awaitable: Any) -> Any:
    return await awaitable


_EXPORT_DEFAULT = re.compile(r"^\s*export\s+default\s+", re.M)
_EXPORT_NAMED = re.compile(
    r"^\s*export\s+(async\s+function|function|const|let|var|class)\s+(\w+)", re.M
)


_NO_MODULES = (
    "var require = function (name) { throw new Error('require(' + name + ') is not available: "
    "the embedded JavaScript engine has no modules, files or network'); };\n"
    "var process = {env: {}, mainModule: {require: require}};\n"
)


def _module_source(code: str) -> str:
    """A CommonJS or simple ES module as a script: `module.exports` is what it exports."""
    names = [m.group(2) for m in _EXPORT_NAMED.finditer(code)]
    code = _EXPORT_NAMED.sub(lambda m: f"{m.group(1)} {m.group(2)}", code)
    code = _EXPORT_DEFAULT.sub("module.exports.default = ", code)
    tail = "".join(f"\nmodule.exports.{n} = {n};" for n in names)
    return (
        "var module = {exports: {}}; var exports = module.exports;\n"
        f"(function (module, exports) {{\n{code}{tail}\n}})(module, exports);\n"
    )


def _javascript(req: dict[str, Any]) -> Any:
    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    ctx.set_hard_memory_limit(JS_MEMORY)
    timeout = float(req.get("timeout", 10))
    ctx.eval(_NO_MODULES)
    if req.get("file") is not None:
        with open(req["file"], encoding="utf-8") as fh:
            source = fh.read()
        if os.path.splitext(req["file"])[1] in TS_SUFFIXES:
            source = strip_types(source)
        ctx.eval(_module_source(source), timeout_sec=timeout)
        fn = req.get("function")
        pick = (
            f"module.exports[{json.dumps(fn)}]"
            if fn
            else "(typeof module.exports === 'function' ? module.exports : module.exports.default)"
        )
        ctx.eval(f"var __fn = {pick};", timeout_sec=timeout)
    else:
        params = ", ".join(json.dumps(p) for p in req.get("params", ["output", "context"]))
        ctx.eval(f"var __fn = new Function({params}, {json.dumps(req['code'])});")
    ctx.eval("if (typeof __fn !== 'function') throw new Error('no function to call');")
    args = json.dumps(req.get("args", []))
    promise = ctx.eval(
        f"Promise.resolve(__fn.apply(null, {args})).then("
        "function (r) { return JSON.stringify(r === undefined ? null : r); })",
        timeout_sec=timeout,
    )
    text = promise.get(timeout=timeout)
    return json.loads(text)


def main() -> None:
    req = json.loads(sys.stdin.read())
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # the user's prints must not corrupt the answer
    try:
        if req.get("cwd"):
            os.chdir(req["cwd"])
        value = _javascript(req) if req["language"] == "javascript" else _python(req)
        answer = json.dumps({"ok": True, "value": value}, ensure_ascii=False, default=str)
    except BaseException as exc:  # the parent reports it as the code's error
        kind = type(exc).__name__
        text = str(exc)
        if kind.startswith("JS"):  # V8's message: the error line, without its stack
            lines = [ln for ln in text.splitlines() if "Error" in ln] or text.splitlines()[:1]
            text = lines[0].split(": ", 1)[-1] if lines else text
            kind = "JavaScript error"
        answer = json.dumps({"ok": False, "error": f"{kind}: {text}"[:2000]})
    if len(answer) > MAX_ANSWER:
        answer = json.dumps({"ok": False, "error": f"the answer is over {MAX_ANSWER} characters"})
    real_stdout.write(answer)
    real_stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's teardown: V8's threads can hang it once the answer is out.
    os._exit(0)


if __name__ == "__main__":
    main()
