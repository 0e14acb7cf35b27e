"""Probes: find a prompt's weaknesses — robustness, ambiguity, injection, leakage, bias,
hallucination, ethics, over-refusal — and check the judges that grade it.

A probe turns a suite's cases into adversarial or counterfactual cases (seeded: the same
command makes the same cases), the evaluation runner runs them (cache, retries, resume, the
store), and the probe's detectors read the results and keep each finding with its evidence.

    from prompteur.probes import ProbeOptions, prepare, run_probe
"""

from ._base import Finding, Outcome, Probe, ProbeCase, ProbeContext, categories, probes, select
from .engine import ProbeOptions, ProbePlan, prepare, run_probe

__all__ = [
    "Finding",
    "Outcome",
    "Probe",
    "ProbeCase",
    "ProbeContext",
    "ProbeOptions",
    "ProbePlan",
    "categories",
    "prepare",
    "probes",
    "run_probe",
    "select",
]
