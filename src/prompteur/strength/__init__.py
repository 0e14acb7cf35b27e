"""Suite strength: mutation testing for prompt suites. Standard mutants of the prompt and of
its outputs, the share of them the suite's checks kill, and the survivors."""

from ..lint import blind_fields, seen_fields
from ._measure import Mutant, StrengthReport, check_label, measure
from ._mutants import (
    OUTPUT_OPERATORS,
    PROMPT_OPERATORS,
    OutputMutant,
    PromptMutant,
    output_mutants,
    prompt_mutants,
    vous_to_tu,
    wrong_register,
)

__all__ = [
    "OUTPUT_OPERATORS",
    "PROMPT_OPERATORS",
    "Mutant",
    "OutputMutant",
    "PromptMutant",
    "StrengthReport",
    "blind_fields",
    "check_label",
    "measure",
    "output_mutants",
    "prompt_mutants",
    "seen_fields",
    "vous_to_tu",
    "wrong_register",
]
