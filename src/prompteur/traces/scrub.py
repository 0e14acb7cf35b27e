"""Keep secrets out of traces: what a client sends is stored, so keys are removed first.

Two nets: fields whose *name* says secret (`Authorization`, `api_key`, `x-api-key`, `cookie`,
`password`…) are replaced wherever they appear in metadata, and values shaped like a known
key (OpenAI/Anthropic `sk-…`, `Bearer …`, AWS `AKIA…`, GitHub `ghp_…`, Slack `xox?-…`, Google
`AIza…`, JWTs) are masked in every text the trace holds (inputs, output, error, metadata).
NUL characters are replaced too: PostgreSQL refuses them in text.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

_SECRET_NAME = re.compile(
    r"(authorization|api[-_.]?key|apikey|access[-_.]?token|refresh[-_.]?token|auth[-_.]?token"
    r"|secret|password|passwd|cookie|x-api-key|private[-_.]?key|^token$|\.token$|_token$)",
    re.I,
)
_SECRET_VALUE = re.compile(
    r"(?:\b(?:sk|pk|rk|sess)-[A-Za-z0-9_\-]{16,}"
    r"|\bBearer\s+[A-Za-z0-9._~+/=\-]{8,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|\bAIza[0-9A-Za-z_\-]{35}"
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"
)
# Cheap pre-test: most texts contain none of these, and skip the full pattern.
_MAYBE = re.compile(r"sk-|pk-|rk-|sess-|Bearer|AKIA|gh[pousr]_|xox|AIza|eyJ")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def clean_text(text: str) -> str:
    """`text` storable everywhere: no NUL (PostgreSQL refuses it), no lone surrogate (a JSON
    body may carry one; no database encodes it)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text


def scrub_text(text: str) -> str:
    text = clean_text(text)
    if _MAYBE.search(text):
        text = _SECRET_VALUE.sub(REDACTED, text)
    return text


def scrub_value(value: Any, *, by_name: bool = False) -> Any:
    """`value` with secret-shaped texts masked, recursively; with `by_name`, mapping entries
    whose key names a secret are masked whole."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = scrub_text(str(k))
            if by_name and v is not None and is_secret_name(key):
                out[key] = REDACTED
            else:
                out[key] = scrub_value(v, by_name=by_name)
        return out
    if isinstance(value, list | tuple):
        return [
            _scrub_header_pair(v)
            if by_name and _is_header_pair(v)
            else scrub_value(v, by_name=by_name)
            for v in value
        ]
    return value


def _is_header_pair(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and is_secret_name(value[0])
    )


def _scrub_header_pair(value: Any) -> list[Any]:
    # Headers often travel as [name, value] pairs rather than a mapping.
    return [value[0], REDACTED]


def scrub_payload(payload: str) -> str:
    """One trace as JSON (TraceIn's fields) without its secrets, as the store would keep it:
    for a client that must write traces to disk before the server sees them. Most traces
    hold nothing secret-shaped and come back unchanged without being parsed."""
    if not (_MAYBE.search(payload) or _SECRET_NAME.search(payload)):
        return payload
    import json

    try:
        record = json.loads(payload)
    except ValueError:
        return scrub_text(payload)
    if not isinstance(record, dict):
        return scrub_text(payload)
    for name in ("output", "error"):
        if isinstance(record.get(name), str):
            record[name] = scrub_text(record[name])
    if "inputs" in record:
        record["inputs"] = scrub_value(record["inputs"])
    if "metadata" in record:
        record["metadata"] = scrub_value(record["metadata"], by_name=True)
    return json.dumps(record, ensure_ascii=False)
