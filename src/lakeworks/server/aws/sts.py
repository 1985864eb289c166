"""STS (awsquery): who am I.

``aws sts get-caller-identity`` and ``boto3.client("sts").get_caller_identity()`` are how tools
check that credentials work; Lakeworks answers with the principal behind the access key.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]


async def get_caller_identity(call: AwsCall) -> dict[str, Any]:
    """GetCallerIdentity: the account id, the principal's ARN and its user id."""
    identity = await run_in_threadpool(call.platform.iam.caller_identity, call.ctx)
    return {"UserId": identity.principal, "Account": identity.account_id, "Arn": identity.arn}


SERVICE = AwsService(
    name="sts",
    protocol="query",
    signing_name="sts",
    xml_namespace="https://sts.amazonaws.com/doc/2011-06-15/",
    actions={"GetCallerIdentity": get_caller_identity},
)
