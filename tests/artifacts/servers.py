"""Real HTTP servers on 127.0.0.1 imitating the REST endpoints the polls call (MLflow,
GitHub, GitLab, Airflow), with answers shaped like their public API documentation.

`FakeSystem.answer(path, body, status=200, headers=None)` sets what a path (with its
query string, if the poll sends one) answers; ("hang", seconds) never answers in time,
("raw", bytes) sends bytes that are not JSON; ("trickle", seconds, chunks) sends a
valid answer's headers, then one byte every `seconds`. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    path: str
    headers: dict  # names in lower case


@dataclass
class FakeSystem:
    url: str = ""
    answers: dict = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, body, status: int = 200, headers: dict | None = None) -> None:
        self.answers[path] = (status, body, headers or {})

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]


def _handler(system: FakeSystem):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with system.lock:
                system.requests.append(
                    Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
                )
            path_only = self.path.split("?", 1)[0]
            found = system.answers.get(self.path) or system.answers.get(path_only)
            if found is None:
                status, body, headers = 404, {"message": "Not Found"}, {}
            else:
                status, body, headers = found
            if isinstance(body, tuple) and body[0] == "hang":
                time.sleep(body[1])
                return
            if isinstance(body, tuple) and body[0] == "trickle":
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                try:
                    for _n in range(body[2]):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(body[1])
                except OSError:
                    pass  # the client gave up
                return
            data = body[1] if isinstance(body, tuple) and body[0] == "raw" else json.dumps(body)
            data = data.encode() if isinstance(data, str) else data
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def start() -> tuple[FakeSystem, ThreadingHTTPServer]:
    system = FakeSystem()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(system))
    server.daemon_threads = True
    system.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return system, server


# --- answers in the shapes of the public API documentation (our own data) ----------------


def mlflow_model_version(name: str, version: str, *, status="READY", aliases=()) -> dict:
    return {
        "model_version": {
            "name": name,
            "version": version,
            "creation_timestamp": 1764547200000,
            "last_updated_timestamp": 1764550800000,
            "current_stage": "None",
            "description": "",
            "source": f"mlflow-artifacts:/3/abc/artifacts/{name}",
            "run_id": "6f1e0c2ab4d94f0e8a3b7c5d9e1f2a3b",
            "status": status,
            "aliases": list(aliases),
        }
    }


def mlflow_run(run_id: str, status: str) -> dict:
    return {
        "run": {
            "info": {
                "run_id": run_id,
                "experiment_id": "3",
                "status": status,
                "start_time": 1764547200000,
                "end_time": 1764549000000,
                "lifecycle_stage": "active",
            },
            "data": {"metrics": [], "params": [], "tags": []},
        }
    }


def github_combined_status(sha: str, state: str, contexts=()) -> dict:
    return {
        "state": state,
        "sha": sha,
        "total_count": len(contexts),
        "statuses": [
            {"state": context_state, "context": name, "description": "", "target_url": None}
            for name, context_state in contexts
        ],
    }


def github_check_runs(*runs) -> dict:
    return {
        "total_count": len(runs),
        "check_runs": [
            {"id": n + 1, "name": name, "status": status, "conclusion": conclusion}
            for n, (name, status, conclusion) in enumerate(runs)
        ],
    }


def github_pull(number: int, sha: str, *, state="open", merged=False) -> dict:
    return {
        "number": number,
        "state": state,
        "merged": merged,
        "merged_at": "2026-12-01T10:00:00Z" if merged else None,
        "title": "Retrain with November data",
        "head": {"ref": "retrain", "sha": sha},
        "base": {"ref": "main", "sha": "0" * 40},
    }


def airflow_dag_run(dag_id: str, run_id: str, state: str) -> dict:
    return {
        "dag_id": dag_id,
        "dag_run_id": run_id,
        "state": state,
        "execution_date": "2026-12-01T00:00:00+00:00",
        "logical_date": "2026-12-01T00:00:00+00:00",
        "start_date": "2026-12-01T00:05:00+00:00",
        "end_date": "2026-12-01T00:35:00+00:00",
        "run_type": "scheduled",
        "external_trigger": False,
        "conf": {},
    }
