"""Installing and updating a pack in a project without ever overwriting the user's edits.

`install` copies the pack's files and records, under `.packs/NAME/` in the project (commit
it), the pack's version and a pristine copy of each file as installed: the base of later
three-way merges. `update` compares, file by file, the base (the pack as installed), the
user's file and the pack's new version:

- the user did not touch it → replaced by the new version;
- the pack did not change it → the user's file stays;
- both changed → the user's file stays, and the three-way merge (clean, or with conflict
  markers) is written beside it as `FILE.pack-new` for the user to review;
- deleted by the user → stays deleted; new in the pack → added.

A file's base moves to the new version only when the user's file now holds it, so a change
the user has not taken yet is proposed again next time.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import UserError
from ..files import write_atomic
from ._packs import Pack

STATE = ".packs"
NEW_SUFFIX = ".pack-new"
Status = Literal[
    "added", "updated", "unchanged", "kept", "merged", "conflict", "deleted", "removed"
]


@dataclass
class FileChange:
    target: str  # project-relative path
    status: Status
    diff: str = ""  # what the pack changes (or changed in the user's file), unified
    proposal: str | None = None  # where the merge was written for the user to review
    proposal_text: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "file": self.target,
            "status": self.status,
            "proposal": self.proposal,
            "diff": self.diff,
        }


@dataclass
class Update:
    pack: str
    old_version: str
    new_version: str
    changes: list[FileChange] = field(default_factory=list)
    written: bool = True  # False for a dry run

    def of(self, *statuses: Status) -> list[FileChange]:
        return [c for c in self.changes if c.status in statuses]

    def to_dict(self) -> dict[str, object]:
        return {
            "pack": self.pack,
            "from": self.old_version,
            "to": self.new_version,
            "written": self.written,
            "files": [c.to_dict() for c in self.changes if c.status != "unchanged"],
        }


def _state(root: Path, pack: str) -> Path:
    return root / STATE / pack


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _diff(a: str, b: str, a_label: str, b_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            a.splitlines(keepends=True),
            b.splitlines(keepends=True),
            fromfile=a_label,
            tofile=b_label,
        )
    )


def manifest(root: Path, pack: str) -> dict[str, object] | None:
    """What `.packs/PACK/manifest.json` says was installed, or None."""
    text = _read(_state(root, pack) / "manifest.json")
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"malformed JSON: {exc.msg}",
            file=_state(root, pack) / "manifest.json",
            line=exc.lineno,
            hint=f"restore it from git, or install the pack again: prompteur packs install {pack}",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise UserError("not a pack manifest", file=_state(root, pack) / "manifest.json")
    return data


def _write_state(root: Path, pack: Pack, bases: dict[str, tuple[str, str]]) -> None:
    """bases: target → (pack version it came from, text)."""
    state = _state(root, pack.name)
    for target, (_, text) in bases.items():
        write_atomic(_inside(state / "base", target), text)
    data = {
        "pack": pack.name,
        "version": pack.version,
        "files": {
            t: {"version": v, "sha256": _sha(text)} for t, (v, text) in sorted(bases.items())
        },
    }
    write_atomic(state / "manifest.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _inside(folder: Path, target: str) -> Path:
    """`folder/target`, for a target from a manifest (a project file): never outside."""
    path = (folder / target).resolve()
    if not path.is_relative_to(folder.resolve()) or Path(target).is_absolute():
        raise UserError(f"a pack file outside its folder: {target!r}", file=folder)
    return folder / target


def install(root: Path, pack: Pack, *, force: bool = False) -> list[Path]:
    """Copy the pack into the project; refuses, writing nothing, when a file exists (unless
    `force`) or the pack is installed already (that is `update`)."""
    if manifest(root, pack.name) is not None and not force:
        raise UserError(
            f"the pack '{pack.name}' is installed already",
            file=_state(root, pack.name) / "manifest.json",
            hint=f"bring it up to date with: prompteur packs update {pack.name}",
        )
    files = pack.files()
    if not force:
        existing = [root / t for t in files if (root / t).exists()]
        if existing:
            raise UserError(
                "already exists; nothing was written",
                file=existing[0],
                hint="use --force to overwrite the pack's files",
            )
    written, bases = [], {}
    for target, src in files.items():
        text = src.read_text(encoding="utf-8")
        write_atomic(_inside(root, target), text)
        written.append(root / target)
        bases[target] = (pack.version, text)
    _write_state(root, pack, bases)
    return written


def update(root: Path, pack: Pack, *, dry_run: bool = False) -> Update:
    """Bring an installed pack to the version this prompteur ships (see the module doc)."""
    import merge3

    info = manifest(root, pack.name)
    if info is None:
        raise UserError(
            f"the pack '{pack.name}' is not installed in {root}",
            hint=f"install it with: prompteur packs install {pack.name}",
        )
    old_files: dict[str, dict[str, str]] = info["files"]  # type: ignore[assignment]
    state = _state(root, pack.name)
    result = Update(pack.name, str(info.get("version", "?")), pack.version, written=not dry_run)
    bases: dict[str, tuple[str, str]] = {}
    new_files = pack.files()
    for target, src in new_files.items():
        new = src.read_text(encoding="utf-8")
        mine = _read(_inside(root, target))
        entry = old_files.get(target)
        base = _read(_inside(state / "base", target)) if entry else None
        if entry is not None and base is not None and _sha(base) != entry.get("sha256"):
            base = None  # a base edited by hand is no base: treat the file as the user's
        change = _plan(target, base, mine, new, merge3)
        result.changes.append(change)
        if change.status in ("added", "updated", "unchanged", "kept"):
            # "kept": the user's file already holds the new version's changes (or the pack did
            # not change it): the new version is its base from now on.
            bases[target] = (pack.version, new)
        elif entry is not None and base is not None:
            bases[target] = (entry["version"], base)
        if not dry_run:
            if change.status in ("added", "updated"):
                write_atomic(_inside(root, target), new)
            elif change.proposal is not None:
                write_atomic(_inside(root, change.proposal), change.proposal_text or "")
    for target in sorted(set(old_files) - set(new_files)):
        result.changes.append(FileChange(target, "removed"))
    if not dry_run:
        _write_state(root, pack, bases)
    return result


def _plan(target: str, base: str | None, mine: str | None, new: str, merge3: object) -> FileChange:
    if mine is None:
        if base is not None:
            return FileChange(target, "deleted")  # the user deleted it: stays deleted
        return FileChange(target, "added", _diff("", new, "/dev/null", f"b/{target}"))
    if mine == new:
        return FileChange(target, "unchanged")
    if base is not None and mine == base:
        return FileChange(target, "updated", _diff(mine, new, f"a/{target}", f"b/{target}"))
    if base is not None and base == new:
        return FileChange(target, "kept")  # only the user changed it
    # Both changed (or no base to tell): the user's file stays; the merge goes beside it.
    origin = base if base is not None else ""
    m = merge3.Merge3(  # type: ignore[attr-defined]
        origin.splitlines(keepends=True),
        mine.splitlines(keepends=True),
        new.splitlines(keepends=True),
    )
    conflicted = any(region[0] == "conflict" for region in m.merge_regions())
    merged = "".join(m.merge_lines(name_a="your file", name_b="the pack's new version"))
    if not conflicted and merged == mine:
        return FileChange(target, "kept")  # the user already took the pack's changes
    return FileChange(
        target,
        "conflict" if conflicted else "merged",
        _diff(mine, merged, f"a/{target} (yours)", f"b/{target}{NEW_SUFFIX}"),
        proposal=target + NEW_SUFFIX,
        proposal_text=merged,
    )
