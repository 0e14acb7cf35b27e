"""The converter: one promptfoo config in, prompt files, one suite (and a probe plan) out.

It follows promptfoo's own evaluator: tests from inline entries, files and globs; `scenarios`
crossed with their tests; `defaultTest` merged into every test; list-valued vars expanded
into every combination; `file://` vars read as promptfoo reads them at render time; vars that
reference vars resolved; assertion values rendered with the test's vars.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from ...errors import UserError
from ...nunjucks import check_syntax, js_str, render_string
from ...yamlfile import LineMap, dotted, load_yaml
from . import _assertions, _files, _jsconfig, _prompts, _providers
from ._result import Conversion, Unsupported

_VAR_REF = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass
class Test:
    """One promptfoo test, merged with defaultTest, before its vars are expanded."""

    vars: dict[str, Any]
    asserts: list[tuple[str, Any]]  # (where, assertion)
    options: dict[str, Any]
    description: str | None
    where: str
    metadata: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    base: Path | None = None  # where its file:// vars are relative to


class _Dumper(yaml.SafeDumper):
    """YAML that stays readable: strings with line breaks are written quoted ("\\n")."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if any(c in value for c in "\n\r\t") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:40].strip("-") or "prompt"


def _kind(values: list[Any]) -> str:
    kinds = set()
    for v in values:
        if isinstance(v, bool):
            kinds.add("boolean")
        elif isinstance(v, int):
            kinds.add("integer")
        elif isinstance(v, float):
            kinds.add("number")
        elif isinstance(v, list):
            kinds.add("array")
        elif isinstance(v, dict):
            kinds.add("object")
        else:
            kinds.add("string")
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 else "string"


def _input(values: list[Any]) -> dict[str, Any]:
    """An input's declaration from its values; an array says its elements' kind (Prompty
    needs `items`)."""
    kind = _kind(values)
    spec: dict[str, Any] = {"kind": kind}
    if kind == "array":
        spec["items"] = _input([e for v in values for e in v] or [""])
    return spec


_ROLE_LINE = re.compile(r"^\s*#?\s*([A-Za-z_][\w-]*)\s*:\s*$")


def _protect(text: str) -> str:
    """Lines that our files would read as role markers, kept as text."""
    from ...prompt import FOREIGN_ROLES, ROLES, close_role

    out = []
    for line in text.split("\n"):
        m = _ROLE_LINE.match(line)
        if m:
            word = m.group(1).lower()
            if word in ROLES or word in FOREIGN_ROLES or close_role(word):
                line = "{{ " + json.dumps(line) + " }}"
        out.append(line)
    return "\n".join(out)


def _short(item: Any) -> str:
    text = item if isinstance(item, str) else json.dumps(item, default=str)
    text = " ".join(text.split())
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def resolve_variables(variables: dict[str, Any]) -> dict[str, Any]:
    """promptfoo's resolveVariables: `{{ name }}` inside a var's text replaced by that var,
    up to five passes."""
    for _ in range(5):
        changed = False
        for key, value in list(variables.items()):
            if not isinstance(value, str):
                continue
            m = _VAR_REF.search(value)
            if m and variables.get(m.group(1)) is not None:
                variables[key] = value.replace(m.group(0), js_str(variables[m.group(1)]), 1)
                changed = True
        if not changed:
            break
    return variables


class Converter:
    TOP_KEYS: ClassVar[set[str]] = {
        "description",
        "prompts",
        "providers",
        "targets",
        "tests",
        "defaultTest",
        "scenarios",
        "evaluateOptions",
        "redteam",
        "assertionTemplates",
        "derivedMetrics",
    }
    IGNORED_TOP: ClassVar[set[str]] = {
        "sharing",
        "outputPath",
        "outputs",
        "writeLatestResults",
        "tags",
        "$schema",
        "metadata",
        "commandLineOptions",
        "tracing",
    }

    def __init__(self, config: Path, out: Path, name: str | None) -> None:
        self.config = config
        self.base = config.parent
        self.out = out
        self.result = Conversion()
        text = self._read(config)
        self.program = config.suffix in _jsconfig.JS_CONFIG_SUFFIXES
        if self.program:
            data = _jsconfig.load_js_config(config, text)
            self.lines = LineMap({}, 0)  # no YAML lines: places are named by their path
        else:
            data, self.lines = load_yaml(text, config)
        if not isinstance(data, dict):
            raise UserError("a promptfoo config must be a YAML mapping", file=config, line=1)
        try:
            self.data = _files.dereference(data)
        except Unsupported as exc:
            raise UserError(str(exc), file=config) from None
        default_name = (
            config.stem
            if not config.stem.startswith("promptfooconfig")
            else (config.parent.name + config.stem.removeprefix("promptfooconfig"))
        )
        self.name = slug(name or default_name)
        self.ctx = _assertions.Ctx(
            base=self.base, judge_of=self.judge_of, stage=lambda p: self.stage(p)[1]
        )
        self.notes: list[str] = []
        self.default_judge_used = False
        self.staged_note = False

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UserError("promptfoo config not found", file=path) from None
        except UnicodeDecodeError:
            raise UserError("not valid UTF-8 text", file=path) from None

    def stage(self, target: Path, beside: str = "suites") -> tuple[Path, str]:
        """Copy a code file of the config into the project (beside the suite — or the
        prompts — under NAME_files/; a Python file with the Python files of its folder, which
        it may import): importing a config imports its code. Gives the copy and its path from
        the file that names it (a file names files inside its own folder or project)."""
        target = target.resolve()
        base = self.base.resolve()
        folder = self.out / beside / f"{self.name}_files"
        siblings = [target]
        if target.suffix == ".py":
            siblings += sorted(p for p in target.parent.glob("*.py") if p != target)
        for src in siblings:
            try:
                rel = src.relative_to(base)
            except ValueError:
                rel = Path(src.name)
            dest = folder / rel
            if dest not in self.result.files:
                self.result.files[dest] = _files.read_text(src)
        try:
            rel = target.relative_to(base)
        except ValueError:
            rel = Path(target.name)
        if not self.staged_note:
            self.staged_note = True
            self.notes.append(
                f"the config's code was copied into {beside}/{self.name}_files/: the suite runs "
                "it (out of process, bounded) — read it before you run the suite"
            )
        return folder / rel, f"{self.name}_files/{rel.as_posix()}"

    def where(self, *loc: str | int) -> str:
        if self.program:
            return f"{self.config.name} {dotted(loc)}".rstrip()
        return f"{self.config.name}:{self.lines.line(loc)} {dotted(loc)}".rstrip()

    def skip(self, where: str, what: str, why: str) -> None:
        from ._result import Skipped

        self.result.skipped.append(Skipped(where, what, why))

    # -- top level --------------------------------------------------------------------------
    def run(self) -> Conversion:
        for key in self.data:
            if key in self.TOP_KEYS or key in self.IGNORED_TOP:
                continue
            if key == "nunjucksFilters":
                continue
            why = {
                "extensions": "extension hooks run JavaScript or Python around the whole eval",
                "env": "environment variables are set in your shell, not in prompteur files",
            }.get(key, "no equivalent in a prompteur suite")
            self.skip(self.where(key), key, why)
        if "derivedMetrics" in self.data:
            self.skip(
                self.where("derivedMetrics"),
                "derivedMetrics",
                "formulas over named metrics: prompteur reports each check (and metric) on its "
                "own, without formulas across them",
            )
        self.filters = self.custom_filters()
        prompts = self.prompts()
        models, params = self.providers()
        tests = self.tests()
        redteam = self.data.get("redteam")
        if not prompts:
            if redteam is not None and self._targets_only():
                prompts = [_prompts.Prompt("", "{{prompt}}", self.where("redteam"))]
                self.notes.append(
                    "redteam: the target is sent the attack as it is ({{prompt}}), as "
                    "promptfoo does when a config has no prompts"
                )
            else:
                raise UserError(
                    "no prompt could be converted",
                    file=self.config,
                    field="prompts",
                    hint=self._why(),
                )
        cases = self.cases(tests, prompts)
        if redteam is not None:
            from ._redteam import convert_redteam

            plan = convert_redteam(self, redteam, prompts, cases)
            cases = plan
        if not cases:
            raise UserError(
                "no test could be converted", file=self.config, field="tests", hint=self._why()
            )
        specs = [self.case_spec(c) for c in cases]
        self.write(prompts, models, params, specs)
        if self.default_judge_used:
            self.notes.append(
                "model-graded checks without a grader provider are judged by the project's "
                "default model (promptfoo's default grader is an OpenAI model): set judge: on "
                "the checks, or the project's default_model, to a capable model"
            )
        self.result.notes.extend(dict.fromkeys(self.notes + self.ctx.notes))
        # a test's gap is met once per case its vars expand into: said once
        self.result.skipped = list(dict.fromkeys(self.result.skipped))
        return self.result

    def _targets_only(self) -> bool:
        return "prompts" not in self.data

    def _why(self) -> str:
        return "; ".join(str(s) for s in self.result.skipped[-3:]) or "none given"

    # -- prompts ----------------------------------------------------------------------------
    def custom_filters(self) -> dict[str, Path]:
        """promptfoo's `nunjucksFilters`: name → a JavaScript (or Python) file."""
        raw = self.data.get("nunjucksFilters")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.skip(self.where("nunjucksFilters"), "nunjucksFilters", "must be a mapping")
            return {}
        out: dict[str, Path] = {}
        for name, ref in raw.items():
            where = self.where("nunjucksFilters", name)
            paths = _files.expand(self.base, str(ref)) if isinstance(ref, str) else []
            if not paths:
                self.skip(where, f"filter '{name}'", f"file not found: {ref}")
            elif paths[0].suffix not in (".js", ".cjs", ".mjs"):
                self.skip(where, f"filter '{name}'", "a custom filter is a JavaScript file")
            else:
                out[str(name)] = paths[0].resolve()
        if out:
            self.notes.append(
                "custom Nunjucks filters run as code, out of process, each time a prompt renders"
            )
        return out

    def prompts(self) -> list[_prompts.Prompt]:
        raw = self.data.get("prompts")
        if raw is None:
            return []
        if (
            isinstance(raw, str)
            and raw.startswith("file://")
            and Path(raw).suffix in (".yaml", ".yml", ".json")
            and not _files.has_glob(raw)
        ):
            try:
                loaded = _files.read_structured(self.base / _files.strip_file(raw))
            except Unsupported:
                loaded = None
            if (
                isinstance(loaded, list)
                and all(isinstance(x, str | dict) for x in loaded)
                and not any(isinstance(x, dict) and "role" in x for x in loaded)
            ):
                raw = loaded
        items: list[tuple[tuple[str | int, ...], Any]]
        if isinstance(raw, dict):  # {file://a.txt: label}
            items = [(("prompts", k), {"id": k, "label": v}) for k, v in raw.items()]
        elif isinstance(raw, list):
            items = [(("prompts", i), item) for i, item in enumerate(raw)]
        else:
            items = [(("prompts",), raw)]
        found: list[_prompts.Prompt] = []
        for loc, item in items:
            where = self.where(*loc)
            try:
                found.extend(_prompts.one(item, self.base, where))
            except Unsupported as exc:
                self.skip(where, f"prompt {_short(item)}", str(exc))
        ok = []
        for p in found:
            try:
                for body in [p.text_body] if p.chat is None else [t for _, t in p.chat]:
                    check_syntax(body, self.filters)
                ok.append(p)
            except ValueError as exc:
                self.skip(p.where, "prompt", f"the template does not parse: {exc}")
        return ok

    # -- providers --------------------------------------------------------------------------
    def _provider_items(self) -> list[tuple[tuple[str | int, ...], Any]]:
        key = "providers" if "providers" in self.data else "targets"
        raw = self.data.get(key)
        if raw is None:
            return []
        if isinstance(raw, str) and raw.startswith("file://"):
            try:
                raw = _files.read_structured(self.base / _files.strip_file(raw))
            except Unsupported as exc:
                self.skip(self.where(key), key, str(exc))
                return []
        if isinstance(raw, dict) and "id" not in raw:
            return [((key, k), {"id": k, **(v or {})}) for k, v in raw.items()]
        items = raw if isinstance(raw, list) else [raw]
        out: list[tuple[tuple[str | int, ...], Any]] = []
        for i, item in enumerate(items):
            loc: tuple[str | int, ...] = (key, i) if isinstance(raw, list) else (key,)
            if (
                isinstance(item, str)
                and item.startswith("file://")
                and Path(item).suffix in (".yaml", ".yml", ".json")
            ):
                try:
                    loaded = _files.read_structured(self.base / _files.strip_file(item))
                except Unsupported as exc:
                    self.skip(self.where(*loc), f"provider {item}", str(exc))
                    continue
                for sub in loaded if isinstance(loaded, list) else [loaded]:
                    out.append((loc, sub))
                continue
            if isinstance(item, dict) and "id" not in item and len(item) == 1:
                ((pf_id, body),) = item.items()  # {openai:gpt-4o: {config: …}}
                item = {"id": pf_id, **(body or {})}
            out.append((loc, item))
        return out

    def mapped(self, item: Any, where: str) -> _providers.Mapped:
        conf: dict[str, Any] = {}
        if isinstance(item, dict):
            pf_id = item.get("id")
            conf = item.get("config") or {}
        else:
            pf_id = item
        if not isinstance(pf_id, str):
            raise Unsupported("a provider must have an id")
        if not isinstance(conf, dict):
            raise Unsupported("config must be a mapping")
        if pf_id in ("http", "https") or pf_id.startswith(("http://", "https://")):
            if pf_id.startswith(("http://", "https://")):
                conf = {"url": pf_id, **conf}
            endpoint = _providers.http_endpoint(conf)
            return _providers.Mapped("", endpoint=endpoint)
        mapped = _providers.model_id(pf_id, conf, self.base)
        instructions = conf.get("instructions")
        if pf_id.startswith("openai:responses:") and isinstance(instructions, str):
            # The Responses API's system text, sent apart from the input: in chat
            # completions it is a system message before the prompt's messages.
            conf = {k: v for k, v in conf.items() if k != "instructions"}
        for key in ("tools", "functions", "toolConfig"):
            if isinstance(conf.get(key), str):  # promptfoo loads `tools: file://tools.yaml`
                conf = {**conf, key: _files.load_external(conf[key], self.base)}
        provider = mapped.model.partition(":")[0]
        params, left, notes = _providers.params_of(conf, provider)
        found = _providers.schema_in(conf)
        if found:
            key, mapped.schema = found
            notes.append(
                f"config.{key}: the JSON Schema is the prompt's output_schema, which the "
                "model is held to where its provider allows (enforce: true)"
            )
        if pf_id.startswith("openai:responses:") and isinstance(instructions, str):
            params["instructions"] = instructions
        mapped.params = params
        mapped.notes.extend(notes)
        mapped.left.extend((k, f"config.{k}", why) for k, why in left)
        if isinstance(item, dict):
            for k in item:
                if k in ("id", "config", "label", "delay"):
                    continue
                why = {
                    "prompts": "a provider limited to some prompts: every prompt runs on every "
                    "model in a suite",
                    "transform": "a provider-level output transform: put it on the checks",
                    "env": "environment variables are set in your shell",
                }.get(k, "provider key not converted")
                mapped.left.append((k, k, why))
        return mapped

    def providers(self) -> tuple[list[str], dict[str, Any]]:
        models: list[str] = []
        first: dict[str, Any] | None = None
        # (label, model, params, output schema)
        self.per_model: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = []
        self.schema: dict[str, Any] | None = None
        endpoints = 0
        for loc, item in self._provider_items():
            where = self.where(*loc)
            pf_id = item.get("id") if isinstance(item, dict) else item
            try:
                m = self.mapped(item, where)
            except Unsupported as exc:
                self.skip(
                    where, f"provider '{pf_id}'" if isinstance(pf_id, str) else "provider", str(exc)
                )
                continue
            if m.endpoint is not None:
                endpoints += 1
                label = item.get("label") if isinstance(item, dict) else None
                fname = f"{self.name}-{slug(label)}" if label else self.name
                if endpoints > 1 and not label:
                    fname = f"{self.name}-{endpoints}"
                path = (self.out / "endpoints" / f"{fname}.yaml").resolve()
                self.result.files[path] = (
                    f"# An HTTP endpoint imported from promptfoo ({self.config.name})\n"
                    + dump(m.endpoint)
                )
                m.model = f"http:{_assertions.display(path)}"
            if m.script is not None:
                staged, _ = self.stage(m.script)
                function = m.model.rpartition(":")[2]
                m.model = f"script:{_assertions.display(staged.resolve())}:{function}"
            for k, what, why in m.left:
                self.skip(
                    self.where(*loc, "config", k) if what.startswith("config.") else where,
                    what,
                    why,
                )
            self.notes.extend(m.notes)
            conf = item.get("config") if isinstance(item, dict) else None
            if self.ctx.tools is None and isinstance(conf, dict):
                tools = (m.params.get("extra") or {}).get("tools", conf.get("tools"))
                self.ctx.tools = tools if isinstance(tools, list) else None
            models.append(m.model)
            label = item.get("label") if isinstance(item, dict) else None
            self.per_model.append((str(label or m.model), m.model, m.params, m.schema))
            if first is None:
                first = m.params
                self.schema = m.schema
        # Providers asked for different outputs (text, some JSON, a schema) are as different
        # as providers with different parameters.
        if len({json.dumps([p, s], sort_keys=True) for _, _, p, s in self.per_model}) <= 1:
            self.per_model = []
        else:
            self.notes.append(
                "providers with different parameters: each prompt is written once per provider, "
                "with that provider's model and parameters (the suite runs each on its own model)"
            )
        return list(dict.fromkeys(models)), first or {}

    def judge_of(self, provider: Any) -> str | None:
        """Our judge model for a grader provider (None: the project's default)."""
        if provider is None:
            self.default_judge_used = True
            return None
        if isinstance(provider, dict) and "id" not in provider:
            provider = provider.get("text") or provider.get("chat")
            if provider is None:
                raise Unsupported("a grader given only for embeddings or classification")
        m = self.mapped(provider, "grader")
        if m.endpoint is not None:
            raise Unsupported("an HTTP endpoint as the grader")
        return m.model

    # -- tests ------------------------------------------------------------------------------
    def _default_test(self) -> dict[str, Any]:
        dt = self.data.get("defaultTest")
        if dt is None:
            return {}
        if isinstance(dt, str) and dt.startswith("file://"):
            try:
                dt = _files.read_structured(self.base / _files.strip_file(dt))
            except Unsupported as exc:
                self.skip(self.where("defaultTest"), "defaultTest", str(exc))
                return {}
        if not isinstance(dt, dict):
            self.skip(self.where("defaultTest"), "defaultTest", "must be a mapping")
            return {}
        dt = _files.load_external(dt, self.base)
        dt = dict(dt)
        dt["vars"] = self._vars_value(dt.get("vars"), self.base, self.where("defaultTest", "vars"))
        return dt

    def _vars_value(self, raw: Any, base: Path, where: str) -> dict[str, Any]:
        """`vars:` as a mapping, or file(s)/glob(s) of YAML mappings merged (readTestFiles)."""
        if raw is None:
            return {}
        if isinstance(raw, str | list) and not isinstance(raw, dict):
            refs = [raw] if isinstance(raw, str) else raw
            merged: dict[str, Any] = {}
            for ref in refs:
                if not isinstance(ref, str):
                    self.skip(where, "vars", "a list of vars files must hold paths")
                    continue
                paths = _files.expand(base, ref)
                if not paths:
                    self.skip(where, f"vars {ref}", "no file matches")
                for p in paths:
                    try:
                        data = _files.load_external(_files.read_structured(p), p.parent)
                    except Unsupported as exc:
                        self.skip(where, f"vars {p.name}", str(exc))
                        continue
                    if isinstance(data, dict):
                        merged.update(data)
                    else:
                        self.skip(where, f"vars {p.name}", "must be a mapping of names to values")
            return merged
        if not isinstance(raw, dict):
            self.skip(where, "vars", "must be a mapping of names to values")
            return {}
        return {str(k): v for k, v in raw.items()}

    def _test(
        self,
        item: dict[str, Any],
        where: str,
        base: Path,
        default: dict[str, Any],
        loc: tuple[str | int, ...] | None = None,
    ) -> Test:
        vars_ = {**default.get("vars", {}), **self._vars_value(item.get("vars"), base, where)}
        options = {**(default.get("options") or {}), **(item.get("options") or {})}
        asserts: list[tuple[str, Any]] = []
        if not options.get("disableDefaultAsserts"):
            asserts += [
                (f"{self.where('defaultTest', 'assert', i)}", a)
                for i, a in enumerate(default.get("assert") or [])
            ]
        asserts += [
            (self.where(*loc, "assert", j) if loc else f"{where} assert[{j}]", a)
            for j, a in enumerate(item.get("assert") or [])
        ]
        metadata = {**(default.get("metadata") or {}), **(item.get("metadata") or {})}
        threshold = item.get("threshold", default.get("threshold"))
        for k in item:
            if k in ("vars", "assert", "description", "options", "metadata", "threshold"):
                continue
            why = {
                "provider": "a test with its own provider: cases run on every model of the suite",
                "providers": "a test limited to some providers: cases run on every model",
                "prompts": "a test limited to some prompts: cases run on every prompt",
                "providerOutput": "a fixed output instead of a model call",
                "assertScoringFunction": "a custom scoring function over the assertions",
            }.get(k, "test key not converted")
            self.skip(f"{where} {k}", k, why)
        desc = item.get("description")
        return Test(
            vars_,
            asserts,
            options,
            str(desc) if desc else None,
            where,
            metadata,
            float(threshold) if isinstance(threshold, int | float) else None,
            base,
        )

    def _tests_from_file(
        self, ref: str, where: str, default: dict[str, Any], as_list_item: bool
    ) -> list[Test]:
        path_text, fn = _files.split_function(ref)
        if fn is not None or Path(path_text).suffix in _files.CODE_SUFFIXES:
            raise Unsupported("tests generated by code (a .py or .js file) are not converted")
        if path_text.startswith(("https://", "http://", "huggingface://", "az://")):
            raise Unsupported(
                "tests fetched from a remote source (Google Sheets, Hugging Face, "
                "Azure) are not converted: download them to a CSV file"
            )
        paths = _files.expand(self.base, path_text)
        if not paths:
            raise Unsupported(f"no file matches {path_text}")
        tests: list[Test] = []
        for p in paths:
            suffix = p.suffix.lower()
            if suffix == ".csv":
                tests.extend(self._csv(p, default))
                continue
            if suffix in (".xlsx", ".xls"):
                raise Unsupported("Excel tests files are not converted: save the sheet as CSV")
            if suffix == ".jsonl":
                rows = []
                for j, line in enumerate(_files.read_text(p).split("\n"), 1):
                    if line.strip():
                        try:
                            rows.append(json.loads(line))
                        except json.JSONDecodeError as exc:
                            raise Unsupported(f"{p.name}:{j}: malformed JSON: {exc.msg}") from None
            elif suffix in (".json", ".yaml", ".yml"):
                rows = _files.read_structured(p)
            else:
                raise Unsupported(f"tests in a {suffix} file")
            rows = _files.load_external(rows, p.parent)
            rows = _files.dereference(rows)
            rows = rows if isinstance(rows, list) else [rows]
            flat: list[str] = []
            for j, row in enumerate(rows):
                here = f"{p.name} [{j}]"
                if not isinstance(row, dict):
                    self.skip(here, "test", "must be a mapping")
                    continue
                keys = {
                    "vars",
                    "assert",
                    "options",
                    "metadata",
                    "provider",
                    "providerOutput",
                    "threshold",
                    "description",
                }
                if not (set(row) & keys - {"description"}):
                    # promptfoo 0.123 refuses such a row ("a test case must contain vars,
                    # assert…"); its keys are the row's variables, as a CSV row's columns.
                    flat.append(here)
                    desc = row.get("description") or f"Row #{j + 1}"
                    row = {
                        "vars": {k: v for k, v in row.items() if k != "description"},
                        "description": desc,
                    }
                tests.append(self._test(row, here, p.parent, default))
            if flat:
                self.notes.append(
                    f"{p.name}: {len(flat)} row(s) hold only variables, no vars: key; promptfoo "
                    "0.123 refuses such rows, older versions and CSV files read them as "
                    "variables, and so does this conversion"
                )
        return tests

    def _csv(self, path: Path, default: dict[str, Any]) -> list[Test]:
        tests = []
        text = _files.read_text(path)
        reader = csv.DictReader(io.StringIO(text))
        for idx, row in enumerate(reader, 1):
            where = f"{path.name}:{reader.line_num}"
            vars_: dict[str, Any] = {}
            asserts: list[Any] = []
            description = None
            metadata: dict[str, Any] = {}
            options: dict[str, Any] = {}
            threshold = None
            for col, cell in row.items():
                if col is None:
                    self.skip(where, "extra cells", "more cells than header columns")
                    continue
                col = col.strip()
                cell = cell or ""
                if col.startswith("__expected"):
                    if cell.strip():
                        asserts.append(_assertions.from_cell(cell.strip()))
                elif col == "__description":
                    description = cell
                elif col in ("__prefix", "__suffix"):
                    options[col[2:]] = cell
                elif col == "__threshold":
                    with contextlib.suppress(ValueError):
                        threshold = float(cell)
                elif col.startswith("__metadata:"):
                    key = col[11:]
                    if key.endswith("[]"):
                        if cell.strip():
                            metadata[key[:-2]] = [v.strip() for v in cell.split(",")]
                    elif cell.strip():
                        metadata[key] = cell
                elif col == "__metric":
                    if cell.strip():
                        asserts = [dict(a, metric=cell) for a in asserts]
                elif col.startswith("__"):
                    if cell.strip():
                        self.skip(f"{where} {col}", col, "CSV column not converted")
                else:
                    vars_[col] = cell
            item: dict[str, Any] = {
                "vars": vars_,
                "assert": asserts,
                "description": description or f"Row #{idx}",
            }
            if metadata:
                item["metadata"] = metadata
            if options:
                item["options"] = options
            if threshold is not None:
                item["threshold"] = threshold
            tests.append(self._test(item, where, path.parent, default))
        return tests

    def tests(self) -> list[Test]:
        default = self._default_test()
        for k in default:
            if k in ("vars", "assert", "options", "metadata", "threshold", "description"):
                continue
            self.skip(self.where("defaultTest", k), k, "defaultTest key not converted")
        raw = self.data.get("tests")
        tests: list[Test] = []
        if isinstance(raw, str):
            try:
                tests = self._tests_from_file(raw, self.where("tests"), default, False)
            except Unsupported as exc:
                self.skip(self.where("tests"), f"tests {raw}", str(exc))
        elif isinstance(raw, dict) and isinstance(raw.get("path"), str):
            try:
                tests = self._tests_from_file(raw["path"], self.where("tests"), default, False)
            except Unsupported as exc:
                self.skip(self.where("tests"), f"tests {raw['path']}", str(exc))
        elif isinstance(raw, list):
            for i, item in enumerate(raw):
                where = self.where("tests", i)
                try:
                    if isinstance(item, str):
                        tests.extend(self._tests_from_file(item, where, default, True))
                    elif isinstance(item, dict) and isinstance(item.get("path"), str):
                        tests.extend(self._tests_from_file(item["path"], where, default, False))
                    elif isinstance(item, dict):
                        tests.append(self._test(item, where, self.base, default, ("tests", i)))
                    else:
                        self.skip(where, "test", "must be a mapping or a file")
                except Unsupported as exc:
                    self.skip(where, f"test {_short(item)}", str(exc))
        elif raw is not None:
            self.skip(self.where("tests"), "tests", "must be a list or a file")
        tests.extend(self.scenarios(default))
        if not tests and raw is None and "scenarios" not in self.data:
            tests = [self._test({}, self.where(), self.base, default)]
        return tests

    def scenarios(self, default: dict[str, Any]) -> list[Test]:
        raw = self.data.get("scenarios")
        if raw is None:
            return []
        raw = _files.load_external(raw, self.base)
        out: list[Test] = []
        for s, scenario in enumerate(raw if isinstance(raw, list) else [raw]):
            where = self.where("scenarios", s)
            if isinstance(scenario, str):
                self.skip(where, "scenario", "a scenario must be a mapping (config, tests)")
                continue
            configs = scenario.get("config") or []
            tests = scenario.get("tests") or [{}]
            for c, data in enumerate(configs):
                data = data if isinstance(data, dict) else {}
                for t, test in enumerate(tests):
                    test = test if isinstance(test, dict) else {}
                    merged = {**data, **test}
                    merged["vars"] = {**(data.get("vars") or {}), **(test.get("vars") or {})}
                    merged["options"] = {
                        **(data.get("options") or {}),
                        **(test.get("options") or {}),
                    }
                    merged["assert"] = [*(data.get("assert") or []), *(test.get("assert") or [])]
                    out.append(
                        self._test(merged, f"{where} config[{c}] tests[{t}]", self.base, default)
                    )
        return out

    # -- cases ------------------------------------------------------------------------------
    def _combinations(self, variables: dict[str, Any], t: Test) -> list[dict[str, Any]]:
        """promptfoo's generateVarCombinations: lists of strings and file globs expand (unless
        the test says `disableVarExpansion`)."""
        if t.options.get("disableVarExpansion"):
            return [dict(variables)]
        combos: list[dict[str, Any]] = [{}]
        base = self.base
        for key, value in variables.items():
            if isinstance(value, str) and value.startswith("file://"):
                paths = _files.expand(base, value)
                values: list[Any] = [f"file://{p}" for p in paths] or [value]
            elif isinstance(value, list) and value and isinstance(value[0], str):
                values = value
            else:
                values = [value]
            combos = [{**c, key: v} for c in combos for v in values]
        return combos

    def _load_vars(self, combo: dict[str, Any], t: Test) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        base = self.base  # promptfoo reads file vars from the config's folder, wherever set
        for key, value in combo.items():
            if isinstance(value, str) and value.startswith("file://"):
                target = value[7:]
                try:
                    value = _files.var_from_file(
                        target, Path("/") if Path(target).is_absolute() else base
                    )
                except Unsupported as exc:
                    self.skip(f"{t.where} vars.{key}", f"var '{key}' = {value}", str(exc))
                    return None
            out[key] = value
        for key, value in out.items():
            if isinstance(value, str) and value.endswith("\n"):
                out[key] = value[:-1]
        return resolve_variables(out)

    def cases(self, tests: list[Test], prompts: list[_prompts.Prompt]) -> list[dict[str, Any]]:
        text_prompts = any(p.chat is None for p in prompts)
        chat_prompts = any(p.chat is not None for p in prompts)
        cases: list[dict[str, Any]] = []
        warned = False
        for t in tests:
            # promptfoo transforms a test's vars before it expands them (prepareTestVariables)
            for combo in self._combinations(self._transform_vars(t.vars, t), t):
                loaded = self._load_vars(combo, t)
                if loaded is None:
                    continue
                variables = loaded
                if text_prompts:
                    rendered = self._rendered_vars(variables)
                    if rendered != variables and chat_prompts and not warned:
                        warned = True
                        self.skip(
                            t.where,
                            "vars holding templates",
                            "promptfoo renders them "
                            "for text prompts but not for JSON chat prompts; the text "
                            "prompts' rendering was kept",
                        )
                    variables = rendered
                cases.append({"test": t, "vars": variables})
        return cases

    def _transform_vars(self, combo: dict[str, Any], t: Test) -> dict[str, Any]:
        """promptfoo's `options.transformVars` (applyInputTransform): JavaScript given the
        test's vars, whose answer is merged over them before the prompt renders. It runs here,
        once, in the embedded engine (no modules, files or network); the vars it computed are
        the case's inputs. A Python transform is listed: it would run with your rights."""
        code = t.options.get("transformVars")
        if code in (None, ""):
            return combo
        where = f"{t.where} options.transformVars"
        try:
            answer = self._run_transform_vars(code, combo, t)
        except Unsupported as exc:
            self.skip(where, "options.transformVars", str(exc))
            return combo
        self.notes.append(
            "options.transformVars ran once, when the config was imported, in the embedded "
            "JavaScript engine: the vars it computed are the cases' inputs"
        )
        return {**combo, **answer}

    def _run_transform_vars(self, code: Any, combo: dict[str, Any], t: Test) -> dict[str, Any]:
        from ...code import CodeError, call_sync, javascript_available

        if not isinstance(code, str):
            raise Unsupported("vars computed by code: must be JavaScript or file://path")
        if not javascript_available():
            raise Unsupported("vars computed by JavaScript: pip install 'prompteur[js]'")
        context = {"prompt": {}, "uuid": "00000000-0000-4000-8000-000000000000"}
        kwargs: dict[str, Any]
        if code.startswith("file://"):
            path, fn = _files.split_function(code)
            target = (self.base / path).resolve()
            if target.suffix not in {".js", ".cjs", ".mjs"}:
                raise Unsupported(
                    "vars computed by a Python (or TypeScript) file before each test are not "
                    "computed at import: it would run with your rights"
                )
            if not target.is_file():
                raise Unsupported(f"file not found: {target}")
            kwargs = {"file": target, "function": fn}
        else:
            body = code if "\n" in code else f"return {code}"  # promptfoo's inline form
            kwargs = {"code": body, "params": ["vars", "context", "process"]}
        try:
            answer = call_sync(
                "javascript",
                args=[combo, context, {"env": {}}],
                cwd=self.base,
                timeout=10.0,
                **kwargs,
            )
        except CodeError as exc:
            raise Unsupported(f"vars computed by JavaScript that could not run: {exc}") from None
        if not isinstance(answer, dict):
            raise Unsupported("transformVars did not return an object of vars")
        return answer

    def _rendered_vars(self, variables: dict[str, Any]) -> dict[str, Any]:
        """promptfoo renders each string var as a template before a text prompt."""
        from ...nunjucks import translate

        out = dict(variables)
        for key, value in variables.items():
            if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
                continue
            names = set(re.findall(r"\{\{\s*([A-Za-z_]\w*)", value))
            if any(variables.get(n) is None and n != "env" for n in names):
                continue
            with contextlib.suppress(ValueError):  # promptfoo keeps a var that fails to render
                out[key] = render_string(
                    translate(_prompts.Prompt("", value, "").text_body), variables
                )
        return out

    def _render_value(self, value: Any, variables: dict[str, Any]) -> Any:
        if (
            isinstance(value, str)
            and not value.startswith("file://")
            and ("{{" in value or "{%" in value)
        ):
            try:
                return render_string(value, variables)
            except ValueError as exc:
                raise Unsupported(f"the value does not render: {exc}") from None
        if isinstance(value, list):
            return [self._render_value(v, variables) for v in value]
        return value

    def case_spec(self, case: dict[str, Any]) -> dict[str, Any]:
        t: Test = case["test"]
        variables: dict[str, Any] = case["vars"]
        spec: dict[str, Any] = {}
        if t.description:
            spec["description"] = t.description
        spec["inputs"] = dict(variables)
        checks: list[dict[str, Any]] = []
        option_transform = t.options.get("transform") or t.options.get("postprocess")
        grader = t.options.get("provider")
        rubric_prompt = t.options.get("rubricPrompt")
        for k, v in t.options.items():
            if k in (
                "transform",
                "postprocess",
                "provider",
                "rubricPrompt",
                "disableDefaultAsserts",
                "disableVarExpansion",
                "transformVars",  # computed in cases(), or listed there
            ):
                continue
            why = {
                "prefix": "a prompt prefix per test: put it in the prompt",
                "suffix": "a prompt suffix per test: put it in the prompt",
                "storeOutputAs": "an output kept as a var for later tests (tests in prompteur "
                "are independent)",
                "repeat": "a repeat count per test: a prompteur suite repeats every case alike",
                "factuality": "factuality grading options (its verdict-to-score mapping)",
                "redteamGraderExamples": "examples for red-team graders",
                "disableConversationVar": "the _conversation var (earlier turns of a "
                "multi-turn eval) is not converted",
            }.get(k)
            if k == "runSerially" or v in (None, "", False):
                continue  # the order cases run in changes no result
            if why is None:  # promptfoo keeps the key but never reads it
                self.notes.append(
                    f"{t.where} options.{k}: promptfoo does not read this test option, so it "
                    "was left out (as promptfoo leaves it)"
                )
                continue
            self.skip(f"{t.where} options.{k}", f"options.{k}", why)
        for where, a in t.asserts:
            if isinstance(a, dict):
                a = dict(a)
                if "value" in a:
                    try:
                        a["value"] = self._render_value(a["value"], variables)
                    except Unsupported as exc:
                        self.skip(where, str(a.get("type")), str(exc))
                        continue
                if grader is not None and "provider" not in a:
                    a["provider"] = grader
                if rubric_prompt is not None and "rubricPrompt" not in a:
                    a["rubricPrompt"] = rubric_prompt
            try:
                check = _assertions.convert(a, self.ctx)
                if option_transform is not None:
                    first = _assertions.transform_spec(option_transform, self.ctx)
                    own = check.get("transform")
                    check["transform"] = [first, own] if own is not None else first
            except Unsupported as exc:
                kind = a.get("type") if isinstance(a, dict) else a
                self.skip(where, str(kind), str(exc))
                continue
            except (TypeError, ValueError) as exc:
                kind = a.get("type") if isinstance(a, dict) else a
                self.skip(where, str(kind), f"bad value: {exc}")
                continue
            for k in _assertions.leftover(a):
                self.skip(where, f"{a.get('type')}.{k}", "assertion key not converted")
            checks.append(check)
        if t.metadata:
            spec["tags"] = [f"{k}={js_str(v)}" for k, v in t.metadata.items()]
        if checks:
            spec["checks"] = checks
        spec["_threshold"] = t.threshold
        return spec

    # -- writing ----------------------------------------------------------------------------
    def write(
        self,
        prompts: list[_prompts.Prompt],
        models: list[str],
        params: dict[str, Any],
        specs: list[dict[str, Any]],
    ) -> None:
        thresholds = {s.pop("_threshold") for s in specs}
        threshold = None
        if len(thresholds) == 1:
            threshold = next(iter(thresholds))
        else:
            self.skip(
                self.where("tests"),
                "threshold",
                "tests with different thresholds: a prompteur suite has one threshold",
            )
        var_names = sorted({k for c in specs for k in c["inputs"]})
        values = {v: [c["inputs"][v] for c in specs if v in c["inputs"]] for v in var_names}
        kinds = {v: _input(vals) for v, vals in values.items()}
        for c in specs:  # mixed kinds are declared as strings: printed the same way
            for k, v in c["inputs"].items():
                if kinds[k]["kind"] == "string" and not isinstance(v, str):
                    c["inputs"][k] = (
                        js_str(v)
                        if not isinstance(v, dict | list)
                        else (json.dumps(v, ensure_ascii=False))
                    )
        if self.per_model:
            prompt_refs = []
            for label, model, model_params, schema in self.per_model:
                prompt_refs += self.write_prompts(
                    prompts, [model], model_params, kinds, schema, suffix=slug(label)
                )
        else:
            prompt_refs = self.write_prompts(prompts, models, params, kinds, self.schema)
        suite: dict[str, Any] = {}
        if self.data.get("description"):
            suite["description"] = str(self.data["description"])
        suite["prompts"] = prompt_refs
        if models and not self.per_model:
            suite["models"] = models
        repeat = (self.data.get("evaluateOptions") or {}).get("repeat")
        if isinstance(repeat, int) and repeat > 1:
            suite["repeat"] = repeat
        if threshold is not None:
            suite["threshold"] = threshold
        suite["cases"] = specs
        suite_path = self.out / "suites" / f"{self.name}.yaml"
        header = f"# Imported from promptfoo: {self.config.name}\n"
        self.result.files[suite_path] = header + dump(suite)
        self.result.suite = suite_path

    def write_prompts(
        self,
        prompts: list[_prompts.Prompt],
        models: list[str],
        params: dict[str, Any],
        kinds: dict[str, dict[str, Any]],
        schema: dict[str, Any] | None,
        suffix: str = "",
    ) -> list[str]:
        from ...prompt import parse_prompt

        names: list[str] = []
        paths: list[Path] = []
        taken = {p.stem for p in self.result.prompts}
        for i, p in enumerate(prompts, 1):
            name = (
                self.name
                if len(prompts) == 1
                else (f"{self.name}-{slug(p.label) if p.label else i}")
            )
            if suffix:
                name = f"{name}--{suffix}"
            while name in names or name in taken:
                name = f"{name}-{i}"
            names.append(name)
            chat = p.chat
            instructions = params.get("instructions")
            if isinstance(instructions, str):
                if chat is None and p.raw.lstrip().startswith(("[", "{")):
                    self.skip(
                        p.where,
                        "config.instructions",
                        "instructions beside a prompt that renders to chat JSON: write them "
                        "as the chat's first (system) message",
                    )
                else:
                    literal = "{% raw %}" + _prompts.ENDRAW.sub("", instructions) + "{% endraw %}"
                    chat = [("system", literal), *(chat or [("user", p.text_body)])]
            if chat is not None:
                body = "\n".join(f"{role}:\n{_protect(text)}\n" for role, text in chat)
                template: dict[str, Any] = {"format": "nunjucks", "parser": "promptfoo-chat"}
            else:
                body = p.text_body
                template = {"format": "nunjucks", "parser": "promptfoo"}
            front: dict[str, Any] = {"name": name}
            desc = self.data.get("description")
            front["description"] = (
                f"{desc} (imported from promptfoo)" if desc else "Imported from promptfoo."
            )
            if models:
                sampling = {k: v for k, v in params.items() if k not in ("extra", "instructions")}
                model: dict[str, Any] = {"id": models[0]}
                if sampling:
                    model["parameters"] = sampling
                if params.get("extra"):  # provider options, sent as they are (Prompty's form)
                    model["options"] = {"additionalProperties": params["extra"]}
                front["model"] = model
            if self.filters:
                import os

                here = (self.out / "prompts").resolve()
                template["filters"] = {
                    k: os.path.relpath(self.stage(v, "prompts")[0].resolve(), here)
                    for k, v in self.filters.items()
                }
            front["template"] = template
            if schema:
                front["output_schema"] = schema
            inputs = {v: {**kinds[v], "required": False} for v in sorted(kinds)}
            if inputs:
                front["inputs"] = inputs
            text = f"---\n{dump(front)}---\n{body}"
            path = self.out / "prompts" / f"{name}.prompty"
            try:
                parse_prompt(text, path=path)
            except UserError as exc:
                self.skip(p.where, "prompt", exc.message)
                names.pop()
                continue
            self.result.files[path] = text
            self.result.prompts.append(path)
            paths.append(path)
        if not paths:
            raise UserError(
                "no prompt could be converted", file=self.config, field="prompts", hint=self._why()
            )
        same_place = self.out.resolve() == Path.cwd().resolve()
        return names if same_place else [_assertions.display(p.resolve()) for p in paths]
