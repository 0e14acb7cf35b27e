"""Reports parse whatever a model answers: outputs (and expected values) holding control
characters, noncharacters, NUL, markup and CDATA ends. JUnit is well-formed XML for a
strict parser (ElementTree/expat); the HTML report parses with html5lib without a single
error and shows an output's `<script>` as text, never as a script; JSON, JSONL and CSV parse
back with the standard library."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._support import (
    Outcome,
    Project,
    base_env,
    cli,
    listening_project,
    marker,
)

html5lib = pytest.importorskip("html5lib")

XSS = marker("XSS")
OUTPUTS = [
    "\x01\x02\x03 start of heading",
    "\x1b[31mred\x1b[0m",
    "\x0b\x0c vertical tab, form feed",
    "\ufffe\uffff noncharacters",
    f"<script>alert('{XSS}')</script>",
    "]]> --> <!-- & &amp; &#0; &#xFFFE; <![CDATA[x]]>",
    "\x00 NUL inside",
    "\u2028\u2029 separators \U0001f600",
    "\x7f\x80\x9f C1 controls",
]


def _answer(req: Any) -> str:
    m = re.search(r"HOSTILE-(\d+)", req.body.decode("utf-8", "replace"))
    return OUTPUTS[int(m.group(1))] if m else "positive"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    with listening_project(tmp_path_factory.mktemp("reports"), _answer) as p:
        yield p


def _eval(p: Project, rows: list[dict[str, str]], name: str) -> tuple[Outcome, Path]:
    data = p.root / "suites" / "data" / f"{name}.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    (p.root / "suites" / f"{name}.yaml").write_text(
        "prompts: [sentiment]\nmodels: [openai:gpt-4o-mini]\nchecks:\n  - type: equals\n"
        f"dataset: data/{name}.jsonl\n",
        encoding="utf-8",
    )
    out = p.root / f"out-{name}"
    out.mkdir()
    args = []
    for ext in ("xml", "html", "json", "jsonl", "csv"):
        args += ["-o", str(out / f"report.{ext}")]
    o = cli(
        "eval",
        f"suites/{name}.yaml",
        "--no-cache",
        *args,
        cwd=p.root,
        env=base_env(**p.keys_env),
        timeout=120,
    )
    return o, out


@pytest.fixture(scope="module")
def hostile(project: Project) -> tuple[Outcome, Path]:
    rows = [
        {"review": f"HOSTILE-{i}", "expected": f"\x01<b>expected {i}</b>\x1b\ufffe"}
        for i in range(len(OUTPUTS))
    ]
    return _eval(project, rows, "hostile")


@pytest.fixture(scope="module")
def benign(project: Project) -> tuple[Outcome, Path]:
    return _eval(project, [{"review": "fine", "expected": "positive"}], "benign")


def test_the_eval_itself_goes_through(hostile: tuple[Outcome, Path]) -> None:
    o, _ = hostile
    assert o.killed is None and "Traceback" not in o.output, str(o)
    assert o.returncode == 0, str(o)


def test_junit_is_well_formed(hostile: tuple[Outcome, Path]) -> None:
    _, out = hostile
    root = ET.fromstring((out / "report.xml").read_bytes())
    cases = root.findall(".//testcase")
    assert len(cases) == len(OUTPUTS)


def _html_errors(text: str) -> list[str]:
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"))
    parser.parse(text)
    return [f"{pos}: {code} {data}" for pos, code, data in parser.errors]


def test_counter_the_html_report_of_a_benign_run_parses(benign: tuple[Outcome, Path]) -> None:
    o, out = benign
    assert o.returncode == 0, str(o)
    errors = _html_errors((out / "report.html").read_text(encoding="utf-8"))
    assert not errors, errors[:10]


def test_html_report_parses_without_error_and_escapes(hostile: tuple[Outcome, Path]) -> None:
    _, out = hostile
    text = (out / "report.html").read_text(encoding="utf-8")
    assert f"<script>alert('{XSS}')" not in text, "an output's markup went out raw"
    errors = _html_errors(text)
    assert not errors, errors[:10]
    doc = html5lib.parse(text, treebuilder="etree", namespaceHTMLElements=False)
    scripts = [s.text or "" for s in doc.iter("script")]
    assert not [s for s in scripts if XSS in s], "an output became a script"
    shown = "".join(doc.itertext())
    assert f"alert('{XSS}')" in shown, "the output is shown, as text"


def test_json_jsonl_csv_parse_back(hostile: tuple[Outcome, Path]) -> None:
    _, out = hostile
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data
    # JSON Lines are separated by \n only (splitlines would also cut at \x0b, U+2028…).
    lines = (out / "report.jsonl").read_text(encoding="utf-8").split("\n")
    assert len([json.loads(line) for line in lines if line.strip()]) == len(OUTPUTS)
    with open(out / "report.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(OUTPUTS)


def test_a_lone_surrogate_in_an_output(tmp_path: Path) -> None:
    """JSON lets a provider send "\\ud800": the run stores what it can, reports parse."""

    def surrogate(_req: Any) -> str:
        return "before \ud800 after"

    with listening_project(tmp_path, surrogate) as p:
        o, out = _eval(p, [{"review": "x", "expected": "positive"}], "surrogate")
    assert o.killed is None and "Traceback" not in o.output, str(o)
    if o.returncode == 0:
        ET.fromstring((out / "report.xml").read_bytes())
        assert not _html_errors((out / "report.html").read_text(encoding="utf-8"))
