"""A fast OpenAI-compatible stub on loopback, for benchmarks and tests.

    python benchmarks/stub_server.py --port 0 --delay 0.05 [--faults 0.2] [--seed 1]

Plain asyncio (standard library only), HTTP/1.1 with keep-alive: one process answers hundreds
of concurrent requests at a fixed delay without being the bottleneck.

- `POST /v1/chat/completions` (and `/v1/completions`): after `--delay` seconds, a completion
  whose text is `--reply` (default "positive"), with a usage block.
- Fault injection on a share `--faults` of the model requests, drawn with a seeded RNG and
  split evenly between the kinds in `--fault-kinds` (default all four):
  - `429`: HTTP 429 with `Retry-After: --retry-after` seconds (a decimal number);
  - `500`: HTTP 500 with an OpenAI-shaped error body;
  - `hang`: no answer for `--hang` seconds (the client's timeout must fire), then the
    connection is closed;
  - `drop`: the connection is closed without an answer, right after the request is read.
- A rate-limit storm with `--storm START,END`: from START to END seconds after the first
  model request (since the last reset), every model request is answered 429 with
  Retry-After (counted as `storm`, apart from the random faults): for testing how a client
  backs off and recovers.
- `GET /stats`: JSON counters — `requests` (model requests received), `ok`, one counter per
  fault kind, `storm`, `peak_in_flight` (most model requests being answered at once) and
  `span_s` (seconds from the first model request to the last answer: the client's run
  without its start-up and report). `POST /reset` zeroes them.

On start it prints one line, `listening on http://127.0.0.1:PORT`, and flushes stdout, so a
parent can read the port when it asked for `--port 0`. `serve()` runs it in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("429", "500", "hang", "drop")


@dataclass
class StubConfig:
    delay: float = 0.05
    faults: float = 0.0
    fault_kinds: tuple[str, ...] = KINDS
    retry_after: float = 0.1
    hang: float = 30.0
    reply: str = "positive"
    seed: int = 1
    storm: tuple[float, float] | None = None  # seconds after the first request


@dataclass
class Stub:
    config: StubConfig
    stats: Counter[str] = field(default_factory=Counter)
    first: float | None = None  # monotonic time of the first model request
    last: float | None = None  # ... and of the last answer
    in_flight: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)

    def reset(self) -> None:
        self.stats.clear()
        self.first = self.last = None

    def report(self) -> dict[str, float]:
        out: dict[str, float] = dict(self.stats)
        if self.first is not None and self.last is not None:
            out["span_s"] = round(self.last - self.first, 4)
        return out

    def in_storm(self, now: float) -> bool:
        storm = self.config.storm
        if storm is None or self.first is None:
            return False
        return storm[0] <= now - self.first < storm[1]

    def draw(self) -> str | None:
        c = self.config
        if c.faults <= 0 or not c.fault_kinds:
            return None
        if self.rng.random() >= c.faults:
            return None
        return self.rng.choice(c.fault_kinds)

    def completion(self, chat: bool) -> bytes:
        text = self.config.reply
        choice: dict[str, object] = {"index": 0, "finish_reason": "stop"}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        body = {
            "id": f"stub-{self.stats['requests']}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": "stub",
            "choices": [choice],
            "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
        }
        return json.dumps(body).encode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                close = False
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                if length:
                    await reader.readexactly(length)
                if not await self.respond(method, path.partition("?")[0], writer):
                    return  # dropped or hung: the connection is closed
                await writer.drain()
                if close:
                    return
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            ValueError,
            asyncio.LimitOverrunError,
        ):
            return
        finally:
            writer.close()

    async def respond(self, method: str, path: str, writer: asyncio.StreamWriter) -> bool:
        if method == "GET" and path == "/stats":
            send(writer, 200, json.dumps(self.report()).encode())
            return True
        if method == "POST" and path == "/reset":
            self.reset()
            send(writer, 200, b"{}")
            return True
        if method != "POST" or not path.endswith("completions"):
            send(writer, 404, b'{"error": {"message": "not found", "type": "not_found"}}')
            return True
        now = time.monotonic()
        if self.first is None:
            self.first = now
        self.stats["requests"] += 1
        self.in_flight += 1
        self.stats["peak_in_flight"] = max(self.stats["peak_in_flight"], self.in_flight)
        try:
            return await self._answer(writer, now, chat="chat" in path)
        finally:
            self.in_flight -= 1
            self.last = time.monotonic()

    async def _answer(self, writer: asyncio.StreamWriter, now: float, *, chat: bool) -> bool:
        storm = self.in_storm(now)
        fault = None if storm else self.draw()
        if fault == "drop":
            self.stats["drop"] += 1
            return False
        if fault == "hang":
            self.stats["hang"] += 1
            await asyncio.sleep(self.config.hang)
            return False
        await asyncio.sleep(self.config.delay)
        if storm or fault == "429":
            self.stats["storm" if storm else "429"] += 1
            err = b'{"error": {"message": "slow down", "type": "rate_limit_exceeded"}}'
            send(writer, 429, err, f"Retry-After: {self.config.retry_after:g}\r\n")
        elif fault == "500":
            self.stats["500"] += 1
            send(writer, 500, b'{"error": {"message": "boom", "type": "server_error"}}')
        else:
            self.stats["ok"] += 1
            send(writer, 200, self.completion(chat=chat))
        return True


REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}


def send(writer: asyncio.StreamWriter, status: int, body: bytes, extra: str = "") -> None:
    head = (
        f"HTTP/1.1 {status} {REASONS[status]}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    writer.write(head.encode() + body)


async def serve(
    config: StubConfig, host: str = "127.0.0.1", port: int = 0
) -> tuple[asyncio.Server, Stub, int]:
    """Start the stub on the running loop; returns (server, stub, port)."""
    stub = Stub(config)
    server = await asyncio.start_server(stub.handle, host, port, backlog=1024)
    return server, stub, server.sockets[0].getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    ap.add_argument("--delay", type=float, default=0.05, help="seconds before each answer")
    ap.add_argument("--faults", type=float, default=0.0, help="share of faulty requests, 0-1")
    ap.add_argument(
        "--fault-kinds", default=",".join(KINDS), help="comma-separated: " + ",".join(KINDS)
    )
    ap.add_argument("--retry-after", type=float, default=0.1, help="Retry-After of a 429, seconds")
    ap.add_argument("--hang", type=float, default=30.0, help="seconds a hung request waits")
    ap.add_argument("--reply", default="positive")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--storm",
        metavar="START,END",
        help="answer every model request 429 from START to END seconds after the first one",
    )
    a = ap.parse_args(argv)
    storm = None
    if a.storm:
        try:
            start, end = (float(x) for x in a.storm.split(","))
        except ValueError:
            ap.error("--storm takes START,END in seconds, e.g. 0.5,1.5")
        storm = (start, end)
    kinds = tuple(k for k in a.fault_kinds.split(",") if k)
    bad = set(kinds) - set(KINDS)
    if bad:
        ap.error(f"unknown fault kinds: {sorted(bad)}")
    config = StubConfig(
        a.delay, a.faults, kinds, a.retry_after, a.hang, a.reply, a.seed, storm=storm
    )

    async def run() -> None:
        server, _, port = await serve(config, a.host, a.port)
        print(f"listening on http://{a.host}:{port}", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
