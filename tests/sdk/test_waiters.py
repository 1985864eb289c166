"""Waiting for jobs, without a server: a scripted sequence of states."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from lakeworks.schemas.jobs import JobCreate, JobInfo
from lakeworks.sdk.waiters import poll_intervals, wait_for_job

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def job(status: str, secondary: str = "") -> JobInfo:
    return JobInfo(
        job_name="j",
        job_arn="arn:aws:sagemaker:us-east-1:000000000000:training-job/j",
        job_type="script",
        status=status,  # type: ignore[arg-type]
        secondary_status=secondary,
        creation_time=NOW,
        last_modified_time=NOW,
        spec=JobCreate(job_name="j", entry_point="x.py"),
    )


def scripted(*states: JobInfo) -> tuple[Callable[[], JobInfo], list[JobInfo]]:
    seen: list[JobInfo] = []
    remaining: Iterator[JobInfo] = iter(states)

    def describe() -> JobInfo:
        seen.append(next(remaining))
        return seen[-1]

    return describe, seen


def test_wait_returns_the_final_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lakeworks.sdk.waiters.time.sleep", lambda _: None)
    describe, seen = scripted(
        job("InProgress", "Starting"), job("InProgress", "Training"), job("Failed", "Failed")
    )
    final = wait_for_job(describe, progress=False)
    assert final.status == "Failed"
    assert len(seen) == 3


def test_wait_raises_timeout_error_naming_the_job() -> None:
    describe, _ = scripted(job("InProgress", "Training"), job("InProgress", "Training"))
    with pytest.raises(TimeoutError) as caught:
        wait_for_job(describe, timeout=0, progress=False)
    assert "Job j is still InProgress (Training)" in str(caught.value)


def test_wait_is_silent_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    describe, _ = scripted(job("Completed", "Completed"))
    assert wait_for_job(describe, progress=True).status == "Completed"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_poll_intervals_grow_to_a_ceiling() -> None:
    intervals = poll_intervals(first=0.1, most=1.0, factor=2)
    taken = [next(intervals) for _ in range(6)]
    assert taken == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_wait_shows_a_spinner_with_the_secondary_status_in_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: treat the captured stream as a terminal
    monkeypatch.setattr("lakeworks.sdk.waiters.time.sleep", lambda _: None)
    describe, _ = scripted(job("InProgress", "Downloading"), job("Completed", "Completed"))
    assert wait_for_job(describe, progress=True).status == "Completed"
    captured = capsys.readouterr()
    assert captured.out == "", "progress goes to stderr, keeping stdout for results"
    assert "Job j: Completed / Completed" in captured.err  # the last state shown


def test_progress_false_is_silent_even_in_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    describe, _ = scripted(job("Stopped", "Stopped"))
    assert wait_for_job(describe, progress=False).status == "Stopped"
    assert capsys.readouterr().err == ""
