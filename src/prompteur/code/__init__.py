"""Code that comes with a project — promptfoo assertions, transforms, custom providers — run
bounded, out of prompteur's process.

Each call starts a child process (`_worker.py`) that runs one function and answers in JSON:
Python code under an address-space limit, JavaScript in an embedded V8 engine (the optional
`mini-racer` package: `pip install 'prompteur[js]'`) with a heap limit and no modules, files
or network. The parent kills the child at its timeout and refuses an answer over 1 MB. So a
hung or greedy script fails its own check, and never the run, the server or the store.

This bounds what the code can take (time, memory, output); it is no security sandbox for
Python: a Python script runs with the user's rights, exactly as it would under promptfoo.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, Literal

from ._typescript import TS_SUFFIXES, strip_types

Language = Literal["python", "javascript"]
DEFAULT_TIMEOUT = 30.0
MAX_ANSWER_BYTES = 1_100_000
JS_EXTRA = "pip install 'prompteur[js]'"
_WORKER = str(Path(__file__).with_name("_worker.py"))


class CodeError(Exception):
    """The code failed, timed out, or answered something unreadable; the message says which."""


def javascript_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("py_mini_racer") is not None


async def call(
    language: Language,
    *,
    args: list[Any],
    file: str | Path | None = None,
    function: str | None = None,
    code: str | None = None,
    params: list[str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Any:
    """Call a function in a child process and return its JSON-able result.

    Python: `file` + `function`, or `code` (a script that defines `function`).
    JavaScript: `file` (+ `function`, else the module's export; a TypeScript file has its
    type-only syntax dropped), or `code` (a function body taking `params`, by default
    `output, context`)."""
    if language == "javascript" and not javascript_available():
        raise CodeError(f"JavaScript needs the embedded engine: {JS_EXTRA}")
    request = {
        "language": language,
        "file": str(file) if file is not None else None,
        "function": function,
        "code": code,
        "params": params or ["output", "context"],
        "args": args,
        "cwd": str(cwd) if cwd is not None else None,
        "timeout": timeout,
    }
    payload = json.dumps(request, ensure_ascii=False, default=str).encode()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",
        _WORKER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(payload), timeout + 5)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise CodeError(f"timed out after {timeout:g} s") from None
    except asyncio.CancelledError:
        proc.kill()
        raise
    if len(out) > MAX_ANSWER_BYTES:
        raise CodeError("the answer is over 1 MB")
    try:
        answer = json.loads(out.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise CodeError(f"the code's process failed: {tail[0][:300]}") from None
    if not answer.get("ok"):
        raise CodeError(str(answer.get("error", "failed")))
    return answer.get("value")


def call_sync(language: Language, **kwargs: Any) -> Any:
    """`call` from synchronous code, even under a running event loop (a template filter
    called while a prompt renders inside the runner)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call(language, **kwargs))
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call(language, **kwargs)).result()


__all__ = [
    "DEFAULT_TIMEOUT",
    "JS_EXTRA",
    "TS_SUFFIXES",
    "CodeError",
    "call",
    "call_sync",
    "javascript_available",
    "strip_types",
]
