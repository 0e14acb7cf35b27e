"""Lessons on the craft, graded on the embedded model (`prompteur learn`)."""

from ._check import LessonResult, check_file, check_text
from ._grade import CaseOutcome, Grade, grade, grade_async, suite_from_text
from ._lessons import LANGS, Lesson, check_lang, get_lesson, lessons
from ._progress import load_progress, record_attempt

__all__ = [
    "LANGS",
    "CaseOutcome",
    "Grade",
    "Lesson",
    "LessonResult",
    "check_file",
    "check_lang",
    "check_text",
    "get_lesson",
    "grade",
    "grade_async",
    "lessons",
    "load_progress",
    "record_attempt",
    "suite_from_text",
]
