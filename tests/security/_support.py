"""What the hostile tests share: the CLI as a subprocess (wall time, peak memory, a memory
watchdog), the server as a subprocess (`prompteur serve` / `prompteur view`), API keys made
with `prompteur keys create`, canary files outside the project, loopback listeners that
record every request, and raw HTTP for bodies a client library would not send.

Everything here goes through the product's outside: its command line and its HTTP port.
The only import of prompteur itself is `create_app`, to list the app's routes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from helpers_http import LoopbackServer, Recorded, Reply

PROMPTEUR = str(Path(sys.executable).with_name("prompteur"))

# The bounds the contract states (docs/security.md): a bomb is refused within this wall time
# beyond what the same command takes on a harmless input, and within this much memory
# beyond that baseline's peak.
BOMB_SECONDS = 2.0
BOMB_MB = 200
# A process past this resident size is killed by the watchdog: an unbounded parse must fail
# its test, not take the machine down with it.
WATCHDOG_MB = 1500

STATUS_4XX = frozenset({400, 404, 409, 413, 415, 422})
KEY_ENVS = (
    "OPENAI_API_KEY",
    "OPENAI_COMPATIBLE_API_KEY",
    "ANTHROPIC_API_KEY",
    "MISTRAL_API_KEY",
    "GEMINI_API_KEY",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def marker(kind: str) -> str:
    """A string that appears nowhere unless a test put it there."""
    return f"{kind}-{secrets.token_hex(8)}"


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI or server subprocess: no provider key of the machine, no
    colours, wide lines (an error line stays one line), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_ENVS}
    env.pop("PROMPTEUR_DATABASE_URL", None)
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "400", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def rss_mb(pid: int) -> float:
    """Resident size of a live process, in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


# ---- the CLI --------------------------------------------------------------------------------


@dataclass
class Outcome:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    killed: str | None  # "timeout" or "memory" when the watchdog stopped it

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        tail = self.output[-1500:]
        shown = " ".join(os.fsdecode(a) for a in self.args[1:])[:300]
        return (
            f"{shown!r} → exit {self.returncode}, {self.seconds:.2f} s, "
            f"peak {self.peak_mb:.0f} MB, killed={self.killed}\n{tail}"
        )


def run(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    watchdog_mb: float = WATCHDOG_MB,
    stdin: bytes | None = None,
    preexec: Callable[[], None] | None = None,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Outcome:
    """Run a command; its own peak RSS comes from wait4 (not RUSAGE_CHILDREN, which is the
    maximum over every child this process ever had)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env if env is not None else base_env(),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=preexec,
        )
        if stdin is not None:
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(stdin)
            proc.stdin.close()
        if on_start is not None:
            on_start(proc)
        killed = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if killed is None:
                if time.monotonic() - start > timeout:
                    killed = "timeout"
                elif rss_mb(proc.pid) > watchdog_mb:
                    killed = "memory"
                if killed:
                    proc.kill()
            time.sleep(0.01)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Outcome(
            args,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,
            killed,
        )


def cli(*args: str, cwd: Path, **kw: Any) -> Outcome:
    return run([PROMPTEUR, *args], cwd=cwd, **kw)


def assert_user_error(o: Outcome, *, codes: tuple[int, ...] = (2,)) -> None:
    """A mistake said in a clear line: the expected exit code, an `error` line, no trace."""
    assert o.killed is None, str(o)
    assert "Traceback" not in o.output, str(o)
    assert o.returncode in codes, str(o)
    assert re.search(r"(?im)^\s*(error|model error)\b", o.stderr), str(o)


def assert_bounded(o: Outcome, baseline: Outcome) -> None:
    """Within BOMB_SECONDS and BOMB_MB of the same command on a harmless input."""
    assert o.killed is None, str(o)
    assert o.seconds - baseline.seconds <= BOMB_SECONDS, (
        f"{o.seconds:.2f} s vs {baseline.seconds:.2f} s for the baseline\n{o}"
    )
    assert o.peak_mb - baseline.peak_mb <= BOMB_MB, (
        f"{o.peak_mb:.0f} MB vs {baseline.peak_mb:.0f} MB for the baseline\n{o}"
    )


def late(baseline: Outcome) -> float:
    """When to stop waiting for a bomb: past its bound already, with a margin."""
    return baseline.seconds + BOMB_SECONDS + 5


def runs_json(root: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    o = cli("runs", "--json", "--limit", "100", cwd=root, env=env)
    assert o.returncode == 0, str(o)
    return json.loads(o.stdout)


# ---- projects and canaries -------------------------------------------------------------------


class Canary:
    """Files outside the project (and a few inside it that no request may write) with a
    unique marker: their content must never appear in a response, and their bytes and
    mtime must never change."""

    def __init__(self, outside: Path, watched: list[Path] | None = None) -> None:
        self.marker = marker("CANARY")
        outside.mkdir(parents=True, exist_ok=True)
        self.dir = outside
        self.prompt = outside / "canary.prompty"
        self.prompt.write_text(
            f"---\nname: canary\ndescription: {self.marker}\n---\nuser:\n{self.marker}\n",
            encoding="utf-8",
        )
        self.text = outside / "canary.txt"
        self.text.write_text(f"{self.marker}\n", encoding="utf-8")
        # What issue 15 overwrote: a Python file parses as a prompt with no front matter.
        self.python = outside / "victim.py"
        self.python.write_text(f"print('{self.marker}')\n", encoding="utf-8")
        self.suite = outside / "canary-suite.yaml"
        self.suite.write_text(
            f"prompts: [sentiment]\ncases:\n  - inputs: {{review: {self.marker}}}\n"
            f"    expected: {self.marker}\n",
            encoding="utf-8",
        )
        self.watched = [self.prompt, self.text, self.python, self.suite, *(watched or [])]
        self._before = self._snapshot()
        self._listing = sorted(outside.iterdir())

    def _snapshot(self) -> dict[Path, tuple[bytes, int]]:
        return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in self.watched}

    def assert_untouched(self) -> None:
        """Fails if a watched file changed or a file appeared, after putting things back
        (so that one hole does not fail every test after it)."""
        after = self._snapshot()
        changed = [p for p in self.watched if after[p] != self._before[p]]
        for p in changed:
            data, mtime = self._before[p]
            p.write_bytes(data)
            os.utime(p, ns=(mtime, mtime))
        added = sorted(set(self.dir.iterdir()) - set(self._listing))
        for p in added:
            if p.is_file() or p.is_symlink():
                p.unlink()
        assert not changed, f"written by a request: {[str(p) for p in changed]}"
        assert not added, f"created by a request: {added}"


@dataclass
class Project:
    root: Path
    outside: Path
    canary: Canary
    toml_marker: str
    trusted: LoopbackServer
    keys_env: dict[str, str]  # the provider keys (markers) of its server and CLI runs

    @property
    def toml(self) -> Path:
        return self.root / "prompteur.toml"


def openai_reply(outputs: Callable[[Recorded], str] | None = None, delay: float = 0.0) -> Any:
    """A handler answering OpenAI chat and text completions."""

    def handle(req: Recorded) -> Reply:
        text = outputs(req) if outputs else "positive"
        return Reply(
            200,
            {
                "id": "cmpl-test",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "text": text,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            },
            delay=delay,
        )

    return handle


def listener(outputs: Callable[[Recorded], str] | None = None, delay: float = 0.0) -> Any:
    """A LoopbackServer on 127.0.0.1 answering like OpenAI; `.requests` records everything
    (headers included). Use as a context manager."""
    return LoopbackServer(openai_reply(outputs, delay))


def init_project(root: Path) -> None:
    o = cli("init", str(root), cwd=root.parent)
    assert o.returncode == 0, str(o)


TRUSTED_MODEL = "openai:gpt-4o-mini"


def make_project(tmp: Path, trusted: LoopbackServer) -> Project:
    """`prompteur init` plus: a marker in prompteur.toml, the OpenAI and OpenAI-compatible
    providers pointed at `trusted` (a listener this test runs), that as the default model,
    a prompt of the project whose model is the configured OpenAI-compatible endpoint, a
    two-case suite, and canaries outside the project."""
    root = tmp / "proj"
    init_project(root)
    toml_marker = marker("TOML")
    text = (root / "prompteur.toml").read_text(encoding="utf-8")
    text = text.replace('default_model = "local"', f'default_model = "{TRUSTED_MODEL}"')
    text = text.replace('base_url = "https://api.openai.com/v1"', f'base_url = "{trusted.url}/v1"')
    assert TRUSTED_MODEL in text and trusted.url in text, text
    text = (
        f'# {toml_marker}\n{text}\n[providers.openai-compatible]\nbase_url = "{trusted.url}/v1"\n'
    )
    (root / "prompteur.toml").write_text(text, encoding="utf-8")
    (root / "prompts" / "compat-ok.prompty").write_text(
        f"---\nname: compat-ok\nmodel: openai-compatible:served@{trusted.url}/v1\n"
        "inputs:\n  review:\n    kind: string\n---\nuser:\nSentiment of: {{ review }}\n",
        encoding="utf-8",
    )
    (root / "suites" / "compat-ok.yaml").write_text(
        "prompts: [compat-ok]\nchecks:\n  - type: equals\ncases:\n"
        "  - inputs: {review: fine}\n    expected: positive\n"
        "  - inputs: {review: bad}\n    expected: negative\n",
        encoding="utf-8",
    )
    (root / "suites" / "tiny.yaml").write_text(
        f"prompts: [sentiment]\nmodels: [{TRUSTED_MODEL}]\nchecks:\n  - type: equals\ncases:\n"
        "  - inputs: {review: fine}\n    expected: positive\n"
        "  - inputs: {review: bad}\n    expected: negative\n",
        encoding="utf-8",
    )
    outside = tmp / "outside"
    canary = Canary(
        outside,
        watched=[root / "prompteur.toml", root / "suites" / "sentiment.yaml"],
    )
    return Project(root, outside, canary, toml_marker, trusted, key_markers())


def make_key(root: Path, scope: str) -> str:
    o = cli("keys", "create", "--scopes", scope, "--name", f"attack-{scope}", cwd=root)
    assert o.returncode == 0, str(o)
    secret = o.stdout.strip()
    assert secret.startswith("ptk_"), str(o)
    return secret


def bearer(secret: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


# ---- the server -----------------------------------------------------------------------------


class Server:
    """`prompteur serve` (or `prompteur view`) in its own process on a loopback port, with a
    watchdog that kills it past WATCHDOG_MB. Its stderr goes to a file (`log()`)."""

    def __init__(
        self,
        root: Path,
        *,
        dev: bool = False,
        view: bool = False,
        env: dict[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.root = root
        self.port = free_port()
        self.host = host
        if view:
            args = [PROMPTEUR, "view", "--no-open", "--port", str(self.port)]
        else:
            args = [PROMPTEUR, "serve", "--host", host, "--port", str(self.port)]
            args += ["--log-level", "warning"] + (["--dev"] if dev else [])
        args += ["--project", str(root)]
        self.args = args
        self.env = base_env(**(env or {}))
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed_for: str | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="prompteur-serve-", suffix=".log")  # noqa: SIM115
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 60) -> Server:
        self.proc = subprocess.Popen(
            self.args,
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._watch, daemon=True).start()
        deadline = time.monotonic() + wait
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(self.url + "/openapi.json", timeout=2)
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer: {self.log()}")
            time.sleep(0.1)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            proc = self.proc
            if proc is None or proc.poll() is not None:
                return
            if rss_mb(proc.pid) > WATCHDOG_MB:
                self.killed_for = f"memory over {WATCHDOG_MB} MB"
                proc.kill()
                return

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self) -> None:
        self._stop.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, secret: str | None = None, timeout: float = 30, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=bearer(secret), timeout=timeout, **kw)

    def same_origin(self) -> dict[str, str]:
        """What a browser sends with a form of this site."""
        return {"Origin": self.url, "Sec-Fetch-Site": "same-origin"}


# Keys of the default provider env: their values are markers a leak test looks for.
def key_markers() -> dict[str, str]:
    return {
        "OPENAI_API_KEY": marker("sk-openai-KEY"),
        "OPENAI_COMPATIBLE_API_KEY": marker("sk-compat-KEY"),
    }


@contextlib.contextmanager
def listening_project(
    tmp: Path, outputs: Callable[[Recorded], str] | None = None
) -> Iterator[Project]:
    """make_project with its own trusted listener, answering `outputs`."""
    with listener(outputs) as trusted:
        yield make_project(tmp, trusted)


# ---- responses ------------------------------------------------------------------------------


def send(c: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response | str:
    """The response, or what went wrong on the wire (a reset connection is an answer too:
    the server crashed or refused to parse the request)."""
    try:
        return c.request(method, url, **kw)
    except httpx.HTTPError as exc:
        return f"{method} {url[:200]} → no answer: {exc!r}"


def expect(
    failures: list[str], r: httpx.Response | str, check: Callable[[httpx.Response], None]
) -> None:
    """Run `check` on an answer of `send`, adding what is wrong to `failures`: a test that
    walks many names reports them all, not the first."""
    if isinstance(r, str):
        failures.append(r)
        return
    try:
        check(r)
    except AssertionError as exc:
        failures.append(str(exc).splitlines()[0][:300])


def _said(r: httpx.Response, where: str) -> str:
    url = str(r.request.url)
    url = url if len(url) <= 160 else url[:150] + f"…({len(url)} chars)"
    body = " ".join(r.text[:300].split())
    return f"{r.status_code} ← {r.request.method} {url} {where}: {body[:160]}"


def assert_clean(r: httpx.Response, project: Project | None = None, *, where: str = "") -> None:
    """No server error, no traceback, no canary, no prompteur.toml in a response."""
    assert r.status_code < 500, f"server error: {_said(r, where)}"
    assert "Traceback (most recent call last)" not in r.text, f"traceback: {_said(r, where)}"
    if project is not None:
        assert project.canary.marker not in r.text, f"canary leaked: {_said(r, where)}"
        assert project.toml_marker not in r.text, f"prompteur.toml leaked: {_said(r, where)}"


def assert_refused(r: httpx.Response, project: Project | None = None, *, where: str = "") -> None:
    """A 4xx that says no: never 200, never 500."""
    assert_clean(r, project, where=where)
    assert r.status_code in STATUS_4XX, f"not a 4xx: {_said(r, where)}"


def nested_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def nested_object(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


# ---- raw HTTP -------------------------------------------------------------------------------


@dataclass
class RawAnswer:
    status: int | None  # None: the connection closed with no response at all
    head: str
    sent: int


def raw_post(
    url: str,
    path: str,
    size: int,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    chunked: bool = False,
    timeout: float = 60,
) -> RawAnswer:
    """Send `size` bytes to `path`, reading the answer while sending: a server that refuses
    a large body early (413 on Content-Length or past its limit) is heard even when it
    closes the connection before the body is all sent."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    piece = b'{"a":"' + b"x" * (64 * 1024) + b'"}'
    sent = 0
    got = b""
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(head)
        s.setblocking(False)
        closed = False
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([s], [s] if sent < size else [], [], 0.5)
            if readable:
                try:
                    data = s.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if not data:
                    closed = True
                    break
                got += data
                if b"\r\n\r\n" in got:
                    break
            if writable and sent < size:
                chunk = piece[: min(len(piece), size - sent)]
                wire = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
                try:
                    n = s.send(wire)
                except (BrokenPipeError, ConnectionResetError, BlockingIOError):
                    n = 0
                    if not readable:
                        time.sleep(0.05)
                if chunked:
                    if n < len(wire):
                        # keep the framing simple: finish sending this chunk blocking
                        s.setblocking(True)
                        with contextlib.suppress(OSError):
                            s.sendall(wire[n:])
                        s.setblocking(False)
                    sent += len(chunk)
                else:
                    sent += n
                if sent >= size and chunked:
                    with contextlib.suppress(OSError):
                        s.send(b"0\r\n\r\n")
        if not closed and b"\r\n\r\n" not in got:
            s.setblocking(True)
            s.settimeout(max(1.0, deadline - time.monotonic()))
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in got:
                    data = s.recv(65536)
                    if not data:
                        break
                    got += data
    text = got.decode("latin-1")
    m = re.match(r"HTTP/1\.[01] (\d{3})", text)
    return RawAnswer(int(m.group(1)) if m else None, text.split("\r\n\r\n")[0], sent)


# ---- names that are paths -------------------------------------------------------------------


def path_names(project: Project, *, for_writes: bool = False) -> list[str]:
    """Prompt names that are really paths to files outside the library: absolute, relative
    to the server's folder or to prompts/, with `..`, backslashes, a NUL, look-alikes, 2 kB.

    `for_writes`: only files this test made. A request that may write (a playground save)
    must never name a file of the machine: on an unfixed server, as root, it overwrites it.
    """
    c = project.canary
    root = project.root
    names = [
        str(c.prompt),
        str(c.text),
        str(c.python),
        str(root / "prompteur.toml"),
        str(root / ".prompteur" / "prompteur.db"),
        "prompteur.toml",
        "./prompteur.toml",
        "../prompteur.toml",
        "suites/sentiment.yaml",
        "../outside/canary.prompty",
        "../../outside/canary.prompty",
        "sentiment/../../prompteur.toml",
        "..\\prompteur.toml",
        "..\\..\\outside\\canary.prompty",
        "sentiment\x00.prompty",
        "\uff0e\uff0e\uff0fprompteur.toml",  # fullwidth ../ (NFKC folds it to ASCII)
        "\u2025/prompteur.toml",  # two dot leader
        "..\u2215prompteur.toml",  # division slash
        "a" * 2048,
    ]
    if not for_writes:
        names += ["/etc/passwd", "/proc/self/environ", "~/.bashrc"]
    else:
        for name in names:
            assert_inside(name, project)
    return names


def assert_inside(name: str, project: Project) -> None:
    """A tripwire: a name a write test sends resolves inside this test's folder, from the
    server's folder and from its prompts/ folder alike."""
    base = project.root.parents[1].resolve()  # the test session's own temporary folder
    for start in (project.root, project.root / "prompts"):
        target = (start / name.replace("\x00", "")).resolve()
        assert target == base or base in target.parents, f"{name!r} leaves the test's folder"


def encodings(name: str) -> list[str]:
    """`name` as it travels in a URL: encoded once, encoded twice."""
    once = quote(name, safe="")
    return [once, quote(once, safe="")]


# ---- the app's routes -----------------------------------------------------------------------

_ROUTES_CODE = """
import json, sys
from prompteur.app import create_app

def walk(routes, prefix=""):
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI >= 0.16x keeps included routers
        if inner is not None:
            context = getattr(r, "include_context", None)
            yield from walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif getattr(r, "methods", None):
            for m in r.methods - {"HEAD"}:
                yield m, prefix + r.path
        elif getattr(r, "routes", None):  # a Mount
            yield from walk(r.routes, prefix + r.path)

print(json.dumps(sorted(set(walk(create_app([sys.argv[1]]).routes)))))
"""


def app_routes(root: Path) -> set[tuple[str, str]]:
    """(method, path template) of every route the server's app has, API and pages."""
    o = run([sys.executable, "-c", _ROUTES_CODE, str(root)], cwd=root)
    assert o.returncode == 0, str(o)
    return {(m, p) for m, p in json.loads(o.stdout)}


def concrete(path: str, values: dict[str, str]) -> str:
    """A route's template with its parameters filled from `values` (else "1")."""
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: values.get(m.group(1), "1"), path)
