"""The models of one project for one scope (a run, a request, a server's life): made on first
use from that project's config (its endpoints, keys and policy), shared by the run's calls and
its checks' judges and embedders, closed together."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .providers import get_model

if TYPE_CHECKING:
    from ..config import Config
    from .base import Model


class ModelPool:
    def __init__(self, config: Config | None) -> None:
        self.config = config
        self._models: dict[str, Model] = {}
        self._extras: dict[Any, Any] = {}

    @property
    def default_model(self) -> str:
        if self.config is None:
            return "local"
        return self.config.data.project.default_model

    def get(self, model_id: str) -> Model:
        """The model for `model_id` in this project (built once, checked against the
        project's endpoint policy and keys)."""
        model = self._models.get(model_id)
        if model is None:
            model = self._models[model_id] = get_model(model_id, self.config)
        return model

    def judge(self, model_id: str | None = None) -> Model:
        """A judge: the model named, else the project's default model."""
        return self.get(model_id or self.default_model)

    def cached(self, key: Any, make: Any) -> Any:
        """Something made once per pool from this project's config (an embedder, a cache
        of vectors): `make()` on first use."""
        if key not in self._extras:
            self._extras[key] = make()
        return self._extras[key]

    async def aclose(self) -> None:
        models, self._models = list(self._models.values()), {}
        extras, self._extras = list(self._extras.values()), {}
        closers = [m.aclose() for m in models]
        closers += [x.aclose() for x in extras if hasattr(x, "aclose")]
        await asyncio.gather(*closers, return_exceptions=True)
