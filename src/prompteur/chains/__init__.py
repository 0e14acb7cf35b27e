"""Chains: a pipeline of prompts run and tested end to end (`prompteur chain`)."""

from ._executor import ChainExecutor, ChainOutcome, StepTrace, apply_parse
from ._spec import Chain, load_chain
from ._suite import ChainSuite, load_chain_suite, plan_of, run_chain_suite

__all__ = [
    "Chain",
    "ChainExecutor",
    "ChainOutcome",
    "ChainSuite",
    "StepTrace",
    "apply_parse",
    "load_chain",
    "load_chain_suite",
    "plan_of",
    "run_chain_suite",
]
