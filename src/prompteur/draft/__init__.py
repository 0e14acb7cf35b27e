"""Draft a first prompt and a starter suite from a brief (`prompteur draft`). See docs/draft.md."""

from ._brief import Brief, BriefFile, Example, load_brief
from ._draft import Draft, checks_for, draft, few_shot_body, split_examples, template_text
from ._strategies import (
    Instructions,
    ModelStrategy,
    PatternStrategy,
    Strategy,
    meta_prompt,
    register_strategy,
    strategy_for,
    unusable,
)

__all__ = [
    "Brief",
    "BriefFile",
    "Draft",
    "Example",
    "Instructions",
    "ModelStrategy",
    "PatternStrategy",
    "Strategy",
    "checks_for",
    "draft",
    "few_shot_body",
    "load_brief",
    "meta_prompt",
    "register_strategy",
    "split_examples",
    "strategy_for",
    "template_text",
    "unusable",
]
