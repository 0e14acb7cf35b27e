"""TypeScript read as JavaScript by dropping its type-only syntax, as a type-stripping loader
does: `import type` lines, type annotations on declarations and on the parameters and result of
a function, `satisfies T`, `as const`, and `interface` / `type` declarations on their own
lines. What is left must be JavaScript: anything else TypeScript-only (enums, decorators,
`as T` casts) stays, and the engine then reports a syntax error, never a silent change.
"""

from __future__ import annotations

import re

TS_SUFFIXES = {".ts", ".mts", ".cts"}
_TYPE = r"[\w.$]+(?:<[^<>;{}()]*(?:<[^<>;{}()]*>[^<>;{}()]*)*>)?(?:\[\])*"
_UNION = rf"{_TYPE}(?:\s*[|&]\s*{_TYPE})*"
_IMPORT_TYPE = re.compile(r"^\s*import\s+type\s[^;\n]*;?[ \t]*$", re.M)
_IMPORT_BRACES = re.compile(r"^(\s*import\s*\{)([^}]*)(\}\s*from\s*['\"][^'\"]+['\"]\s*;?)", re.M)
_DECLARATION = re.compile(rf"\b(const|let|var)\s+(\w+)\s*:\s*{_UNION}\s*=(?!=)")
_SATISFIES = re.compile(rf"\s+satisfies\s+{_UNION}")
_AS_CONST = re.compile(r"\s+as\s+const\b")
_TYPE_DECL = re.compile(
    r"^[ \t]*(?:export\s+)?(?:interface\s+\w+[^{\n]*\{[^{}]*\}|type\s+\w+\s*=[^;\n]*;?)[ \t]*$",
    re.M,
)
# A parameter list (one line, no nested parentheses) followed by a body or an arrow.
_SIGNATURE = re.compile(
    rf"(\bfunction\b\s*\*?\s*\w*\s*|\b\w+\s*)?\(([^()\n]*)\)(\s*:\s*{_UNION})?(\s*(?:\{{|=>))"
)
_PARAM = re.compile(rf"^(\s*\.{{0,3}}\w+)\s*\??\s*:\s*{_UNION}(\s*(?:=.*)?)$", re.S)


def _split_params(text: str) -> list[str]:
    """A parameter list split on its top-level commas (not those inside <…>, {…} or […])."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<{[":
            depth += 1
        elif ch in ">}]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _signature(m: re.Match[str]) -> str:
    head, params, result, tail = m.group(1) or "", m.group(2), m.group(3), m.group(4)
    if not result and ":" not in params:
        return m.group(0)
    if head.strip() in ("if", "for", "while", "switch", "catch", "return"):
        return m.group(0)
    stripped = []
    for p in _split_params(params):
        pm = _PARAM.match(p)
        stripped.append(pm.group(1) + pm.group(2) if pm else p)
    return f"{head}({','.join(stripped)}){tail}"


def _import_values(m: re.Match[str]) -> str:
    names = [n for n in m.group(2).split(",") if n.strip() and not n.strip().startswith("type ")]
    if not names:  # only types: nothing is imported
        return ""
    return m.group(1) + ",".join(names) + m.group(3)


def strip_types(source: str) -> str:
    """TypeScript source as JavaScript (its type-only syntax removed)."""
    code = _IMPORT_TYPE.sub("", source)
    code = _IMPORT_BRACES.sub(_import_values, code)
    code = _TYPE_DECL.sub("", code)
    code = _DECLARATION.sub(r"\1 \2 =", code)
    code = _SATISFIES.sub("", code)
    code = _AS_CONST.sub("", code)
    return _SIGNATURE.sub(_signature, code)
