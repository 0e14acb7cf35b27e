"""The recruiter's view: best and final attempt, the timeline, what changed between tries."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..i18n import translate
from ._workspace import Workspace

_T = {
    "title": "Challenge report",
    "candidate": "Candidate",
    "challenge": "Challenge",
    "attempts": "Attempts",
    "best": "Best attempt",
    "final": "Final attempt",
    "time": "time",
    "elapsed": "minutes in",
    "score": "score",
    "cases": "cases passed",
    "changed": "lines +/−",
    "fails": "failing checks",
    "note": "note",
    "diffs": "What changed between attempts",
    "ungraded": "not graded",
    "intact": "Attempt log intact (hash chain verified).",
    "broken": "WARNING: the attempt log was edited after the fact (hash chain broken).",
    "none": "No attempt yet.",
    "sealed": "Every attempt carries the recruiter's seal, verified with the secret.",
    "unsealed": "Attempts recorded without the recruiter's secret: the history is not sealed "
    "and could have been rewritten.",
    "unverified": "The attempts are sealed, but no secret was given to check the seals "
    "(PROMPTEUR_CHALLENGE_SECRET).",
    "other-key": "WARNING: the attempts were sealed with another secret than the one given.",
    "seal-broken": "WARNING: an attempt or a score was changed after it was sealed.",
    "prompt": "Final prompt",
}


def t(key: str, lang: str) -> str:
    return translate(_T[key], lang)


@dataclass
class AttemptRow:
    n: int
    time: str
    minutes: float
    score: float | None
    passed: int | None
    total: int | None
    added: int
    removed: int
    failing: dict[str, int]
    note: str | None
    error: str | None
    diff: str = ""


@dataclass
class ChallengeReport:
    challenge: str
    title: str
    candidate: str | None
    lang: str
    intact: bool
    seal: str = "unsealed"
    rows: list[AttemptRow] = field(default_factory=list)
    final_content: str = ""

    @property
    def best(self) -> AttemptRow | None:
        graded = [r for r in self.rows if r.score is not None]
        return max(graded, key=lambda r: (r.score, -r.n)) if graded else None

    @property
    def final(self) -> AttemptRow | None:
        return self.rows[-1] if self.rows else None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "challenge": self.challenge,
            "candidate": self.candidate,
            "intact": self.intact,
            "seal": self.seal,
            "best": asdict(self.best) if self.best else None,
            "final": asdict(self.final) if self.final else None,
            "attempts": [asdict(r) for r in self.rows],
        }


def build_report(
    ws: Workspace, lang: str | None = None, secret: bytes | None = None
) -> ChallengeReport:
    lang = lang or ws.lang
    created = datetime.fromisoformat(ws.state["created"])
    rep = ChallengeReport(
        challenge=ws.challenge.id,
        title=ws.challenge.title(lang),
        candidate=ws.state.get("candidate"),
        lang=lang,
        intact=ws.chain_intact() and ws.seal_state(secret) not in ("broken", "other-key"),
        seal=ws.seal_state(secret),
    )
    prev = ""
    for a in ws.attempts:
        content = a.get("content", "")
        old, new = prev.splitlines(keepends=True), content.splitlines(keepends=True)
        diff_lines = list(
            difflib.unified_diff(old, new, f"attempt {a['n'] - 1}", f"attempt {a['n']}")
        )
        added = sum(1 for ln in diff_lines if ln.startswith("+") and not ln.startswith("+++"))
        removed = sum(1 for ln in diff_lines if ln.startswith("-") and not ln.startswith("---"))
        when = datetime.fromisoformat(a["time"])
        rep.rows.append(
            AttemptRow(
                n=a["n"],
                time=a["time"],
                minutes=round((when - created).total_seconds() / 60, 1),
                score=a.get("score"),
                passed=a.get("passed"),
                total=a.get("total"),
                added=added,
                removed=removed,
                failing=a.get("failing_checks") or {},
                note=a.get("note"),
                error=a.get("error"),
                diff="".join(diff_lines) if a["n"] > 1 else "",
            )
        )
        prev = content
    rep.final_content = prev
    return rep


_HTML = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ t('title') }} · {{ r.title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;
text-align:left}th{background:#f5f5f5}pre{background:#f8f8f8;padding:.6rem;overflow:auto}
.add{color:#176f2c}.del{color:#a11}.warn{color:#a11;font-weight:bold}.ok{color:#176f2c}
.bar{display:inline-block;height:.7rem;background:#4a7bd0;vertical-align:middle}
</style></head><body>
<h1>{{ t('title') }} — {{ r.title }}</h1>
<p>{{ t('challenge') }}: <b>{{ r.challenge }}</b>{% if r.candidate %} · {{ t('candidate') }}:
<b>{{ r.candidate }}</b>{% endif %} · {{ t('attempts') }}: {{ r.rows|length }}</p>
<p class="{{ 'ok' if r.intact else 'warn' }}">{{ t('intact') if r.intact else t('broken') }}</p>
{% set seal = 'seal-broken' if r.seal == 'broken' else r.seal %}
<p class="{{ 'ok' if r.seal == 'sealed' else 'warn' }}">{{ t(seal) }}</p>
{% if not r.rows %}<p>{{ t('none') }}</p>{% else %}
<ul>
{% for label, row in [(t('best'), r.best), (t('final'), r.final)] %}{% if row %}
<li>{{ label }}: #{{ row.n }} —
{% if row.score is none %}{{ t('ungraded') }}{% else %}{{ '%.0f' % (row.score * 100) }}%
({{ row.passed }}/{{ row.total }}){% endif %}</li>{% endif %}{% endfor %}
</ul>
<table><tr><th>#</th><th>{{ t('time') }}</th><th>{{ t('elapsed') }}</th><th>{{ t('score') }}</th>
<th>{{ t('cases') }}</th><th>{{ t('changed') }}</th><th>{{ t('fails') }}</th>
<th>{{ t('note') }}</th></tr>
{% for row in r.rows %}<tr><td>{{ row.n }}</td><td>{{ row.time }}</td><td>{{ row.minutes }}</td>
<td>{% if row.score is none %}{{ t('ungraded') }}{% else %}
<span class="bar" style="width:{{ (row.score * 6)|round(2) }}rem"></span>
{{ '%.0f' % (row.score * 100) }}%{% endif %}</td>
<td>{% if row.passed is not none %}{{ row.passed }}/{{ row.total }}{% endif %}</td>
<td><span class="add">+{{ row.added }}</span> <span class="del">−{{ row.removed }}</span></td>
<td>{{ row.error or (row.failing.items()|map('join', ': ')|join(', ')) }}</td>
<td>{{ row.note or '' }}</td></tr>{% endfor %}
</table>
<h2>{{ t('diffs') }}</h2>
{% for row in r.rows if row.diff %}<h3>#{{ row.n - 1 }} → #{{ row.n }}</h3>
<pre>{% for line in row.diff.splitlines() %}<span class="{{ 'add' if line.startswith('+')
else ('del' if line.startswith('-') else '') }}">{{ line }}</span>
{% endfor %}</pre>{% endfor %}
<h2>{{ t('prompt') }}</h2><pre>{{ r.final_content }}</pre>
{% endif %}
</body></html>
"""


def to_html(rep: ChallengeReport) -> str:
    from ..xmltext import html_environment

    env = html_environment()
    return env.from_string(_HTML).render(r=rep, lang=rep.lang, t=lambda k: t(k, rep.lang))
