"""Alerts: a significant drop of the pass rate, or a shift of the inputs (length, language,
meaning), between a baseline window and the recent one — shown by `prompteur monitor` and
POSTed to the project's webhook.

Windows (`[monitor]` in prompteur.toml): recent = the last `window` (1d), baseline = the
`baseline` (7d) just before it. A test needs `min_count` traces on each side; a pass-rate
alert needs p < `alpha` *and* a drop of at least `min_drop`, so a large volume does not turn
a trivial change into an alert. The same alert is sent to the webhook once per window.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..i18n import number, pct, sentence
from ..stats import wilson
from . import drift
from .language import guess_language
from .window import parse_duration

if TYPE_CHECKING:
    from ..config import Config, MonitorSection
    from ..store import Store

STATE_FILE = "monitor-alerts.json"
_EMBED_SAMPLE = 200


@dataclass
class Alert:
    # pass_rate_drop | input_length_shift | language_shift | embedding_shift |
    # negative_feedback_rise
    kind: str
    prompt: str
    message: str  # in English: the webhook's text and the JSON's
    evidence: dict[str, Any] = field(default_factory=dict)
    # The same sentence in a language ("en", "fr"), from the catalogue's template.
    say: Callable[[str], str] | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.prompt}"

    def text(self, lang: str = "en") -> str:
        """The alert's sentence in `lang` (French from the catalogue, French typography)."""
        return self.say(lang) if self.say is not None and lang != "en" else self.message

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("say", None)
        return out


def _alert(
    kind: str,
    name: str,
    text: str,
    values: Callable[[str], dict[str, object]],
    evidence: dict[str, Any],
) -> Alert:
    """An alert whose sentence is the catalogue's `text` filled with `values(lang)`."""

    def say(lang: str) -> str:
        return sentence(text, lang, {"name": name, **values(lang)})

    return Alert(kind, name, say("en"), evidence, say)


@dataclass
class Window:
    passed: int = 0
    scored: int = 0
    texts: list[str] = field(default_factory=list)

    @property
    def lengths(self) -> list[float]:
        return [float(len(t)) for t in self.texts]


def input_text(inputs: dict[str, Any]) -> str:
    """The inputs as one text (string values in key order), for length, language, meaning."""
    parts = []
    for key in sorted(inputs):
        value = inputs[key]
        parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return "\n".join(parts)


def _windows(
    store: Store, settings: MonitorSection, now: datetime, prompt: str | None
) -> dict[str, tuple[Window, Window]]:
    recent_span = parse_duration(settings.window, field="monitor.window")
    base_span = parse_duration(settings.baseline, field="monitor.baseline")
    cut = now - recent_span
    start = cut - base_span
    out: dict[str, tuple[Window, Window]] = {}
    for row in store.traces.window_rows(start, now, prompt):
        base, recent = out.setdefault(row.prompt, (Window(), Window()))
        w = recent if row.started_at >= cut else base
        w.texts.append(input_text(row.inputs or {}))
        if row.passed is not None:
            w.scored += 1
            w.passed += bool(row.passed)
    return out


def _pct(x: float, lang: str = "en") -> str:
    return pct(x, lang, 0 if x * 100 == round(x * 100) else 1)


def _p(p: float, lang: str) -> str:
    return number(p, lang, ".2g")


def _pass_rate_alert(name: str, base: Window, recent: Window, s: MonitorSection) -> Alert | None:
    if base.scored < s.min_count or recent.scored < s.min_count:
        return None
    p = drift.proportion_drop(base.passed, base.scored, recent.passed, recent.scored)
    before, after = base.passed / base.scored, recent.passed / recent.scored
    if p >= s.alpha or before - after < s.min_drop:
        return None
    wb, wr = wilson(base.passed, base.scored), wilson(recent.passed, recent.scored)
    return _alert(
        "pass_rate_drop",
        name,
        "{name}: pass rate fell from {before} to {after} "
        "(baseline {base} scored traces, recent {recent}; p = {p})",
        lambda lang: {
            "before": _pct(before, lang),
            "after": _pct(after, lang),
            "base": base.scored,
            "recent": recent.scored,
            "p": _p(p, lang),
        },
        {
            "baseline": {
                "passed": base.passed,
                "scored": base.scored,
                "low": wb.low,
                "high": wb.high,
            },
            "recent": {
                "passed": recent.passed,
                "scored": recent.scored,
                "low": wr.low,
                "high": wr.high,
            },
            "p_value": p,
        },
    )


NEGATIVE_BELOW = 0.5  # a feedback score under it is negative


def _feedback_windows(
    store: Store, settings: MonitorSection, now: datetime, prompt: str | None
) -> dict[str, tuple[Window, Window]]:
    """Per prompt, end-user feedback in the baseline and recent windows, as Windows whose
    `passed` counts the feedback that is not negative."""
    cut = now - parse_duration(settings.window, field="monitor.window")
    start = cut - parse_duration(settings.baseline, field="monitor.baseline")
    out: dict[str, tuple[Window, Window]] = {}
    for row in store.reviews.feedback_rows(start, now, prompt):
        if row["prompt"] is None:
            continue
        base, recent = out.setdefault(row["prompt"], (Window(), Window()))
        w = recent if row["created_at"] >= cut else base
        w.scored += 1
        w.passed += row["score"] >= NEGATIVE_BELOW
    return out


def _feedback_alert(name: str, base: Window, recent: Window, s: MonitorSection) -> Alert | None:
    """Users say no more often than before: the share of negative feedback rose
    significantly (same test and thresholds as the pass rate's drop)."""
    found = _pass_rate_alert(name, base, recent, s)
    if found is None:
        return None
    before = (base.scored - base.passed) / base.scored
    after = (recent.scored - recent.passed) / recent.scored
    return _alert(
        "negative_feedback_rise",
        name,
        "{name}: negative user feedback rose from {before} to {after} "
        "(baseline {base} feedback, recent {recent}; p = {p})",
        lambda lang: {
            "before": _pct(before, lang),
            "after": _pct(after, lang),
            "base": base.scored,
            "recent": recent.scored,
            "p": _p(found.evidence["p_value"], lang),
        },
        found.evidence,
    )


def _length_alert(name: str, base: Window, recent: Window, s: MonitorSection) -> Alert | None:
    if len(base.texts) < s.min_count or len(recent.texts) < s.min_count:
        return None
    d, p = drift.ks_2samp(base.lengths, recent.lengths)
    index = drift.psi(base.lengths, recent.lengths)
    if p >= s.alpha or index < s.psi:
        return None
    mb = sorted(base.lengths)[len(base.lengths) // 2]
    mr = sorted(recent.lengths)[len(recent.lengths) // 2]
    return _alert(
        "input_length_shift",
        name,
        "{name}: input length shifted (median {mb} → {mr} characters; KS D = {d}, "
        "p = {p}; PSI = {psi})",
        lambda lang: {
            "mb": number(mb, lang, ".0f"),
            "mr": number(mr, lang, ".0f"),
            "d": number(d, lang, ".2f"),
            "p": _p(p, lang),
            "psi": number(index, lang, ".2f"),
        },
        {"ks_d": d, "p_value": p, "psi": index, "median_baseline": mb, "median_recent": mr},
    )


def _language_alert(name: str, base: Window, recent: Window, s: MonitorSection) -> Alert | None:
    if len(base.texts) < s.min_count or len(recent.texts) < s.min_count:
        return None
    a = Counter(guess_language(t) for t in base.texts)
    b = Counter(guess_language(t) for t in recent.texts)
    tv = drift.total_variation(a, b)
    p = drift.chi2_mix(a, b)
    if p >= s.alpha or tv < s.language_shift:
        return None

    def mix(c: Counter[str], lang: str) -> str:
        n = sum(c.values())
        return ", ".join(f"{k} {pct(v / n, lang, 0)}" for k, v in c.most_common(3))

    return _alert(
        "language_shift",
        name,
        "{name}: language mix shifted ({a} → {b}; distance {tv}, p = {p})",
        lambda lang: {
            "a": mix(a, lang),
            "b": mix(b, lang),
            "tv": number(tv, lang, ".2f"),
            "p": _p(p, lang),
        },
        {"baseline": dict(a), "recent": dict(b), "distance": tv, "p_value": p},
    )


def _embeddings_on(s: MonitorSection) -> bool:
    if s.embeddings and s.embedder == "local":
        from ..checks._semantic import SEMANTIC_EXTRA, local_available

        if not local_available():
            raise UserError(
                "comparing input meanings needs the semantic extra",
                field="monitor.embeddings",
                hint=SEMANTIC_EXTRA,
            )
    return s.embeddings


def _centroid(vectors: list[list[float]]) -> list[float]:
    return [sum(col) / len(vectors) for col in zip(*vectors, strict=True)]


def _embedding_alert(
    name: str, base: Window, recent: Window, s: MonitorSection, config: Config
) -> Alert | None:
    if len(base.texts) < s.min_count or len(recent.texts) < s.min_count:
        return None
    from ..checks import cosine, get_embedder
    from ..checks._semantic import embed_cached

    rng = random.Random(0)  # the same sample on every run: the same answer
    a = rng.sample(base.texts, min(_EMBED_SAMPLE, len(base.texts)))
    b = rng.sample(recent.texts, min(_EMBED_SAMPLE, len(recent.texts)))

    async def both() -> tuple[list[list[float]], list[list[float]]]:
        from ..models.pool import ModelPool

        models = ModelPool(config)  # a provider's embedder is this project's
        try:
            embedder = get_embedder(s.embedder, models)
            return await embed_cached(embedder, a), await embed_cached(embedder, b)
        finally:
            await models.aclose()

    va, vb = asyncio.run(both())
    distance = 1 - cosine(_centroid(va), _centroid(vb))
    if not math.isfinite(distance) or distance < s.embedding_shift:
        return None
    return _alert(
        "embedding_shift",
        name,
        "{name}: the meaning of the inputs shifted (centroid cosine distance {distance})",
        lambda lang: {"distance": number(distance, lang, ".2f")},
        {"distance": distance, "baseline_sample": len(a), "recent_sample": len(b)},
    )


def find_alerts(
    config: Config,
    store: Store,
    *,
    prompt: str | None = None,
    now: datetime | None = None,
    embeddings: bool | None = None,
) -> list[Alert]:
    s = config.data.monitor
    if embeddings is not None:
        s = s.model_copy(update={"embeddings": embeddings})
    now = now or datetime.now(UTC)
    alerts: list[Alert] = []
    for name, (base, recent) in sorted(_windows(store, s, now, prompt).items()):
        for rule in (_pass_rate_alert, _length_alert, _language_alert):
            found = rule(name, base, recent, s)
            if found:
                alerts.append(found)
        if _embeddings_on(s):
            found = _embedding_alert(name, base, recent, s, config)
            if found:
                alerts.append(found)
    for name, (base, recent) in sorted(_feedback_windows(store, s, now, prompt).items()):
        found = _feedback_alert(name, base, recent, s)
        if found:
            alerts.append(found)
    return alerts


# ---- the webhook ------------------------------------------------------------------------------


def webhook_url(config: Config) -> str | None:
    import os

    s = config.data.monitor
    if s.webhook_env:
        url = os.environ.get(s.webhook_env)
        if not url:
            raise UserError(
                f"the variable {s.webhook_env} (monitor.webhook_env) is not set",
                file=config.file,
                field="monitor.webhook_env",
            )
        return url
    return s.webhook


def _state(config: Config) -> tuple[Path, dict[str, str]]:
    path = config.state_dir / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        data = {}
    return path, data if isinstance(data, dict) else {}


@dataclass
class Delivery:
    sent: list[Alert]
    held: list[Alert]  # already sent within the window
    error: str | None = None
    target: str | None = None  # the webhook's host, never its full URL (it may hold a token)


def deliver(
    config: Config,
    alerts: list[Alert],
    *,
    project: str | None = None,
    now: datetime | None = None,
    timeout: float = 5.0,
) -> Delivery:
    """POST new alerts to the webhook (once per alert per window); records what was sent."""
    import httpx

    from ..files import write_atomic

    url = webhook_url(config)
    if not url or not alerts:
        return Delivery([], [], None, None)
    now = now or datetime.now(UTC)
    span = parse_duration(config.data.monitor.window, field="monitor.window")
    path, state = _state(config)
    fresh, held = [], []
    for alert in alerts:
        last = state.get(alert.key)
        if last and now - datetime.fromisoformat(last) < span:
            held.append(alert)
        else:
            fresh.append(alert)
    target = httpx.URL(url).host
    if not fresh:
        return Delivery([], held, None, target)
    payload = {
        "project": project or config.data.project.name or config.root.name,
        "sent_at": now.isoformat(),
        "alerts": [a.to_dict() for a in fresh],
        "text": "\n".join(a.message for a in fresh),
    }
    error = None
    for attempt in range(2):
        try:
            response = httpx.post(url, json=payload, timeout=timeout)
            if response.status_code < 300:
                error = None
                break
            error = f"the webhook answered {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"the webhook could not be reached: {type(exc).__name__}"
        if attempt == 0:
            import time

            time.sleep(0.2)
    if error:
        return Delivery([], held, error, target)
    for alert in fresh:
        state[alert.key] = now.isoformat()
    write_atomic(path, json.dumps(state, indent=2, sort_keys=True) + "\n")
    return Delivery(fresh, held, None, target)
