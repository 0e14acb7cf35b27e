"""Adapting a prompt to a new model: regression, re-tuning under a budget, and a gated
variant for that model (`prompteur adapt`)."""

from ._adapt import Adaptation, adapt, standalone, variant_name, with_variant

__all__ = ["Adaptation", "adapt", "standalone", "variant_name", "with_variant"]
