"""A promptfoo config written in JavaScript or TypeScript, read as promptfoo reads it: the
object the module exports.

The module runs in the embedded JavaScript engine (`prompteur[js]`): bounded in time and
memory, with no modules, files or network. A config that is an object literal (the common
case: `module.exports = {...}`, `export default {...}`, a typed `const config: UnifiedConfig`)
converts like its YAML twin; one that needs a module (`require('fs')`, an `import` of a
package) is refused with the engine's reason. TypeScript is read by dropping its type-only
syntax (`prompteur.code.strip_types`); anything more is a syntax error, said as such. A
function inside the config (a callback, a prompt function) cannot be written to YAML: it is
kept as a `{"$function": source}` marker, which the converter lists as not converted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ...code import TS_SUFFIXES, strip_types
from ...errors import UserError

JS_CONFIG_SUFFIXES = {".js", ".cjs", ".mjs", ".ts", ".mts", ".cts"}
FUNCTION_MARK = "$function"
_IMPORT_DEFAULT = re.compile(
    r"^\s*import\s+(\w+)\s*(?:,\s*\{[^}]*\})?\s+from\s+(['\"][^'\"]+['\"])\s*;?", re.M
)
_IMPORT_STAR = re.compile(r"^\s*import\s+\*\s+as\s+(\w+)\s+from\s+(['\"][^'\"]+['\"])\s*;?", re.M)
_IMPORT_NAMED = re.compile(r"^\s*import\s+\{([^}]*)\}\s+from\s+(['\"][^'\"]+['\"])\s*;?", re.M)
_IMPORT_BARE = re.compile(r"^\s*import\s+(['\"][^'\"]+['\"])\s*;?", re.M)
_EXPORT_DEFAULT = re.compile(r"^(\s*)export\s+default\s+", re.M)
_EXPORT_NAMED = re.compile(r"^(\s*)export\s+(?=(?:async\s+)?function|const|let|var|class)", re.M)


def _named_import(m: re.Match[str]) -> str:
    names = [n.strip() for n in m.group(1).split(",") if n.strip()]
    names = [n for n in names if not n.startswith("type ")]
    if not names:
        return ""
    binds = ", ".join(n.replace(" as ", ": ") for n in names)
    return f"var {{{binds}}} = require({m.group(2)});"


def module_script(source: str, typescript: bool) -> str:
    """The module as a function body that returns its export (functions marked)."""
    code = strip_types(source) if typescript else source
    code = _IMPORT_STAR.sub(lambda m: f"var {m.group(1)} = require({m.group(2)});", code)
    code = _IMPORT_DEFAULT.sub(lambda m: f"var {m.group(1)} = require({m.group(2)});", code)
    code = _IMPORT_NAMED.sub(_named_import, code)
    code = _IMPORT_BARE.sub(lambda m: f"require({m.group(1)});", code)
    code = _EXPORT_DEFAULT.sub(r"\1module.exports = ", code)
    code = _EXPORT_NAMED.sub(r"\1", code)
    mark = json.dumps(FUNCTION_MARK)
    return (
        "var module = {exports: {}}; var exports = module.exports;\n"
        f"(function (module, exports) {{\n{code}\n}})(module, exports);\n"
        "var c = module.exports;\n"
        "if (typeof c === 'function') { c = c(); }\n"
        "return Promise.resolve(c).then(function (v) {\n"
        "  return JSON.parse(JSON.stringify(v === undefined ? null : v, function (k, x) {\n"
        f"    if (typeof x === 'function') {{ var o = {{}}; o[{mark}] = String(x).slice(0, 200);"
        " return o; }\n"
        "    return x;\n"
        "  }));\n"
        "});\n"
    )


def load_js_config(path: Path, text: str) -> Any:
    """The object a JavaScript or TypeScript config exports (UserError naming the file)."""
    from ...code import JS_EXTRA, CodeError, call_sync, javascript_available

    if not javascript_available():
        raise UserError(
            "a promptfoo config written in JavaScript or TypeScript is read by running it in "
            "the embedded JavaScript engine, which is not installed",
            file=path,
            hint=f"{JS_EXTRA}, or export the config as YAML",
        )
    try:
        return call_sync(
            "javascript",
            code=module_script(text, path.suffix in TS_SUFFIXES),
            params=[],
            args=[],
            cwd=path.parent,
            timeout=10.0,
        )
    except CodeError as exc:
        raise UserError(
            f"the config's JavaScript could not run without modules, files or network: {exc}",
            file=path,
            hint="export the config as YAML (promptfoo's config is the object the file exports)",
        ) from None


def is_function(value: Any) -> bool:
    return isinstance(value, dict) and FUNCTION_MARK in value and len(value) == 1


def holds_function(value: Any, depth: int = 0) -> bool:
    """A function marker anywhere inside a value (a mapping of callbacks, say)."""
    if is_function(value):
        return True
    if depth > 50:
        return False
    if isinstance(value, dict):
        return any(holds_function(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(holds_function(v, depth + 1) for v in value)
    return False
