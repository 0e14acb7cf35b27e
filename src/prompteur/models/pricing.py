"""What a call cost, in US dollars, from a price table the project can override.

Prices are per million tokens (input, output), as providers publish them. They change: a
project sets its own under `[prices."provider:model"]` in prompteur.toml, which wins.
Unknown models cost `None` ("unknown"), never a guessed zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Usage

if TYPE_CHECKING:
    from ..config import Config

# USD per million tokens (input, output). Public list prices, checked 2026-11.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "openai:gpt-4o": (2.50, 10.00),
    "openai:gpt-4o-mini": (0.15, 0.60),
    "openai:gpt-4.1": (2.00, 8.00),
    "openai:gpt-4.1-mini": (0.40, 1.60),
    "openai:gpt-4.1-nano": (0.10, 0.40),
    "openai:o4-mini": (1.10, 4.40),
    "anthropic:claude-3-5-haiku-latest": (0.80, 4.00),
    "anthropic:claude-haiku-4-5": (1.00, 5.00),
    "anthropic:claude-sonnet-4-5": (3.00, 15.00),
    "anthropic:claude-opus-4-1": (15.00, 75.00),
    "mistral:mistral-small-latest": (0.10, 0.30),
    "mistral:mistral-large-latest": (2.00, 6.00),
    "gemini:gemini-2.0-flash": (0.10, 0.40),
    "gemini:gemini-2.5-flash": (0.30, 2.50),
}

# Models that run on this machine cost nothing per token.
_FREE_PROVIDERS = ("local", "ollama")


def price_for(model_id: str, config: Config | None = None) -> tuple[float, float] | None:
    if config is not None and model_id in config.data.prices:
        p = config.data.prices[model_id]
        return (p.input, p.output)
    if model_id == "local" or model_id.split(":", 1)[0] in _FREE_PROVIDERS:
        return (0.0, 0.0)
    return DEFAULT_PRICES.get(model_id)


def cost(model_id: str, usage: Usage, config: Config | None = None) -> float | None:
    price = price_for(model_id, config)
    if price is None:
        return None
    return (usage.input_tokens * price[0] + usage.output_tokens * price[1]) / 1_000_000
