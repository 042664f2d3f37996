"""Counters of a SIP worker in Prometheus text format, served on a local HTTP port.

Plain ``http.server``: a handful of counters does not need a client library. Names follow
Prometheus conventions (``_total`` counters, ``_seconds`` units).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LATENCY_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)


class Metrics:
    """Thread-safe counters: calls, outcomes (containment), transfers, agent answers, turn latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.active = 0
        self._latency = [0] * (len(LATENCY_BUCKETS) + 1)
        self._latency_sum = 0.0

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        with self._lock:
            self.counters[(name, tuple(sorted(labels.items())))] += value

    def call_started(self) -> None:
        with self._lock:
            self.active += 1
        self.inc("voicebot_calls_total")

    def call_ended(self, outcome: str) -> None:
        with self._lock:
            self.active -= 1
        self.inc("voicebot_calls_ended_total", outcome=outcome)

    def agent_attempt(self, pool: str, answered: bool, answer_s: float | None) -> None:
        self.inc("voicebot_agent_offered_total", pool=pool)
        if answered:
            self.inc("voicebot_agent_answered_total", pool=pool)
            self.inc("voicebot_agent_answer_seconds_sum", answer_s or 0.0, pool=pool)

    def turn_latency(self, seconds: float) -> None:
        with self._lock:
            self._latency_sum += seconds
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    self._latency[i] += 1
                    break
            else:
                self._latency[-1] += 1

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self.counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def render(self) -> str:
        """The exposition text."""
        with self._lock:
            lines = ["# TYPE voicebot_calls_active gauge", f"voicebot_calls_active {self.active}"]
            seen: set[str] = set()
            for (name, labels), value in sorted(self.counters.items()):
                if name not in seen:
                    seen.add(name)
                    lines.append(f"# TYPE {name} counter")
                label = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                lines.append(f"{name}{{{label}}} {value:g}" if label else f"{name} {value:g}")
            ended = sum(v for (n, _), v in self.counters.items() if n == "voicebot_calls_ended_total")
            contained = self.counters.get(("voicebot_calls_ended_total", (("outcome", "self_service"),)), 0.0)
            lines += ["# TYPE voicebot_containment_ratio gauge",
                      f"voicebot_containment_ratio {contained / ended if ended else 0:g}",
                      "# TYPE voicebot_turn_latency_seconds histogram"]
            total = 0
            for bound, count in zip(LATENCY_BUCKETS, self._latency, strict=False):
                total += count
                lines.append(f'voicebot_turn_latency_seconds_bucket{{le="{bound}"}} {total}')
            total += self._latency[-1]
            lines += [f'voicebot_turn_latency_seconds_bucket{{le="+Inf"}} {total}',
                      f"voicebot_turn_latency_seconds_sum {self._latency_sum:g}",
                      f"voicebot_turn_latency_seconds_count {total}"]
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    """A label value as the exposition format wants it: backslash, quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def serve_metrics(metrics: Metrics, host: str, port: int,
                  health: Callable[[], dict[str, Any]] | None = None) -> ThreadingHTTPServer:
    """Serve ``/metrics`` (and ``/health`` for load balancers and unit files: 200 while the worker
    takes calls, 503 once it is stopping) on a daemon thread; returns the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/health" and health is not None:
                state = health()
                body = json.dumps(state).encode()
                self.send_response(200 if state.get("status") == "ok" else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if path != "/metrics":
                self.send_error(404, "try /metrics or /health")
                return
            body = metrics.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
