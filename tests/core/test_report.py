"""Summaries, comparisons and exports from result records."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

from prompteur import report
from prompteur.runner import ResultRecord


def rec(version: str, case: int, passed: bool, repeat: int = 0, **kw: object) -> ResultRecord:
    return ResultRecord(
        prompt="p",
        version=version,
        model="m",
        case_id=f"c{case}",
        repeat=repeat,
        inputs={"x": case},
        expected="yes",
        output="yes" if passed else "no",
        passed=passed,
        score=1.0 if passed else 0.0,
        checks=[
            {
                "name": "equals",
                "passed": passed,
                "score": float(passed),
                "reason": "" if passed else "got 'no'",
                "weight": 1.0,
            }
        ],
        latency_s=0.1 + case / 1000,
        input_tokens=10,
        output_tokens=2,
        cost=0.001,
        **kw,
    )


def test_summary_with_repeats_flakiness_and_worst_cases() -> None:
    records = [rec("aaaa", c, c < 6) for c in range(10)]
    records += [rec("aaaa", c, c < 5, repeat=1) for c in range(10)]  # case 5 is flaky
    (s,) = report.summarise(records)
    assert (s.results, s.cases, s.passed, s.failed, s.repeats) == (20, 10, 11, 9, 2)
    assert s.pass_rate.estimate == 11 / 20 and s.pass_rate.low < 0.55 < s.pass_rate.high
    assert s.flaky_cases == ["c5"]
    assert s.pass_hat_k == 0.5  # 5 cases always pass, 1 half, 4 never: (5 + 0) / 10
    assert len(s.worst) == 5 and all(w["why"] == "got 'no'" for w in s.worst)
    assert abs(s.cost - 20 * 0.001) < 1e-12 and s.cost_known


def test_paired_comparison_between_versions() -> None:
    a = [rec("aaaa", c, c < 40) for c in range(100)]
    b = [rec("bbbb", c, c < 60) for c in range(100)]
    (cmp,) = report.paired(a + b)
    assert cmp.only_b == 20 and cmp.only_a == 0 and cmp.significant
    assert "significantly better" in cmp.words()


def test_exports() -> None:
    records = [rec("aaaa", 0, True), rec("aaaa", 1, False), rec("aaaa", 2, False, error="boom")]
    records[2].passed = False
    lines = list(report.to_jsonl(records))
    assert len(lines) == 3 and json.loads(lines[1])["case_id"] == "c1"
    rows = list(csv.DictReader(io.StringIO(report.to_csv(records))))
    assert rows[1]["passed"] == "False" and json.loads(rows[0]["inputs"]) == {"x": 0}
    root = ET.fromstring(report.to_junit(records, "suite"))
    ts = root.find("testsuite")
    assert ts is not None and ts.get("tests") == "3" and ts.get("failures") == "1"
    assert ts.get("errors") == "1"
    cases = ts.findall("testcase")
    assert cases[1].find("failure") is not None and cases[2].find("error") is not None
    data = json.loads(report.to_json(records, {"id": "r1"}))
    assert data["run"] == {"id": "r1"} and data["summary"][0]["passed"] == 1


def test_html_is_self_contained_and_escapes_outputs() -> None:
    a = [rec("aaaa", c, c < 3) for c in range(5)]
    b = [rec("bbbb", c, c < 4) for c in range(5)]
    b[0].output = "<script>alert('x')</script>"
    page = report.to_html(a + b, {"id": "r1", "suite": "demo", "created": "now"})
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from a network
    assert page.count("<tr data-fail=") == 5
    assert "p@aaaa" in page and "p@bbbb" in page and "No significant difference" in page
