"""A candidate's workspace: the brief, the prompt file, and every attempt.

`.challenge.json` in the workspace keeps the attempts, each with its prompt content, time and
score. Each attempt also stores a hash over the previous one: an attempt edited or removed
afterwards breaks the chain, and the report says so.

A plain hash chain can be recomputed by anyone who edits the file. So when the recruiter's
secret is at hand (PROMPTEUR_CHALLENGE_SECRET where `challenge submit` runs: the hiring
platform's machine, not the candidate's), each attempt is also sealed: an HMAC-SHA256 with
that secret over the previous seal and the attempt (content, time, note and score). The
secret is never written anywhere; the workspace keeps only a fingerprint of it (an HMAC of a
fixed text), so a report can tell "sealed with another key" from "edited".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..files import write_atomic
from ._catalogue import Challenge, get_challenge

if TYPE_CHECKING:
    from ..config import Config
    from ..learn import Grade
    from ..runner import ResponseCache
    from ..suite import Suite

STATE = ".challenge.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chain_hash(prev: str, attempt: dict[str, Any]) -> str:
    core = {k: attempt[k] for k in ("n", "time", "sha256", "content")}
    return _sha(prev + json.dumps(core, sort_keys=True, ensure_ascii=False))


# What a seal covers: everything the recruiter reads about an attempt.
_SEALED = ("n", "time", "sha256", "content", "note", "score", "passed", "total", "error")


def _seal(secret: bytes, prev: str, attempt: dict[str, Any]) -> str:
    core = {k: attempt.get(k) for k in _SEALED}
    text = prev + json.dumps(core, sort_keys=True, ensure_ascii=False, default=str)
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def key_id(secret: bytes) -> str:
    """A fingerprint of the recruiter's secret that does not reveal it."""
    return hmac.new(secret, b"prompteur challenge key", hashlib.sha256).hexdigest()[:16]


SealState = str  # "sealed" | "broken" | "unsealed" | "unverified" | "other-key"


@dataclass
class Workspace:
    folder: Path
    state: dict[str, Any]

    @property
    def challenge(self) -> Challenge:
        return get_challenge(self.state["challenge"])

    @property
    def lang(self) -> str:
        return str(self.state.get("lang", "en"))

    @property
    def prompt_path(self) -> Path:
        return self.folder / self.challenge.file

    @property
    def attempts(self) -> list[dict[str, Any]]:
        return list(self.state.get("attempts", []))

    def save(self) -> None:
        write_atomic(
            self.folder / STATE, json.dumps(self.state, indent=2, ensure_ascii=False) + "\n"
        )

    def chain_intact(self) -> bool:
        prev = ""
        for a in self.attempts:
            if a.get("sha256") != _sha(a.get("content", "")) or a.get("hash") != _chain_hash(
                prev, a
            ):
                return False
            prev = a["hash"]
        return True

    def seal_state(self, secret: bytes | None) -> SealState:
        """Whether the attempts carry the recruiter's seals and they hold: "sealed" (every
        attempt verified), "broken" (an attempt or a score was changed, or removed),
        "unsealed" (recorded without the secret), "other-key" (sealed with another secret),
        "unverified" (sealed, but no secret to check with)."""
        attempts = self.attempts
        if all("seal" not in a for a in attempts) and "seal_key" not in self.state:
            return "unsealed"
        if secret is None:
            return "unverified"
        if self.state.get("seal_key") != key_id(secret):
            return "other-key"
        prev = ""
        for a in attempts:
            if "seal" not in a:
                return "broken"
            if not hmac.compare_digest(str(a["seal"]), _seal(secret, prev, a)):
                return "broken"
            prev = a["seal"]
        return "sealed"

    def reseal(self, secret: bytes) -> None:
        """Seal every attempt again (after the recruiter graded or regraded them); refused when
        the seals do not hold now, so a changed history cannot be laundered."""
        state = self.seal_state(secret)
        if state in ("broken", "other-key"):
            raise UserError(
                f"the attempts' seals do not hold ({state}): not sealing them again",
                file=self.folder / STATE,
            )
        self.state["seal_key"] = key_id(secret)
        prev = ""
        for a in self.state.get("attempts", []):
            a["seal"] = _seal(secret, prev, a)
            prev = a["seal"]


def new_workspace(
    challenge: Challenge,
    folder: Path,
    *,
    lang: str = "en",
    candidate: str | None = None,
    hidden: Path | None = None,
) -> list[Path]:
    """Brief, starter prompt and an empty attempt log; refuses an existing workspace."""
    if (folder / STATE).exists():
        raise UserError(
            "a challenge workspace is already here; nothing was written", file=folder / STATE
        )
    target = folder / challenge.file
    if target.exists():
        raise UserError("already exists; nothing was written", file=target)
    state: dict[str, Any] = {
        "challenge": challenge.id,
        "lang": lang,
        "candidate": candidate,
        "created": _now(),
        "attempts": [],
    }
    if hidden is not None:
        # Only a fingerprint: the suite stays with the recruiter, who grades with --hidden.
        state["hidden_sha256"] = _sha(_read_hidden(hidden))
    brief = folder / ("BRIEF.md" if lang == "en" else "CONSIGNE.md")
    write_atomic(brief, challenge.brief(lang))
    write_atomic(target, challenge.starter)
    ws = Workspace(folder, state)
    ws.save()
    return [brief, target, folder / STATE]


def open_workspace(folder: Path) -> Workspace:
    path = folder / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            "no challenge workspace here",
            file=folder,
            hint="create one with: prompteur challenge new CHALLENGE",
        ) from None
    except json.JSONDecodeError as exc:
        raise UserError(f"malformed JSON: {exc.msg}", file=path, line=exc.lineno) from None
    if not isinstance(state, dict) or "challenge" not in state:
        raise UserError("not a challenge workspace file", file=path, field="challenge")
    return Workspace(folder, state)


def _read_hidden(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("hidden suite not found", file=path, field="--hidden") from None


def hidden_suite(ws: Workspace, hidden: Path | None) -> Suite | None:
    """The suite that grades: the recruiter's (--hidden, checked against the fingerprint),
    else the package's. None when the recruiter keeps it and did not pass it."""
    from ..learn import suite_from_text
    from ..suite import load_suite

    expected = ws.state.get("hidden_sha256")
    if hidden is not None:
        text = _read_hidden(hidden)
        if expected and _sha(text) != expected:
            raise UserError(
                "this is not the suite the workspace was created with",
                file=hidden,
                field="--hidden",
            )
        return load_suite(hidden)
    if expected:
        return None
    return suite_from_text(ws.challenge.hidden_suite_text(), f"hidden:{ws.challenge.id}")


def _grade_fields(g: Grade) -> dict[str, Any]:
    return {
        "score": g.score,
        "passed": g.passed,
        "total": g.total,
        "failing_checks": g.failing_checks(),
    }


def grade_content(
    content: str, suite: Suite, config: Config, source: str, cache: ResponseCache | None
) -> dict[str, Any]:
    """An attempt's score fields; a prompt that does not even load scores 0, with why."""
    from ..learn import grade
    from ..prompt import parse_prompt

    try:
        prompt = parse_prompt(content, path=source)
    except UserError as exc:
        return {
            "score": 0.0,
            "passed": 0,
            "total": suite.count_cases(),
            "error": exc.render(),
            "failing_checks": {},
        }
    return _grade_fields(grade(prompt, suite, config, cache=cache))


def submit(
    ws: Workspace,
    config: Config,
    *,
    hidden: Path | None = None,
    note: str | None = None,
    cache: ResponseCache | None = None,
    secret: bytes | None = None,
) -> dict[str, Any]:
    """Record the prompt file as a new attempt, graded when the suite is at hand, and sealed
    with the recruiter's `secret` when it is given."""
    try:
        content = ws.prompt_path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError("the prompt file is missing", file=ws.prompt_path) from None
    suite = hidden_suite(ws, hidden)
    attempts = ws.attempts
    attempt: dict[str, Any] = {
        "n": len(attempts) + 1,
        "time": _now(),
        "sha256": _sha(content),
        "content": content,
        "note": note,
        "score": None,
    }
    if suite is not None:
        attempt.update(grade_content(content, suite, config, ws.challenge.file, cache))
    attempt["hash"] = _chain_hash(attempts[-1]["hash"] if attempts else "", attempt)
    if secret is not None:
        state = ws.seal_state(secret)
        if state in ("broken", "other-key") or (state == "unsealed" and attempts):
            raise UserError(
                f"the recorded attempts' seals do not hold ({state}): nothing recorded",
                file=ws.folder / STATE,
                hint="the history was changed, or recorded with another secret or none",
            )
        ws.state["seal_key"] = key_id(secret)
        attempt["seal"] = _seal(secret, attempts[-1].get("seal", "") if attempts else "", attempt)
    ws.state["attempts"] = [*attempts, attempt]
    ws.save()
    return attempt


def grade_missing(
    ws: Workspace,
    config: Config,
    suite: Suite,
    cache: ResponseCache | None = None,
    *,
    regrade: bool = False,
    secret: bytes | None = None,
) -> int:
    """Grade the attempts recorded without a score (the recruiter kept the suite), or every
    attempt with `regrade` (scores are not covered by the hash chain: recompute them). With
    the recruiter's `secret`, the new scores are sealed (only if the seals held before)."""
    if secret is not None and ws.seal_state(secret) in ("broken", "other-key"):
        raise UserError(
            "the attempts' seals do not hold: grading them would seal a changed history",
            file=ws.folder / STATE,
        )
    n = 0
    for a in ws.state.get("attempts", []):
        if regrade or a.get("score") is None:
            a.update(grade_content(a["content"], suite, config, ws.challenge.file, cache))
            n += 1
    if n and secret is not None:
        ws.reseal(secret)
    if n:
        ws.save()
    return n
