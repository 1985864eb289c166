"""The supervisor: restart recovery, compare-and-set transitions, two supervisors on one DB."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from tests.jobs.conftest import ADMIN, DirLake, Harness, MakeJobs, wait_for

from lakeworks.backends.base import Handle, LaunchSpec
from lakeworks.jobs.store import JobRecord, advance, claim_pending, get_job, update_job
from lakeworks.schemas.jobs import JobCreate
from lakeworks.testing.fake_backend import FakeBackend, FakeMachine, FakeOutcome


def spec(name: str, **fields: Any) -> JobCreate:
    return JobCreate(job_name=name, code_uri="s3://code/train.py", entry_point="train.py", **fields)


@pytest.fixture(autouse=True)
def _code(lake: DirLake) -> None:
    lake.put("s3://code/train.py", b"print('hi')\n")


def record(jobs: Harness, name: str) -> JobRecord:
    with jobs.db.session() as session:
        found = get_job(session, name)
    assert found is not None
    return found


def force(jobs: Harness, name: str, **values: Any) -> None:
    """Put a job into a state directly (as a crashed server would have left it)."""
    update_job(jobs.db, name, lambda r: values, jobs.service.clock)


DEAD_OWNER = f"{socket.gethostname()}|/nonexistent/dead-supervisor.lock"


def test_a_restarted_server_adopts_a_running_job(make_jobs: MakeJobs, lake: DirLake) -> None:
    backend = FakeBackend()
    backend.script("long", FakeOutcome(duration=0.5, files={"model/m": b"w"}))
    first = make_jobs(backend)
    first.service.create_job(ADMIN, spec("long", output_path="s3://out/r"))
    first.wait("long", ("Training",))
    wait_for(lambda: record(first, "long").handle)
    first.service.close()  # its supervisor is gone; the job keeps "running"

    restarted = backend.restarted()
    second = make_jobs(restarted, db=first.db)
    info = second.wait("long")
    assert info.status == "Completed"
    assert restarted.launches == []  # adopted, not started again
    assert record(second, "long").owner == second.service.supervisor.owner
    assert lake.get("s3://out/r/long/output/model.tar.gz")


def test_a_job_that_ended_while_the_server_was_down_is_finished(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script("quick", FakeOutcome(duration=0.2, exit_code=2, output=b"oops\n"))
    first = make_jobs(backend)
    first.service.create_job(ADMIN, spec("quick"))
    wait_for(lambda: record(first, "quick").handle)
    first.service.close()
    second = make_jobs(backend.restarted(), db=first.db)
    info = second.wait("quick")
    assert info.status == "Failed"
    assert info.exit_code == 2
    assert "oops" in (info.failure_reason or "")


def test_a_job_lost_while_the_server_was_down_fails_with_the_reason(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script("lost", FakeOutcome(duration=60))
    first = make_jobs(backend)
    first.service.create_job(ADMIN, spec("lost"))
    handle: Handle = wait_for(lambda: record(first, "lost").handle)
    first.service.close()
    backend.vanish(handle)
    second = make_jobs(backend.restarted(), db=first.db)
    info = second.wait("lost")
    assert info.status == "Failed"
    assert "disappeared without an exit status" in (info.failure_reason or "")
    assert "vanished" in (info.failure_reason or "")


def test_a_job_cut_off_while_staging_is_requeued_and_runs(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False)
    jobs.service.create_job(ADMIN, spec("staged"))
    now = jobs.service.clock()
    force(
        jobs,
        "staged",
        owner=DEAD_OWNER,
        **advance(record(jobs, "staged"), "Downloading", now, message="Downloading input data"),
    )
    jobs.service.start()
    info = jobs.wait("staged")
    assert info.status == "Completed"
    statuses = [t.status for t in info.secondary_status_transitions]
    assert statuses[:4] == ["Pending", "Downloading", "Pending", "Starting"]
    assert info.secondary_status_transitions[2].status_message == "Requeued after a server restart"


@pytest.mark.parametrize(
    ("status", "secondary", "final", "reason"),
    [
        ("InProgress", "Training", "Failed", "went down while starting the job's process"),
        ("Stopping", "Stopping", "Stopped", None),
    ],
)
def test_jobs_without_a_process_are_settled_after_a_crash(
    make_jobs: MakeJobs, status: str, secondary: str, final: str, reason: str | None
) -> None:
    jobs = make_jobs(start=False)
    jobs.service.create_job(ADMIN, spec("orphan"))
    moved = advance(record(jobs, "orphan"), secondary, jobs.service.clock(), status=status)
    force(jobs, "orphan", owner=DEAD_OWNER, **moved)
    jobs.service.start()
    info = jobs.wait("orphan")
    assert info.status == final
    if reason:
        assert reason in (info.failure_reason or "")
    assert jobs.backend.launches == []


def test_jobs_of_a_live_or_remote_supervisor_are_left_alone(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False)
    jobs.service.create_job(ADMIN, spec("remote"))
    moved = advance(record(jobs, "remote"), "Training", jobs.service.clock())
    force(jobs, "remote", owner="some-other-host|/x.lock", handle={"id": "x"}, **moved)
    jobs.service.start()
    jobs.service.supervisor.tick()
    assert record(jobs, "remote").owner == "some-other-host|/x.lock"
    assert jobs.service.describe_job(ADMIN, "remote").status == "InProgress"


def test_a_job_of_another_backend_cannot_be_adopted(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False)
    jobs.service.create_job(ADMIN, spec("ray-job"))
    moved = advance(record(jobs, "ray-job"), "Training", jobs.service.clock())
    force(jobs, "ray-job", owner=DEAD_OWNER, handle={"id": "r"}, backend="ray", **moved)
    jobs.service.start()
    info = jobs.wait("ray-job")
    assert info.status == "Failed"
    assert "'ray' backend" in (info.failure_reason or "")


def test_compare_and_set_refuses_a_stale_snapshot(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False, max_concurrent=5)
    jobs.service.create_job(ADMIN, spec("cas"))
    seen = record(jobs, "cas")
    now = jobs.service.clock()
    claim = {**advance(seen, "Starting", now), "owner": "a"}
    assert claim_pending(jobs.db, seen, claim, now, limit=5) is True
    # a second supervisor holding the same (now stale) snapshot loses
    assert claim_pending(jobs.db, seen, {**claim, "owner": "b"}, now, limit=5) is False
    assert record(jobs, "cas").owner == "a"
    # a change whose precondition no longer holds does nothing
    assert update_job(jobs.db, "cas", lambda r: None, jobs.service.clock) is None
    assert update_job(jobs.db, "missing", lambda r: {"owner": "x"}, jobs.service.clock) is None


def test_the_claim_respects_the_limit_in_the_same_update(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False, max_concurrent=1)
    for name in ("one", "two"):
        jobs.service.create_job(ADMIN, spec(name))
    now = jobs.service.clock()
    one, two = record(jobs, "one"), record(jobs, "two")
    assert claim_pending(jobs.db, one, {**advance(one, "Starting", now), "owner": "a"}, now, 1)
    assert not claim_pending(jobs.db, two, {**advance(two, "Starting", now), "owner": "b"}, now, 1)
    assert record(jobs, "two").secondary_status == "Pending"


class _CountingBackend(FakeBackend):
    """Fake backends on one machine that remember the most jobs ever running at once."""

    peak: int = 0

    def submit(self, spec: LaunchSpec) -> Handle:
        handle = super().submit(spec)
        with self.machine.lock:
            running = sum(1 for p in self.machine.processes.values() if p.exit_code is None)
        _CountingBackend.peak = max(_CountingBackend.peak, running)
        return handle


def test_two_supervisors_on_one_database_never_start_a_job_twice(make_jobs: MakeJobs) -> None:
    machine = FakeMachine()
    outcome = FakeOutcome(duration=0.05)
    a_backend = _CountingBackend(machine=machine, default=outcome)
    b_backend = _CountingBackend(machine=machine, default=outcome)
    a = make_jobs(a_backend, start=False, max_concurrent=3)
    b = make_jobs(b_backend, db=a.db, start=False, max_concurrent=3)
    names = [f"job-{i}" for i in range(16)]
    for name in names:
        a.service.create_job(ADMIN, spec(name))
    _CountingBackend.peak = 0
    b.service.start()
    wait_for(lambda: len(b_backend.submitted) >= 1)  # b surely takes part; then both race
    a.service.start()
    for name in names:
        assert a.wait(name).status == "Completed"
    started = a_backend.submitted + b_backend.submitted
    assert sorted(started) == sorted(names)  # each exactly once
    assert _CountingBackend.peak <= 3
