"""XML and HTML that every parser accepts, whatever a model wrote.

Outputs hold anything: terminal escapes (\\x1b), \\x01, U+FFFE, lone surrogates. XML 1.0 allows
none of them, even escaped, and ElementTree writes them as they are, so a JUnit report with
one such output is refused by every CI system. Each one is written as a visible `\\xNN` /
`\\uNNNN` instead, so nothing is lost from the report and it stays well-formed.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

# Characters XML 1.0 forbids: C0 controls but tab, LF and CR; surrogates; U+FFFE and U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """`text` with every character XML 1.0 forbids written as a visible escape."""
    return _FORBIDDEN.sub(_visible, text)


def tostring(root: ET.Element) -> str:
    """The document, indented, with a declaration, every text and attribute made XML-safe."""
    for element in root.iter():
        if element.text:
            element.text = xml_text(element.text)
        if element.tail:
            element.tail = xml_text(element.tail)
        for key, value in element.attrib.items():
            element.attrib[key] = xml_text(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# Code points the HTML standard makes parse errors even when escaped: C0 and C1 controls (but
# tab, LF, FF, CR), surrogates and noncharacters.
_HTML_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)


def html_text(text: str) -> str:
    """`text` with every code point HTML forbids written as a visible escape."""
    return _HTML_FORBIDDEN.sub(_visible, text)


def html_finalize(value: object) -> object:
    """A Jinja `finalize` for HTML pages and reports: every `{{ value }}` HTML-safe (a
    `Markup` stays markup)."""
    if isinstance(value, str) and _HTML_FORBIDDEN.search(value):
        from markupsafe import Markup

        cleaned = html_text(value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


def html_environment(**options: object) -> Any:
    """The Jinja environment of every HTML page and report: auto-escaped, and every value
    HTML-safe (`html_finalize`)."""
    from jinja2 import Environment

    return Environment(autoescape=True, finalize=html_finalize, **options)
