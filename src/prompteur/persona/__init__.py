"""Persona design: a persona file (role, values, register, tone, vocabulary, example replies)
compiles into a system prompt, and a persona suite checks that replies keep it."""

from ._compile import Compiled, compile_persona
from ._dialogue import (
    Dialogue,
    TurnResult,
    check_dialogue,
    load_dialogue,
    persona_checks,
    suite_for,
    tone_criterion,
)
from ._register import Reading, judge_register, read_english, read_french
from ._spec import Persona, PersonaFile, load_persona
from ._vocabulary import judge_vocabulary

__all__ = [
    "Compiled",
    "Dialogue",
    "Persona",
    "PersonaFile",
    "Reading",
    "TurnResult",
    "check_dialogue",
    "compile_persona",
    "judge_register",
    "judge_vocabulary",
    "load_dialogue",
    "load_persona",
    "persona_checks",
    "read_english",
    "read_french",
    "suite_for",
    "tone_criterion",
]
