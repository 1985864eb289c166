"""Job start overhead: submit → running → Completed for a no-op job, against plain `python`."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from lakeworks.testing.process import server_process

RUNS = 20


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "noop.py"
        script.write_text("print('ok')\n")
        direct = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
            direct.append(time.perf_counter() - start)
        with server_process(
            work / "home", env={"LAKEWORKS_JOBS_POLL_INTERVAL_SECONDS": "0.02"}
        ) as srv:
            api = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"})
            api.post("/api/v1/buckets", json={"name": "bench"}).raise_for_status()
            api.put("/api/v1/buckets/bench/objects/noop.py", content=script.read_bytes())
            running, done = [], []
            for i in range(RUNS):
                start = time.perf_counter()
                api.post(
                    "/api/v1/jobs",
                    json={
                        "job_name": f"noop-{i}",
                        "code_uri": "s3://bench/noop.py",
                        "entry_point": "noop.py",
                    },
                ).raise_for_status()
                seen_running = None
                while True:
                    job = api.get(f"/api/v1/jobs/noop-{i}").json()
                    if seen_running is None and (
                        job["start_time"] or job["status"] != "InProgress"
                    ):
                        seen_running = time.perf_counter() - start
                    if job["status"] != "InProgress":
                        break
                    time.sleep(0.005)
                assert job["status"] == "Completed", job
                running.append(seen_running)
                done.append(time.perf_counter() - start)
    print(f"no-op job, {RUNS} runs (2-core machine)")
    print(f"  plain python        p50 {_pct(direct, 0.5):.3f} s  p95 {_pct(direct, 0.95):.3f} s")
    print(f"  submit → running    p50 {_pct(running, 0.5):.3f} s  p95 {_pct(running, 0.95):.3f} s")
    print(f"  submit → Completed  p50 {_pct(done, 0.5):.3f} s  p95 {_pct(done, 0.95):.3f} s")
    print(
        f"  overhead over plain python (p50): {_pct(done, 0.5) - statistics.median(direct):.3f} s"
    )


if __name__ == "__main__":
    main()
