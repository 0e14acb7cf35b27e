"""Nunjucks, as promptfoo renders it, on top of Jinja2's sandbox.

promptfoo renders prompts, vars and assertion values with Nunjucks (a JavaScript port of
Jinja2). The syntax is the same; what differs is JavaScript's view of values, and that is what
this flavour reproduces: `true` / `false`, `1` for 1.0, `""` for null and for an undefined
variable, `a,b` for an array, `[object Object]` for an object; `obj.items` reads the key
`items` of a mapping (not the method); `.length` of a string or array; `{% for k, v in obj %}`
over a mapping's pairs; and promptfoo's filters: `dump` (JSON.stringify), `load` (JSON.parse),
plus Nunjucks's `nl2br`, and `join` / `string` with JavaScript's stringification.

A prompt file asks for it with `template: {format: nunjucks, parser: promptfoo}` (or
`promptfoo-chat`) in its front matter (files converted from
promptfoo do); `render_string` renders a template once, without the prompt machinery.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

_FLOAT_EXP = re.compile(r"e([+-])0*(\d)")


def js_number(value: float) -> str:
    """A number as JavaScript's String() writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, _, exp = text.partition("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mantissa.removesuffix('.0')}e{sign}{int(exp.lstrip('+-'))}"
    return text


def js_str(value: Any) -> str:
    """JavaScript's String(value), as Nunjucks prints it (null and undefined print nothing)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return js_number(value)
    if isinstance(value, list | tuple):
        return ",".join("" if v is None else js_str(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        return ""
    return str(value)


def _plain(value: Any) -> Any:
    """JSON-ready data with JavaScript's number forms (1.0 is 1)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def js_stringify(value: Any, indent: int | str | None = None) -> str:
    """JSON.stringify(value, null, indent)."""
    from jinja2 import Undefined

    if isinstance(value, Undefined) or (value is None and indent == "undefined"):
        return ""
    if isinstance(indent, int) and indent > 0:
        return json.dumps(_plain(value), ensure_ascii=False, indent=min(indent, 10))
    if isinstance(indent, str) and indent:
        return json.dumps(_plain(value), ensure_ascii=False, indent=indent[:10])
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def _load(text: Any) -> Any:
    try:
        return json.loads(js_str(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"load: not JSON: {exc.msg}") from None


def _join(value: Any, sep: str = "", attribute: str | None = None) -> str:
    items = list(value or [])
    if attribute is not None:
        items = [i.get(attribute) if isinstance(i, Mapping) else None for i in items]
    return js_str(sep).join("" if i is None else js_str(i) for i in items)


def _nl2br(value: Any) -> str:
    return re.sub(r"\r\n|\n", "<br />\n", js_str(value))


def _pairs(value: Any) -> Any:
    """`{% for k, v in obj %}`: Nunjucks walks a mapping's pairs; lists stay lists."""
    return list(value.items()) if isinstance(value, Mapping) else value


FILTERS: dict[str, Callable[..., Any]] = {
    "dump": js_stringify,
    "load": _load,
    "join": _join,
    "string": js_str,
    "nl2br": _nl2br,
    "_pairs": _pairs,
}

# `{% for k, v in obj %}` → `{% for k, v in obj | _pairs %}`; `===` / `!==` are Nunjucks's.
_FOR_PAIRS = re.compile(r"(\{%-?\s*for\s+\w+\s*,\s*\w+\s+in\s+)(.+?)(\s*-?%\})", re.S)
_STRICT_EQ = re.compile(r"(\{[{%][^}]*?)(===|!==)")


def translate(template: str) -> str:
    """Nunjucks syntax Jinja2 reads differently, rewritten to what Jinja2 means by it."""
    template = _FOR_PAIRS.sub(
        lambda m: f"{m.group(1)}({m.group(2)}) | _pairs{m.group(3)}", template
    )
    while True:
        new = _STRICT_EQ.sub(lambda m: m.group(1) + m.group(2)[:2], template)
        if new == template:
            return template
        template = new


def environment_class() -> type:
    """prompteur's bounded sandbox (sandbox.py) with Nunjucks's view of attributes."""
    from .sandbox import CountingSandbox

    class NunjucksEnvironment(CountingSandbox):
        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, Mapping):
                if attribute in obj:
                    return obj[attribute]
                return self.undefined(obj=obj, name=attribute)
            if attribute == "length" and isinstance(obj, str | list | tuple):
                return len(obj)
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            if isinstance(obj, list | tuple | str) and argument == "length":
                return len(obj)
            return super().getitem(obj, argument)

    return NunjucksEnvironment


def code_filters(
    spec: Mapping[str, Any], resolve: Callable[[str], Any]
) -> dict[str, Callable[..., Any]]:
    """Custom filters written in JavaScript (promptfoo's `nunjucksFilters`): `{name: file.js}`,
    the module's export. `resolve` finds a file inside the project. Each call runs out of
    process, in the embedded engine, without files or network, bounded (`prompteur.code`);
    a failure is a template error. (JavaScript only: a prompt, which the web interface may
    edit, must not be able to name Python code to run.)"""
    out: dict[str, Callable[..., Any]] = {}
    for name, ref in spec.items():
        path = resolve(str(ref).removeprefix("file://"))
        if path.suffix not in (".js", ".cjs", ".mjs"):
            raise ValueError(f"filter {name}: a custom filter is a JavaScript file")

        def run(*args: Any, _path: Any = path, _name: str = str(name)) -> Any:
            import time

            from .code import CodeError, call_sync
            from .sandbox import BudgetExceeded, budget

            b = budget()
            b.tick()
            if b.child_seconds <= 0:
                raise BudgetExceeded("custom filters ran for more than 10 s in one render")
            plain = [a if isinstance(a, str) else _plain(a) for a in args]
            start = time.monotonic()
            try:
                return call_sync(
                    "javascript", file=str(_path), args=plain, timeout=min(10, b.child_seconds)
                )
            except CodeError as exc:
                raise ValueError(f"filter {_name} failed: {exc}") from None
            finally:
                b.child(time.monotonic() - start)

        out[str(name)] = run
    return out


def configure(env: Any) -> Any:
    """promptfoo's filters, each spending the render's budget like the built-in ones."""
    from .sandbox import _bounded_filter

    env.filters.update({name: _bounded_filter(name, fn) for name, fn in FILTERS.items()})
    return env


_PLAIN_ENV: Any = None


def _plain_env() -> Any:
    global _PLAIN_ENV
    from jinja2 import ChainableUndefined

    if _PLAIN_ENV is None:
        env = environment_class()(
            undefined=ChainableUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=js_str,
        )
        _PLAIN_ENV = configure(env)
    return _PLAIN_ENV


def check_syntax(template: str, filters: Collection[str] = ()) -> None:
    """Raises ValueError when the template does not compile (unknown filter, bad tag);
    `filters` names custom filters that will be there."""
    from jinja2 import TemplateError

    env = _plain_env()
    if filters:
        env = env.overlay()
        env.filters.update({name: _plain for name in filters})
    try:
        env.compile(translate(template))
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from None


def render_string(template: str, variables: Mapping[str, Any]) -> str:
    """Render a Nunjucks template once, as promptfoo's `nunjucks.renderString` would.

    Raises ValueError for a template that does not parse or fails to render."""
    from jinja2 import TemplateError

    from .sandbox import rendering

    try:
        with rendering():
            return _plain_env().from_string(translate(template)).render(dict(variables))
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from None
    except (TypeError, ArithmeticError, LookupError, AttributeError, RecursionError) as exc:
        raise ValueError(f"template failed: {exc}") from None


# ---- chat prompts rendered first, parsed after --------------------------------------------

CHAT_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def text_content(content: Any, where: str = "content") -> str:
    """A message's content as text: a string, or content parts that are all text (joined by
    newlines, which is how a chat model reads consecutive text parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and part.get("type") in ("text", "input_text"):
                texts.append(js_str(part.get("text")))
            elif isinstance(part, Mapping) and "type" not in part and set(part) == {"text"}:
                texts.append(js_str(part["text"]))  # Bedrock's and Gemini's text parts
            elif isinstance(part, Mapping) and part.get("modality") == "text":
                texts.append(js_str(part.get("value")))  # Adaline's
            else:
                kind = (
                    part.get("type") or part.get("modality") or next(iter(part), "empty")
                    if isinstance(part, Mapping)
                    else type(part).__name__
                )
                raise ValueError(f"{where}[{i}] is a '{kind}' part: only text parts are supported")
        return "\n".join(texts)
    if content is None:
        return ""
    raise ValueError(f"{where} must be text or a list of text parts")


def _escape_in_strings(text: str, open_: str, close: str) -> str:
    """Input values that land inside a JSON string are escaped as JSON, so a value holding a
    quote stays data (it can neither break the JSON nor add a message); values written
    outside strings (`{{ messages | dump }}`) stay as they are."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == open_:
            end = text.find(close, i + 1)
            end = len(text) if end < 0 else end
            value = text[i + 1 : end]
            out.append(json.dumps(value, ensure_ascii=False)[1:-1] if in_string else value)
            i = end + 1
            continue
        if c == "\\" and in_string:
            out.append(text[i : i + 2])
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        out.append(c)
        i += 1
    return "".join(out)


def chat_messages(rendered: str, open_: str = "", close: str = "") -> list[tuple[str, str]] | None:
    """(role, content) pairs from a rendered chat prompt (a JSON array of messages, or a YAML
    list starting with `- role:`), as promptfoo's chat providers parse it; None when the text
    is not a chat (it is then one user message)."""
    text = _escape_in_strings(rendered, open_, close) if open_ else rendered
    stripped = text.strip()
    data: Any
    if stripped.startswith("- role:"):
        import yaml

        try:
            data = yaml.safe_load(stripped)
        except yaml.YAMLError as exc:
            raise ValueError(f"the rendered chat is not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            if stripped[:1] in "[{":
                raise ValueError(f"the rendered chat is not valid JSON: {exc.msg}") from None
            return None
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        return None
    out = []
    for i, m in enumerate(data):
        if not isinstance(m, Mapping) or "role" not in m:
            raise ValueError(f"message {i} has no role")
        role = CHAT_ROLES.get(str(m["role"]).lower())
        if role is None:
            raise ValueError(f"message {i}: role '{m['role']}' is not supported")
        out.append((role, text_content(m.get("content"), f"message {i} content")))
    return out
