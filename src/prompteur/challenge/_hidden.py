"""The hidden suite of a shipped challenge, kept obfuscated in the package.

This is obfuscation, not secrecy: the code that grades must read it, so a candidate with
access to the installed package can too. It stops a casual look (no test case shows up in
`grep` or a file browser); a recruiter who needs more keeps the suite elsewhere and passes
`--hidden PATH` (see docs/challenge.md).

    python -m prompteur.challenge._hidden encode suite.yaml > hidden.bin
    python -m prompteur.challenge._hidden decode hidden.bin
"""

from __future__ import annotations

import base64
import sys
import zlib
from pathlib import Path

MAGIC = "prompteur-hidden-suite-v1\n"
_KEY = b"prompteur: not a secret, a curtain"


def _mask(data: bytes) -> bytes:
    return bytes(b ^ _KEY[i % len(_KEY)] for i, b in enumerate(data))


def encode(text: str) -> str:
    blob = base64.b64encode(_mask(zlib.compress(text.encode("utf-8"), 9))).decode("ascii")
    lines = [blob[i : i + 76] for i in range(0, len(blob), 76)]
    return MAGIC + "\n".join(lines) + "\n"


def decode(data: str) -> str:
    if not data.startswith(MAGIC):
        raise ValueError("not a prompteur hidden suite")
    raw = base64.b64decode("".join(data[len(MAGIC) :].split()))
    return zlib.decompress(_mask(raw)).decode("utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"encode", "decode"}:
        sys.stderr.write("usage: python -m prompteur.challenge._hidden encode|decode FILE\n")
        return 2
    text = Path(argv[1]).read_text(encoding="utf-8")
    sys.stdout.write(encode(text) if argv[0] == "encode" else decode(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
