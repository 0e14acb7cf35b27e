"""Chains: a pipeline of prompts run and tested end to end (`prompteur chain`)."""

from ._executor import ChainExecutor, ChainOutcome, StepTrace, apply_parse, model_for
from ._spec import Chain, load_chain
from ._suite import (
    ChainSuite,
    evaluate_chain,
    load_chain_suite,
    plan_of,
    resume_args,
    run_chain_suite,
)

__all__ = [
    "Chain",
    "ChainExecutor",
    "ChainOutcome",
    "ChainSuite",
    "StepTrace",
    "apply_parse",
    "evaluate_chain",
    "load_chain",
    "load_chain_suite",
    "model_for",
    "plan_of",
    "resume_args",
    "run_chain_suite",
]
