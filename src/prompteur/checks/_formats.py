"""Checks of the output's form: `is-sql` (parsed by sqlglot) and `is-valid-openai-tools-call`
(tool calls validated against the tools' JSON Schemas)."""

from __future__ import annotations

import json
from typing import Any

from ._base import CheckContext, CheckFn, CheckResult, check, result
from ._deterministic import extract_json

_DIALECTS = {
    "mysql": "mysql",
    "postgresql": "postgres",
    "postgres": "postgres",
    "sqlite": "sqlite",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "transactsql": "tsql",
    "tsql": "tsql",
    "mariadb": "mysql",
    "redshift": "redshift",
    "hive": "hive",
    "db2": None,
    "flinksql": None,
}


def _allowed(items: Any) -> set[tuple[str, str]]:
    """promptfoo's `select::null::users` (operation, name) pairs; a bare name allows all."""
    out = set()
    for item in items or []:
        parts = str(item).lower().split("::")
        out.add((parts[0] if len(parts) > 1 else "*", parts[-1]))
    return out


@check("is-sql")
def is_sql(value: Any = None, *, find: bool = False) -> CheckFn:
    """The output is SQL that parses (`value.databaseType`: MySQL by default, as promptfoo);
    `value.allowedTables` / `allowedColumns` list what it may touch."""
    import sqlglot
    from sqlglot import exp

    options = value if isinstance(value, dict) else {}
    db = str(options.get("databaseType") or "MySQL").lower()
    if db not in _DIALECTS:
        raise ValueError(f"unknown databaseType {options.get('databaseType')!r}")
    dialect = _DIALECTS[db]
    tables = _allowed(options.get("allowedTables"))
    columns = _allowed(options.get("allowedColumns"))
    statements = (
        exp.Query,
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Create,
        exp.Drop,
        exp.Alter,
        exp.Merge,
        exp.Command,
        exp.Use,
    )

    def run(ctx: CheckContext) -> CheckResult:
        text = ctx.output.strip()
        if find and "```" in text:
            text = text.split("```", 2)[1].removeprefix("sql").strip()
        try:
            parsed = [e for e in sqlglot.parse(text, read=dialect) if e is not None]
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
            return result("is-sql", False, f"not valid SQL: {str(exc).splitlines()[0][:120]}")
        if not parsed or not all(isinstance(e, statements) for e in parsed):
            return result("is-sql", False, "not an SQL statement")
        for e in parsed:
            op = e.key.lower()
            for t in e.find_all(exp.Table):
                name = t.name.lower()
                if tables and not ({(op, name), ("*", name)} & tables):
                    return result("is-sql", False, f"table {t.name} is not allowed ({op})")
            for c in e.find_all(exp.Column):
                name = c.name.lower()
                if columns and not ({(op, name), ("*", name)} & columns):
                    return result("is-sql", False, f"column {c.name} is not allowed ({op})")
        return result("is-sql", True)

    return run


def _calls(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, dict) and isinstance(data.get("tool_calls"), list):
        data = data["tool_calls"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        return None
    return data


@check("is-valid-openai-tools-call", reads="raw")
def tools_call(
    value: Any = None, *, tools: list[dict[str, Any]] | None = None, function_call: bool = False
) -> CheckFn:
    """The output is tool calls (`[{type: function, function: {name, arguments}}]`, or
    `{tool_calls: [...]}`) naming tools of `tools` (OpenAI's format) with arguments that
    validate against each tool's `parameters` schema."""
    import jsonschema

    known: dict[str, Any] = {}
    for tool in tools or (value if isinstance(value, list) else []) or []:
        fn = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise ValueError("each tool needs function.name")
        known[fn["name"]] = fn.get("parameters") or {"type": "object"}
    if not known:
        raise ValueError("give the tools the calls must match (`tools:`, OpenAI's format)")

    def run(ctx: CheckContext) -> CheckResult:
        try:
            data = ctx.transformed if ctx.transformed is not None else extract_json(ctx.output)
        except ValueError:
            return result("is-valid-openai-tools-call", False, "no JSON tool call in the output")
        calls = _calls(data)
        if not calls:
            return result("is-valid-openai-tools-call", False, "not a list of tool calls")
        for call in calls:
            fn = call.get("function", call) if not function_call else call
            name = fn.get("name") if isinstance(fn, dict) else None
            if name not in known:
                return result("is-valid-openai-tools-call", False, f"unknown tool {name!r}")
            args = fn.get("arguments", {})
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except json.JSONDecodeError:
                    return result(
                        "is-valid-openai-tools-call", False, f"{name}: arguments are not JSON"
                    )
            errors = list(jsonschema.Draft202012Validator(known[name]).iter_errors(args))
            if errors:
                return result(
                    "is-valid-openai-tools-call", False, f"{name}: {errors[0].message[:120]}"
                )
        return result("is-valid-openai-tools-call", True)

    return run
