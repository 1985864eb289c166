"""The job state machine on PostgreSQL: two supervisors, one database, each job run once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from tests.jobs.conftest import ADMIN, DirLake, MakeJobs

from lakeworks.db import Database
from lakeworks.schemas.jobs import JobCreate
from lakeworks.testing.fake_backend import FakeBackend, FakeMachine, FakeOutcome

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    db = Database(postgres_url)
    db.upgrade()
    yield db
    db.dispose()


def test_two_supervisors_share_a_postgres_database(
    make_jobs: MakeJobs, pg: Database, lake: DirLake
) -> None:
    lake.put("s3://code/train.py", b"print(1)\n")
    machine = FakeMachine()
    outcome = FakeOutcome(duration=0.05, output="é".encode())
    a_backend = FakeBackend(machine=machine, default=outcome)
    b_backend = FakeBackend(machine=machine, default=outcome)
    a = make_jobs(a_backend, db=pg, start=False, max_concurrent=2)
    b = make_jobs(b_backend, db=pg, start=False, max_concurrent=2)
    prefix = f"pg-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{i}" for i in range(8)]
    for name in names:
        a.service.create_job(
            ADMIN, JobCreate(job_name=name, code_uri="s3://code/train.py", entry_point="train.py")
        )
    a.service.start()
    b.service.start()
    for name in names:
        assert a.wait(name).status == "Completed"
    assert sorted(a_backend.submitted + b_backend.submitted) == sorted(names)
    listed = a.service.list_jobs(ADMIN, name_contains=prefix.upper(), max_results=100)
    assert len(listed.items) == len(names)
    assert a.service.read_job_logs(ADMIN, names[0]).data == "é"
