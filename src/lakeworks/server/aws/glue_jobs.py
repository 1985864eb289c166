"""AWS Glue (JSON 1.1) ETL job actions: jobs and job runs, merged into ``glue.py``'s table.

Each handler renders :class:`~lakeworks.etl.service.EtlService` answers with Glue's names.
Spark jobs are refused with a clear ``InvalidInputException`` at CreateJob.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.etl.service import parse_job
from lakeworks.schemas.etl import EtlJobInfo, EtlRunInfo
from lakeworks.server.aws.service import AwsCall, Handler

__all__ = ["ACTIONS"]


def _name(params: dict[str, Any], field: str = "JobName") -> str:
    value = params.get(field)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field} is required", aws_code="InvalidInputException")
    return value


def _arguments(params: dict[str, Any]) -> dict[str, str]:
    value = params.get("Arguments") or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError(
            "Arguments must map strings to strings", aws_code="InvalidInputException"
        )
    return value


def _job(info: EtlJobInfo) -> dict[str, Any]:
    return info.model_dump(mode="json", by_alias=True, exclude_none=True)


def _run(info: EtlRunInfo) -> dict[str, Any]:
    return info.model_dump(mode="json", by_alias=True, exclude_none=True)


async def create_job(call: AwsCall) -> dict[str, Any]:
    """CreateJob (Python shell only)."""
    spec = parse_job(call.params)
    name = await run_in_threadpool(call.platform.etl.create_job, call.ctx, spec)
    return {"Name": name}


async def update_job(call: AwsCall) -> dict[str, Any]:
    """UpdateJob: the JobUpdate replaces the definition."""
    update = call.params.get("JobUpdate")
    if not isinstance(update, dict):
        raise ValidationError("JobUpdate is required", aws_code="InvalidInputException")
    spec = parse_job({**update, "Name": _name(call.params)})
    name = await run_in_threadpool(call.platform.etl.update_job, call.ctx, spec)
    return {"JobName": name}


async def get_job(call: AwsCall) -> dict[str, Any]:
    """GetJob."""
    info = await run_in_threadpool(call.platform.etl.get_job, call.ctx, _name(call.params))
    return {"Job": _job(info)}


async def get_jobs(call: AwsCall) -> dict[str, Any]:
    """GetJobs (every job in one page)."""
    jobs = await run_in_threadpool(call.platform.etl.get_jobs, call.ctx)
    return {"Jobs": [_job(j) for j in jobs]}


async def list_jobs(call: AwsCall) -> dict[str, Any]:
    """ListJobs: the names."""
    jobs = await run_in_threadpool(call.platform.etl.get_jobs, call.ctx)
    return {"JobNames": [j.name for j in jobs]}


async def delete_job(call: AwsCall) -> dict[str, Any]:
    """DeleteJob."""
    name = await run_in_threadpool(call.platform.etl.delete_job, call.ctx, _name(call.params))
    return {"JobName": name}


async def start_job_run(call: AwsCall) -> dict[str, Any]:
    """StartJobRun: Arguments merged over DefaultArguments."""
    name, arguments = _name(call.params), _arguments(call.params)
    run_id = await run_in_threadpool(call.platform.etl.start_job_run, call.ctx, name, arguments)
    return {"JobRunId": run_id}


async def get_job_run(call: AwsCall) -> dict[str, Any]:
    """GetJobRun."""
    run_id = _name(call.params, "RunId")
    info = await run_in_threadpool(
        call.platform.etl.get_job_run, call.ctx, _name(call.params), run_id
    )
    return {"JobRun": _run(info)}


async def get_job_runs(call: AwsCall) -> dict[str, Any]:
    """GetJobRuns: newest first."""
    limit = call.params.get("MaxResults", 100)
    if not isinstance(limit, int):
        raise ValidationError("MaxResults must be an integer", aws_code="InvalidInputException")
    runs = await run_in_threadpool(
        call.platform.etl.get_job_runs, call.ctx, _name(call.params), limit
    )
    return {"JobRuns": [_run(r) for r in runs]}


async def batch_stop_job_run(call: AwsCall) -> dict[str, Any]:
    """BatchStopJobRun."""
    ids = call.params.get("JobRunIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ValidationError("JobRunIds must list run ids", aws_code="InvalidInputException")
    name = _name(call.params)
    stopped, errors = await run_in_threadpool(
        call.platform.etl.batch_stop_job_run, call.ctx, name, ids
    )
    return {
        "SuccessfulSubmissions": [{"JobName": name, "JobRunId": i} for i in stopped],
        "Errors": [
            {
                "JobName": name,
                "JobRunId": i,
                "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": why},
            }
            for i, why in errors
        ],
    }


#: Glue's ETL job actions (merged into :data:`lakeworks.server.aws.glue.SERVICE`).
ACTIONS: dict[str, Handler] = {
    "CreateJob": create_job,
    "UpdateJob": update_job,
    "GetJob": get_job,
    "GetJobs": get_jobs,
    "ListJobs": list_jobs,
    "DeleteJob": delete_job,
    "StartJobRun": start_job_run,
    "GetJobRun": get_job_run,
    "GetJobRuns": get_job_runs,
    "BatchStopJobRun": batch_stop_job_run,
}
