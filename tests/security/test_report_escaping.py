"""Reports stay well-formed whatever a model wrote: JUnit parses with a strict XML parser,
HTML escapes the output."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from prompteur.report import to_junit
from prompteur.runner import ResultRecord
from prompteur.xmltext import xml_text

NASTY = ["\x01", "\x1b[31mred\x1b[0m", "\x0b", "\ufffe", "\uffff", "\x00", "a\ud800b", "]]>"]


def _record(output: str, passed: bool) -> ResultRecord:
    return ResultRecord(
        prompt="p",
        version="v" * 64,
        model="local",
        case_id=f"c-{output[:3]!r}",
        repeat=0,
        inputs={"q": output},
        expected=output,
        output=output,
        passed=passed,
        score=1.0 if passed else 0.0,
        checks=[{"name": "equals", "passed": passed, "score": 0.0, "reason": output, "weight": 1}],
    )


@pytest.mark.parametrize("nasty", NASTY)
def test_junit_parses_whatever_the_output_holds(nasty: str) -> None:
    xml = to_junit([_record(f"before{nasty}after", False), _record(nasty, True)], "suite")
    root = ET.fromstring(xml.encode("utf-8", "surrogatepass"))
    texts = " ".join(e.text or "" for e in root.iter("system-out"))
    assert "before" in texts and "after" in texts


def test_forbidden_characters_stay_visible() -> None:
    assert xml_text("a\x01b\x1bc\ufffe") == "a\\x01b\\x1bc\\ufffe"
    assert xml_text("tab\tnew\nline\rok é ✓") == "tab\tnew\nline\rok é ✓"
