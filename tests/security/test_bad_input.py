"""Bad input never gives a 500: huge, negative and non-numeric page/limit/offset values;
JSON nested 10,000 deep on every JSON route; OTLP JSON nested 10,000 deep and protobuf
garbage; bodies of 40 MB are refused with 413 (Content-Length or chunked) and the server
keeps answering."""

from __future__ import annotations

import gzip
import time

import pytest

from ._support import (
    STATUS_4XX,
    assert_clean,
    assert_refused,
    bearer,
    expect,
    nested_json,
    nested_object,
    raw_post,
    send,
)
from .conftest import Site

NUMBERS = [
    "99999999999999999999",
    "-99999999999999999999",
    "-1",
    "0",
    "abc",
    "1e309",
    "NaN",
    "inf",
    "0x10",
    "",
    " 1",
    "1.5",
    "\u0663",  # ARABIC-INDIC DIGIT THREE: int() takes it
    "\uff11",  # FULLWIDTH DIGIT ONE
    "9" * 5000,
]

# `{}` is where the number goes; `{run}` is a run of the store.
NUMERIC = [
    "/ui/runs/{run}?page={}",
    "/ui/runs/{run}?per={}",
    "/ui/runs/{run}?page={}&per={}&v={}",
    "/ui/runs/{run}/compare?a={}&b=0",
    "/ui/runs/{run}/compare?a=0&b={}",
    "/ui/monitor?window={}",
    "/ui/learn/{}",
    "/v1/runs?offset={}",
    "/v1/runs?limit={}",
    "/v1/runs/{run}/results?offset={}&limit={}",
    "/v1/traces?limit={}",
    "/v1/traces?cursor={}",
    "/v1/traces/{}",
    "/v1/monitor?since={}",
    "/v1/monitor/sentiment?since={}",
    "/v1/prompts/sentiment/versions/{}",
]


@pytest.mark.parametrize("template", NUMERIC)
def test_odd_numbers_never_give_a_server_error(site: Site, template: str) -> None:
    from urllib.parse import quote

    failures = []
    with site.server.client(site.keys["read"]) as c:
        for n in NUMBERS:
            url = template.replace("{run}", site.run_id).replace("{}", quote(n, safe=""))
            expect(failures, send(c, "GET", url), lambda r: assert_clean(r, site.project))
    assert not failures, "\n".join(failures[:10])


def test_flag_with_odd_ids(site: Site) -> None:
    from urllib.parse import quote

    with site.server.client(site.keys["write"]) as c:
        for n in NUMBERS:
            r = c.post(f"/v1/traces/{quote(n, safe='')}/flag", json={"flagged": True})
            assert_clean(r, site.project)


# POST/PUT routes that read a JSON body (write key; admin for forced moves).
JSON_ROUTES = [
    ("POST", "/v1/prompts/sentiment/render"),
    ("POST", "/v1/prompts/sentiment/complete"),
    ("PUT", "/v1/prompts/sentiment/labels/deep"),
    ("POST", "/v1/prompts/sentiment/labels/deep/rollback"),
    ("POST", "/v1/traces"),
    ("POST", "/v1/traces/1/flag"),
    ("POST", "/otlp/v1/traces"),
]


@pytest.mark.parametrize("shape", ["arrays", "objects"])
@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
def test_json_nested_10000_deep_is_a_4xx(site: Site, method: str, path: str, shape: str) -> None:
    body = nested_json(10_000) if shape == "arrays" else nested_object(10_000)
    with site.server.client(site.keys["admin"]) as c:
        r = c.request(method, path, content=body, headers={"content-type": "application/json"})
        assert_refused(r, site.project)
        # Nested inside a valid envelope, where the schema takes any JSON value.
        inner = body.decode()
        for envelope in (
            f'{{"inputs": {{"review": {inner}}}}}',
            f'{{"traces": [{{"prompt": "p", "inputs": {{"x": {inner}}}}}]}}',
            f'{{"resourceSpans": [{{"scopeSpans": [{{"spans": [{{"attributes": {inner}}}]}}]}}]}}',
        ):
            r = c.request(
                method, path, content=envelope, headers={"content-type": "application/json"}
            )
            assert_refused(r, site.project)


GARBAGE = [
    bytes(range(256)) * 16,  # starts with tag 0: invalid
    b"\xff" * 4096,
    b"\x0a\xff\xff\xff\xff\x0f",  # field 1, a length far past the end
    b"\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",  # a varint longer than 64 bits
    b"\x0a\x05\x0a\x03\x0a\x01",  # truncated nested messages
    b"\x08" * 10_001,  # (tag, value) pairs of an unknown varint field, then a lone tag
    bytes((i * 37 + 11) % 256 for i in range(4096)),
]
# Well-formed but empty: a 200 that records nothing is right, a 500 is not.
EMPTY = [b"\x0a\x00" * 200_000, b"\x0a\x02\x0a\x00" * 50_000]


def test_otlp_protobuf_garbage_is_a_4xx(site: Site) -> None:
    with site.server.client(site.keys["write"]) as c:
        for body in GARBAGE + EMPTY:
            r = c.post(
                "/otlp/v1/traces",
                content=body,
                headers={"content-type": "application/x-protobuf"},
            )
            assert_clean(r, site.project)
            if body not in EMPTY:
                assert r.status_code in STATUS_4XX, (r.status_code, body[:20], r.text[:200])


def test_otlp_protobuf_nested_10000_deep_is_a_4xx(site: Site) -> None:
    """A message nested 10,000 levels (each level a length-delimited field 1)."""
    body = b"\x08\x01"
    for _ in range(10_000):
        body = b"\x0a" + _varint(len(body)) + body
    with site.server.client(site.keys["write"]) as c:
        r = c.post(
            "/otlp/v1/traces", content=body, headers={"content-type": "application/x-protobuf"}
        )
    assert_refused(r, site.project)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def test_otlp_gzip_bomb_is_refused(site: Site) -> None:
    body = gzip.compress(b"\x00" * (40 * 1024 * 1024), compresslevel=9)
    with site.server.client(site.keys["write"]) as c:
        r = c.post(
            "/otlp/v1/traces",
            content=body,
            headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"},
        )
    assert r.status_code == 413, (r.status_code, r.text[:200])


# ---- 40 MB bodies ----------------------------------------------------------------------------

BIG = 40 * 1024 * 1024
POST_ROUTES = [
    "/v1/traces",
    "/otlp/v1/traces",
    "/v1/prompts/sentiment/render",
    "/v1/prompts/sentiment/complete",
    "/v1/prompts/sentiment/labels/big/rollback",
    "/v1/traces/1/flag",
    "/ui/playground",
    "/ui/library/sentiment/promote",
    "/ui/learn/1",
    "/ui/login",
]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_40_mb_body_is_refused_with_413(site: Site, path: str, chunked: bool) -> None:
    ctype = "application/x-www-form-urlencoded" if path.startswith("/ui/") else "application/json"
    headers = {
        "Content-Type": ctype,
        "Origin": site.server.url,
        **bearer(site.keys["admin"]),
    }
    answer = raw_post(site.server.url, path, BIG, headers=headers, chunked=chunked)
    assert answer.status == 413, (
        f"{path}: {answer.status} after {answer.sent / 1e6:.1f} MB sent\n{answer.head[:300]}"
    )
    # A limit means the body was not all read first: the answer came before 40 MB went.
    _still_answers(site)


def test_put_with_a_40_mb_body_is_refused_with_413(site: Site) -> None:
    headers = {"Content-Type": "application/json", **bearer(site.keys["admin"])}
    for chunked in (False, True):
        answer = raw_post(
            site.server.url,
            "/v1/prompts/sentiment/labels/big",
            BIG,
            method="PUT",
            headers=headers,
            chunked=chunked,
        )
        assert answer.status == 413, (answer.status, answer.head[:300])
    _still_answers(site)


def _still_answers(site: Site) -> None:
    start = time.monotonic()
    with site.server.client(site.keys["read"], timeout=10) as c:
        r = c.get("/v1/prompts")
    assert r.status_code == 200 and time.monotonic() - start < 5, "the server stopped answering"
