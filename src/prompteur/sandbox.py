"""A Jinja2 sandbox that counts: every render is bounded in time, steps and size.

Jinja's own sandbox stops a template from reaching Python internals, not from spending the
machine: nested loops, `~` doubling, a format padding of 10⁹ or a recursive macro each take
seconds to minutes and gigabytes. This environment keeps a budget per render
(`limits.render_seconds`, `render_steps`, `render_chars`) and spends it

- at every loop iteration (each `for` iterable is wrapped, recursive loops included),
- at every call (macros, methods, `caller()`, globals) and every filter,
- on every piece of text produced: outputs, `~`, `+`, captured blocks and the final join,

refusing *before* allocating where an operation announces its size (`'x' * n`, widths in
`%`-formats and `.format`, `center`, `ljust`, `indent`, `batch`, `replace`, `join`) and right
after it where it does not. A refusal is a `BudgetExceeded` (a `SecurityError`), which
`prompt.py` reports as a `UserError` naming the template line.
"""

from __future__ import annotations

import contextlib
import contextvars
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.ext import Extension
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SandboxedFormatter, SecurityError

from . import limits


class BudgetExceeded(SecurityError):
    """A render went past one of its bounds."""


@dataclass
class Budget:
    """What one render may still spend."""

    deadline: float
    steps: int
    chars: int
    bounds: limits.Limits = field(default_factory=limits.current)
    # Time a render may spend waiting on code run out of process (custom filters): bounded
    # apart, so that a child's start-up on a busy machine does not count as template time.
    child_seconds: float = 10.0

    @classmethod
    def start(cls, bounds: limits.Limits | None = None) -> Budget:
        b = bounds or limits.current()
        return cls(time.monotonic() + b.render_seconds, b.render_steps, b.render_chars, b)

    def tick(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise BudgetExceeded(
                f"more than {self.bounds.render_steps:,} loop iterations and calls"
            )
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"rendering took more than {self.bounds.render_seconds:g} s")

    def child(self, seconds: float) -> None:
        """`seconds` spent in a bounded child process: moved from the render's own clock to
        the children's allowance."""
        self.deadline += seconds
        self.child_seconds -= seconds

    def size(self, n: int, what: str = "text") -> None:
        """Refuse a value of `n` characters (or items) before or after it is made."""
        if n > self.bounds.render_chars:
            raise BudgetExceeded(
                f"{what} of {n:,} characters (the limit is {self.bounds.render_chars:,})"
            )

    def items(self, n: int, what: str = "a collection") -> None:
        """Refuse a list, dict or set of `n` items: each costs tens of bytes, so the bound is
        a tenth of the text limit."""
        bound = self.bounds.render_chars // 10
        if n > bound:
            raise BudgetExceeded(f"{what} of {n:,} items (the limit is {bound:,})")

    def produce(self, n: int) -> None:
        """Count `n` characters of output toward the whole render's total."""
        self.chars -= n
        if self.chars < 0:
            raise BudgetExceeded(
                f"the rendered text passes {self.bounds.render_chars:,} characters"
            )


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "prompteur_render_budget", default=None
)


def budget() -> Budget:
    """The budget of the render under way; a template run outside `rendering()` gets a fresh
    one per step, so nothing runs unbounded."""
    current = _budget.get()
    if current is None:
        current = Budget.start()
        _budget.set(current)
    return current


@contextlib.contextmanager
def rendering(bounds: limits.Limits | None = None) -> Iterator[Budget]:
    """A fresh budget for one render."""
    token = _budget.set(Budget.start(bounds))
    try:
        yield _budget.get()  # type: ignore[misc]
    finally:
        _budget.reset(token)


def _length(value: Any) -> int | None:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return None


def _check_size(value: Any, n: int, what: str) -> None:
    if isinstance(value, str | bytes):
        budget().size(n, what)
    else:
        budget().items(n, what)


def _check_result(value: Any, what: str) -> Any:
    n = _length(value)
    if n is not None:
        _check_size(value, n, what)
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_int(value)
    return value


def _check_int(value: int) -> None:
    # A big integer is as costly as a long string (and `str()` of one is quadratic).
    if value.bit_length() > 4 * budget().bounds.render_chars:
        raise BudgetExceeded("an integer too large")


# ---- sizes announced before the work -----------------------------------------------------

_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_SPEC_NUMBERS = re.compile(r"\d+")


def _check_printf(fmt: str, args: Any) -> None:
    b = budget()
    star = False
    for m in _PRINTF.finditer(fmt):
        for part in m.groups():
            if part == "*":
                star = True
            elif part:
                b.size(int(part), "a format width")
    if star:
        values = args if isinstance(args, tuple) else (args,)
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool):
                b.size(abs(v), "a format width")


def _check_spec(spec: str) -> None:
    for number in _SPEC_NUMBERS.findall(spec):
        budget().size(int(number), "a format width")


class _SpecProbe(SandboxedFormatter):
    """Resolves a `.format` call's fields like the sandbox does, checking each field's final
    spec (nested `{}` widths included) and producing nothing."""

    def format_field(self, value: Any, format_spec: str) -> str:
        _check_spec(format_spec)
        # Unpadded: a nested field (`{:>{}}`) must give its value to the outer spec, which
        # is checked in turn; a top-level field's text is thrown away.
        return super().format_field(value, "")


def _int_arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> int:
    value = args[index] if len(args) > index else kwargs.get(name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _lines(text: Any) -> int:
    return str(text).count("\n") + 1


def _replace_size(s: Any, old: Any, new: Any, count: Any = -1) -> int:
    s, old, new = str(s), str(old), str(new)
    hits = len(s) + 1 if old == "" else s.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * (len(new) - len(old))


def _joined(sep: Any, iterable: Any) -> list[Any]:
    """The items of a join, collected one by one while the joined size is counted: refused
    as soon as the text would pass the limit, before the rest is even made."""
    b = budget()
    gap = len(str(sep))
    total = 0
    items = []
    for item in iterable:
        b.tick()
        total += len(str(item)) + (gap if items else 0)
        b.size(total, "a joined text")
        items.append(item)
    return items


def _counted(iterable: Any) -> Any:
    """A generator's items as they come, their sizes counted: a filter that collects them
    (list, sort, unique, sum…) cannot gather more than the limit. Containers that already
    exist pass unchanged (iterating them makes nothing new)."""
    if not isinstance(iterable, Iterator):
        return iterable

    def gen() -> Iterator[Any]:
        b = budget()
        total = 0
        for item in iterable:
            b.tick()
            total += _length(item) or 1
            b.size(total, "the items gathered by a filter")
            yield item

    return gen()


# str methods whose result size is known from their arguments: (self, args, kwargs) → size
_STR_METHODS: dict[str, Callable[[str, tuple[Any, ...], dict[str, Any]], int]] = {
    "ljust": lambda s, a, k: _int_arg(a, k, 0, "width"),
    "rjust": lambda s, a, k: _int_arg(a, k, 0, "width"),
    "center": lambda s, a, k: _int_arg(a, k, 0, "width"),
    "zfill": lambda s, a, k: _int_arg(a, k, 0, "width"),
    "expandtabs": lambda s, a, k: len(s) * max(1, _int_arg(a, k, 0, "tabsize")),
    "replace": lambda s, a, k: _replace_size(s, *a[:3]) if len(a) >= 2 else 0,
}

# filters whose result size is known from their arguments: (value, args, kwargs) → size
_FILTER_SIZES: dict[str, Callable[[Any, tuple[Any, ...], dict[str, Any]], int]] = {
    "center": lambda v, a, k: _int_arg(a, k, 0, "width"),
    "indent": lambda v, a, k: (
        len(str(v))
        + _lines(v) * (len(a[0]) if a and isinstance(a[0], str) else _int_arg(a, k, 0, "width"))
    ),
    "replace": lambda v, a, k: _replace_size(v, *a[:3]) if len(a) >= 2 else 0,
    "batch": lambda v, a, k: _int_arg(a, k, 0, "linecount"),
    "slice": lambda v, a, k: _int_arg(a, k, 0, "slices"),
    "wordwrap": lambda v, a, k: len(str(v)) * (1 + len(str(k.get("wrapstring") or ""))),
}

# Filters that walk their input in Python, slowly (seconds per megabyte), in one step that no
# tick can interrupt: their input is capped at a tenth of the text limit.
_SLOW_FILTERS = frozenset({"wordwrap", "urlize", "pprint", "title", "wordcount"})


# ---- the environment ---------------------------------------------------------------------


class _Bounds(Extension):
    """Holds what the rewritten templates call (reached as `environment.extensions[…]`)."""

    @staticmethod
    def iterate(iterable: Any) -> Iterator[Any]:
        b = budget()
        for item in iterable:
            b.tick()
            yield item

    @staticmethod
    def tick() -> str:
        budget().tick()
        return ""


_BOUNDS_ID = _Bounds.identifier


def _bounds_call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    return nodes.Call(
        nodes.ExtensionAttribute(_BOUNDS_ID, name, lineno=lineno),
        args,
        [],
        None,
        None,
        lineno=lineno,
    )


class _CodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # `a ~ b`: counted like any other text the template builds.
        self.write("environment.join_strings((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class CountingSandbox(SandboxedEnvironment):
    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        options.setdefault("extensions", [])
        options["extensions"] = [*options["extensions"], _Bounds]
        super().__init__(**options)
        # Lorem ipsum has no place in a prompt, and lipsum(n) loops n times unbounded.
        self.globals.pop("lipsum", None)
        self.binop_table = {**self.binop_table, "*": operator.mul, "**": operator.pow}
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    # -- parsing: every loop spends the budget, item by item and turn by turn --
    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        _check_shape(self, source, name, filename)
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = _bounds_call("iterate", [loop.iter], loop.lineno)
            # A statement, not an output: the loop's text stays exactly as written.
            loop.body.insert(0, nodes.ExprStmt(_bounds_call("tick", [], loop.lineno)))
        return tree

    # -- text --
    @staticmethod
    def concat(parts: Iterable[Any]) -> str:  # type: ignore[override]
        b = budget()
        out: list[str] = []
        total = 0
        for part in parts:
            text = str(part)
            total += len(text)
            b.size(total, "the rendered text")
            out.append(text)
        return "".join(out)

    @staticmethod
    def join_strings(parts: Iterable[Any]) -> str:
        b = budget()
        text = "".join(map(str, parts))
        b.size(len(text), "a text built with ~")
        b.produce(len(text))
        return text

    # -- operators --
    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        b = budget()
        b.tick()
        if op == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise BudgetExceeded("exponent too large")
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                b.size(left.bit_length() * right // 4, "an integer")
        elif op == "*":
            for a, n in ((left, right), (right, left)):
                if isinstance(n, int) and not isinstance(n, bool):
                    size = _length(a)
                    if size is not None:
                        _check_size(a, size * n, "a repeated value")
            if isinstance(left, int) and isinstance(right, int):
                b.size((left.bit_length() + right.bit_length()) // 4, "an integer")
        elif op == "%" and isinstance(left, str):
            _check_printf(left, right)
        elif op == "+":
            sizes = (_length(left), _length(right))
            if sizes[0] is not None and sizes[1] is not None:
                _check_size(left, sizes[0] + sizes[1], "a value built with +")
        return _check_result(super().call_binop(context, op, left, right), "a value")

    # -- calls: macros, methods, caller(), loop(…) of recursive loops --
    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        b = budget()
        b.tick()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str) and name in _STR_METHODS:
            b.size(_STR_METHODS[name](owner, args, kwargs), f"the result of {name}()")
        elif isinstance(owner, str) and name == "join" and args:
            args = (_joined(owner, args[0]), *args[1:])
        elif isinstance(__obj, LoopContext) and args:
            args = (_Bounds.iterate(args[0]), *args[1:])
        result = SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)
        if owner is not None:
            n = _length(owner)
            if n is not None:
                _check_size(owner, n, "a value grown in place")
        return _check_result(result, "a value")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__
        mapping = value.__name__ == "format_map"
        probe = _SpecProbe(self)

        def checked(*args: Any, **kwargs: Any) -> str:
            budget().tick()
            if mapping and args:
                probe.vformat(fmt, (), args[0])
            else:
                probe.vformat(fmt, args, kwargs)
            return _check_result(wrapped(*args, **kwargs), "a formatted text")

        return checked


# The shape of a template, checked on its tokens before the parser and the compiler recurse
# into it (both take seconds, then fail, on a sum of 50,000 terms or 3,000 nested ifs).
MAX_TAG_TOKENS = 2_000
MAX_NESTING = 100
_OPEN = {"lparen", "lbracket", "lbrace"}
_CLOSE = {"rparen", "rbracket", "rbrace"}
_BLOCKS = {"if", "for", "macro", "call", "filter", "with", "block", "autoescape", "trans"}


def _check_shape(env: Any, source: str, name: str | None, filename: str | None) -> None:
    def refuse(what: str, line: int) -> None:
        from jinja2 import TemplateSyntaxError

        raise TemplateSyntaxError(what, line, name, filename)

    in_tag = tokens = brackets = blocks = 0
    keyword: str | None = None
    assigns = False
    for token in env._tokenize(source, name, filename):
        kind = token.type
        if kind in ("block_begin", "variable_begin"):
            in_tag, tokens, keyword, assigns = 1, 0, None, False
            continue
        if kind in ("block_end", "variable_end"):
            if keyword in _BLOCKS or (keyword == "set" and not assigns):
                blocks += 1
                if blocks > MAX_NESTING:
                    refuse(f"blocks nested more than {MAX_NESTING} deep", token.lineno)
            elif keyword and keyword.startswith("end"):
                blocks = max(0, blocks - 1)
            in_tag = 0
            continue
        if not in_tag:
            continue
        tokens += 1
        if tokens > MAX_TAG_TOKENS:
            refuse(f"an expression of more than {MAX_TAG_TOKENS:,} tokens", token.lineno)
        if keyword is None and kind == "name":
            keyword = token.value
        elif kind == "assign":
            assigns = True
        if kind in _OPEN:
            brackets += 1
            if brackets > MAX_NESTING:
                refuse(f"brackets nested more than {MAX_NESTING} deep", token.lineno)
        elif kind in _CLOSE:
            brackets = max(0, brackets - 1)


def _bounded_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with its budget: a tick, the announced size checked first, the result after."""
    from jinja2.utils import _PassArg

    pass_arg = _PassArg.from_obj(fn)
    presize = _FILTER_SIZES.get(name)

    def bounded(*args: Any, **kwargs: Any) -> Any:
        b = budget()
        b.tick()
        head = args[:1] if pass_arg is not None else ()  # the context/env comes first
        rest = args[len(head) :]
        if name == "format" and rest:
            _check_printf(str(rest[0]), tuple(rest[1:]) or tuple(kwargs.values()))
        elif name == "join" and rest:
            items = _joined(rest[1] if len(rest) > 1 else kwargs.get("d", ""), rest[0])
            rest = (items, *rest[1:])
        elif presize is not None and rest:
            b.size(presize(rest[0], tuple(rest[1:]), kwargs), f"the result of |{name}")
        if rest and isinstance(rest[0], Iterator):
            rest = (_counted(rest[0]), *rest[1:])
        args = (*head, *rest)
        if name in _SLOW_FILTERS and rest:
            n = _length(rest[0])
            if n is not None and n * 10 > b.bounds.render_chars:
                raise BudgetExceeded(
                    f"|{name} of {n:,} characters or items (the limit is "
                    f"{b.bounds.render_chars // 10:,})"
                )
        result = fn(*args, **kwargs)
        if isinstance(result, Sized) and not isinstance(result, Iterator):
            _check_result(result, f"the result of |{name}")
        return result

    if pass_arg is not None:
        bounded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    bounded.__name__ = getattr(fn, "__name__", name)
    bounded.__doc__ = fn.__doc__
    return bounded
