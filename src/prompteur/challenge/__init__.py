"""Hiring challenges: a brief, a hidden suite, every attempt recorded, a report
(`prompteur challenge`)."""

from ._catalogue import Challenge, challenges, get_challenge
from ._report import ChallengeReport, build_report, to_html
from ._workspace import (
    Workspace,
    grade_missing,
    hidden_suite,
    new_workspace,
    open_workspace,
    submit,
)

__all__ = [
    "Challenge",
    "ChallengeReport",
    "Workspace",
    "build_report",
    "challenges",
    "get_challenge",
    "grade_missing",
    "hidden_suite",
    "new_workspace",
    "open_workspace",
    "submit",
    "to_html",
]
