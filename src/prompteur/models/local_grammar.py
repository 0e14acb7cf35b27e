"""Grammar-constrained decoding for the embedded model, without paying for the whole vocabulary.

llama.cpp's grammar sampler checks every candidate token against the grammar: over Gemma 3's
262,144 tokens that is about 0.35 s per generated token on two cores. But decoding only needs
the best tokens the grammar allows, and the model's own favourite is allowed most of the time.
So candidates are checked best-first in growing slices (1, 16, 256, 4,096, then the rest): the
answer is exactly what masking the whole vocabulary would give — the highest-logit allowed
token, or the top-k allowed ones for sampling — at the cost of a few checks per token.
"""

from __future__ import annotations

import contextlib
import ctypes
from functools import cache
from typing import Any

from .structured import OutputSchema, UnsupportedSchema, to_gbnf

_SLICES = (1, 16, 256, 4096)


@cache
def _token_data() -> Any:
    """llama_token_data as a numpy record: arrays of candidates are filled without a loop."""
    import numpy as np

    return np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class GrammarConstraint:
    """One request's grammar state over one vocabulary. Not thread-safe: one per request."""

    def __init__(self, llama: Any, out: OutputSchema) -> None:
        import llama_cpp

        grammar = to_gbnf(out)
        self._lib = llama_cpp
        self._sampler = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar.encode("utf-8"), b"root"
        )
        if not self._sampler:
            raise UnsupportedSchema("llama.cpp refused the grammar made from the schema")
        self._closed = False

    def allowed(self, logits: Any, k: int = 1) -> list[int]:
        """The `k` highest-logit tokens the grammar allows next, best first (fewer when the
        grammar allows fewer)."""
        import numpy as np

        n = logits.shape[0]
        order: Any = None
        found: list[int] = []
        done = 0
        for size in (*_SLICES, n):
            size = min(size, n)
            if size <= done:
                continue
            if order is None or size > len(order):
                # Partial sorts: only the slice being checked is ordered.
                if size >= n:
                    order = np.argsort(-logits, kind="stable")
                else:
                    part = np.argpartition(-logits, size - 1)[:size]
                    order = part[np.argsort(-logits[part], kind="stable")]
            found += self._check(order[done:size])
            done = size
            if len(found) >= k or done >= n:
                break
        return found[:k]

    def _check(self, tokens: Any) -> list[int]:
        import numpy as np

        lib = self._lib
        m = len(tokens)
        data = (lib.llama_token_data * m)()
        view = np.frombuffer(data, dtype=_token_data())
        view["id"] = tokens
        view["logit"] = 0.0
        arr = lib.llama_token_data_array(data=data, size=m, selected=-1, sorted=False)
        lib.llama_sampler_apply(self._sampler, ctypes.byref(arr))
        return [int(t) for t in view["id"][np.isfinite(view["logit"])]]

    def best(self, logits: Any) -> int | None:
        """The highest-logit allowed token (None when the grammar allows none)."""
        found = self.allowed(logits, 1)
        return found[0] if found else None

    def mask(self, logits: Any, k: int) -> Any:
        """The logits with every token but the `k` best allowed ones set to -inf (for
        sampling: top-k over the allowed tokens, as llama.cpp's grammar-then-top-k chain)."""
        import numpy as np

        keep = self.allowed(logits, k)
        out = np.full_like(logits, -np.inf)
        if keep:
            out[keep] = logits[keep]
        return out

    def accept(self, token: int) -> None:
        self._lib.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._lib.llama_sampler_free(self._sampler)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at shutdown the library may be gone already
            self.close()


_USABLE: dict[str, bool] = {}


def usable(llama: Any, out: OutputSchema) -> bool:
    """Whether llama.cpp can decode under this schema's grammar (remembered per schema)."""
    key = out.key()
    known = _USABLE.get(key)
    if known is None:
        try:
            GrammarConstraint(llama, out).close()
            known = True
        except UnsupportedSchema:
            known = False
        if len(_USABLE) > 256:
            _USABLE.clear()
        _USABLE[key] = known
    return known
