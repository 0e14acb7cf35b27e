"""Grade a learner's attempt at a lesson and explain what passed and what failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..i18n import count, fill, interval, pct, template, typography
from ._grade import Grade, grade
from ._lessons import Lesson, check_lang

if TYPE_CHECKING:
    from ..config import Config
    from ..runner import ResponseCache, ResultRecord

# English templates; their French is in the catalogue (prompteur.i18n).
_T = {
    "pass": "Passed",
    "fail": "Not yet",
    "rate": "{p}/{n} hidden cases pass ({rate}, 95% interval [{lo}, {hi}]); needed {need}.",
    "few_cases": "The suite has {cases}; it needs at least {need}.",
    "good": "On the good prompt your suite gives {iv} (needed at least {need}).",
    "bad": "On the bad prompt your suite gives {iv}.",
    "overlap": "The two intervals overlap: this suite cannot tell the good prompt from the bad "
    "one. Add cases and checks that say what a right answer is.",
    "apart": "The good prompt's interval lies above the bad prompt's: the suite tells them apart.",
    "check_fails": "check '{name}' failed on {cases}: {hint}",
    "error": "the prompt could not run on {cases}: {why}",
}


def say(key: str, lang: str, **kw: Any) -> str:
    return typography(fill(template(_T[key], check_lang(lang)), lang, kw), lang)


@dataclass
class LessonResult:
    lesson: str
    passed: bool
    score: float
    feedback: list[str] = field(default_factory=list)
    grades: dict[str, Grade] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "passed": self.passed,
            "score": self.score,
            "feedback": self.feedback,
            "grades": {k: g.to_dict() for k, g in self.grades.items()},
        }


def _pct(x: float, lang: str = "en") -> str:
    return pct(x, lang, 0)


def check_text(
    lesson: Lesson,
    text: str,
    config: Config,
    *,
    lang: str = "en",
    source: str | Path = "attempt",
    cache: ResponseCache | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> LessonResult:
    """Grade an attempt given as text (the web UI's form, or a file's content)."""
    check_lang(lang)
    if lesson.kind == "suite":
        return _check_suite(lesson, text, config, lang, source, cache, on_result)
    from ..prompt import parse_prompt
    from ..suite import load_suite

    prompt = parse_prompt(text, path=source)
    hidden = load_suite(lesson.hidden_suite_path)
    g = grade(prompt, hidden, config, cache=cache, on_result=on_result)
    need = lesson.pass_rate
    ok = g.score >= need
    iv = g.interval
    lines = [
        say(
            "rate",
            lang,
            p=g.passed,
            n=g.total,
            rate=_pct(g.score, lang),
            lo=_pct(iv.low, lang),
            hi=_pct(iv.high, lang),
            need=_pct(need, lang),
        )
    ]
    lines += _check_lines(lesson, g, lang)
    return LessonResult(lesson.id, ok, g.score, lines, {"hidden": g})


def _check_lines(lesson: Lesson, g: Grade, lang: str) -> list[str]:
    lines = []
    for name, k in g.failing_checks().items():
        if name == "error":
            why = next((c.error for c in g.cases if c.error), "")
            lines.append(say("error", lang, cases=count(k, "case", lang), why=(why or "")[:200]))
        else:
            hint = lesson.hint(name, lang) or ""
            lines.append(
                say("check_fails", lang, name=name, cases=count(k, "case", lang), hint=hint)
            )
    return lines


def _check_suite(
    lesson: Lesson,
    text: str,
    config: Config,
    lang: str,
    source: str | Path,
    cache: ResponseCache | None,
    on_result: Callable[[ResultRecord], None] | None,
) -> LessonResult:
    import tempfile

    from ..prompt import load_prompt
    from ..suite import load_suite

    if isinstance(source, Path) and source.is_file():
        suite = load_suite(source)
    else:  # text from a form: validated the same way, through a file
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(str(source)).name
            path = path if path.suffix in {".yaml", ".yml"} else path.with_suffix(".yaml")
            path.write_text(text, encoding="utf-8")
            suite = load_suite(path)
    n = suite.count_cases()
    lines: list[str] = []
    if n < lesson.min_cases:
        lines.append(say("few_cases", lang, cases=count(n, "case", lang), need=lesson.min_cases))
        return LessonResult(lesson.id, False, 0.0, lines)
    good = grade(
        load_prompt(lesson.folder / "good.prompty"), suite, config, cache=cache, on_result=on_result
    )
    bad = grade(
        load_prompt(lesson.folder / "bad.prompty"), suite, config, cache=cache, on_result=on_result
    )
    gi, bi = good.interval, bad.interval
    lines.append(say("good", lang, iv=interval(gi, lang), need=_pct(lesson.pass_rate, lang)))
    lines.append(say("bad", lang, iv=interval(bi, lang)))
    apart = gi.low > bi.high
    lines.append(say("apart" if apart else "overlap", lang))
    ok = good.score >= lesson.pass_rate and apart
    return LessonResult(lesson.id, ok, good.score - bad.score, lines, {"good": good, "bad": bad})


def check_file(
    lesson: Lesson,
    path: Path,
    config: Config,
    *,
    lang: str = "en",
    cache: ResponseCache | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> LessonResult:
    from ..yamlfile import read_text

    return check_text(
        lesson, read_text(path), config, lang=lang, source=path, cache=cache, on_result=on_result
    )
