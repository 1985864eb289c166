"""AWS Lambda (REST-JSON, signing name ``lambda``): functions under ``/2015-03-31/functions``.

CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions, UpdateFunctionCode,
DeleteFunction, AddPermission and Invoke. Invoke answers the function's JSON with
``X-Amz-Function-Error: Unhandled`` when it raised or timed out (the error document as the
body), or 202 for ``X-Amz-Invocation-Type: Event``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.errors import ValidationError
from lakeworks.core.settings import Settings
from lakeworks.schemas.functions import (
    FunctionCode,
    FunctionCreate,
    FunctionInfo,
    PermissionCreate,
)
from lakeworks.server.aws.protocol import Unsupported
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]

_PREFIX = "/2015-03-31/functions"
_MAX_PAYLOAD = 6 * 1024 * 1024


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidParameterValueException")


def _parts(request: AwsRequest) -> list[str]:
    rest = request.raw_path[len(_PREFIX) :].strip("/")
    return [unquote(p) for p in rest.split("/")] if rest else []


def _resolve(request: AwsRequest, settings: Settings) -> str:
    """The action a Lambda request names."""
    path, method = request.raw_path, request.method
    if not (path == _PREFIX or path.startswith(_PREFIX + "/")):
        raise Unsupported(f"The Lambda operation {method} {path} is not implemented by Lakeworks")
    parts = _parts(request)
    table: dict[tuple[int, str, str], str] = {
        (0, "GET", ""): "ListFunctions",
        (0, "POST", ""): "CreateFunction",
        (1, "GET", ""): "GetFunction",
        (1, "DELETE", ""): "DeleteFunction",
        (2, "GET", "configuration"): "GetFunctionConfiguration",
        (2, "PUT", "code"): "UpdateFunctionCode",
        (2, "POST", "invocations"): "Invoke",
        (2, "POST", "policy"): "AddPermission",
    }
    key = (len(parts), method, parts[1] if len(parts) == 2 else "")
    action = table.get(key)
    if action is None:
        raise Unsupported(f"The Lambda operation {method} {path} is not implemented by Lakeworks")
    return action


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status, media_type="application/json")


def _configuration(info: FunctionInfo) -> dict[str, Any]:
    return {
        "FunctionName": info.function_name,
        "FunctionArn": info.function_arn,
        "Runtime": info.runtime,
        "Role": info.role or "",
        "Handler": info.handler,
        "CodeSize": info.code_size,
        "Description": info.description,
        "Timeout": info.timeout,
        "MemorySize": info.memory_size,
        "LastModified": info.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "CodeSha256": info.code_sha256,
        "Version": "$LATEST",
        "Environment": {"Variables": info.environment},
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
    }


def _code(body: dict[str, Any]) -> FunctionCode:
    raw = body.get("ZipFile")
    zip_bytes = None
    if raw is not None:
        if not isinstance(raw, str):
            raise _invalid("ZipFile must be base64 text")
        try:
            zip_bytes = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("ZipFile is not valid base64") from None
    try:
        return FunctionCode(
            zip_file=zip_bytes,
            s3_bucket=body.get("S3Bucket"),
            s3_key=body.get("S3Key"),
            s3_object_version=body.get("S3ObjectVersion"),
        )
    except PydanticValidationError as exc:
        raise _invalid(f"Bad Code: {exc.errors()[0]['msg']}") from None


def _name(call: AwsCall) -> str:
    return _parts(call.request)[0]


async def create_function(call: AwsCall) -> Response:
    """CreateFunction (zip code, Python runtimes)."""
    body = await call.json_body()
    code = body.get("Code")
    if not isinstance(code, dict):
        raise _invalid("Code is required: ZipFile, or S3Bucket and S3Key")
    if body.get("PackageType", "Zip") != "Zip":
        raise _invalid("Only Zip packages are supported (PackageType 'Image' is not)")
    env = body.get("Environment") or {}
    try:
        spec = FunctionCreate(
            function_name=body.get("FunctionName"),
            runtime=body.get("Runtime"),
            handler=body.get("Handler"),
            code=_code(code),
            role=body.get("Role"),
            description=body.get("Description", ""),
            timeout=body.get("Timeout", 3),
            memory_size=body.get("MemorySize", 128),
            environment=env.get("Variables") or {} if isinstance(env, dict) else {},
        )
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        hint = " (Lakeworks runs python3.8 to python3.13)" if where == "runtime" else ""
        raise _invalid(f"{where}: {first['msg']}{hint}") from None
    info = await run_in_threadpool(call.platform.functions.create_function, call.ctx, spec)
    return _json(_configuration(info), 201)


async def get_function(call: AwsCall) -> Response:
    """GetFunction."""
    info = await run_in_threadpool(call.platform.functions.get_function, call.ctx, _name(call))
    return _json(
        {
            "Configuration": _configuration(info),
            "Code": {"RepositoryType": "S3", "Location": ""},
        }
    )


async def get_function_configuration(call: AwsCall) -> Response:
    """GetFunctionConfiguration."""
    info = await run_in_threadpool(call.platform.functions.get_function, call.ctx, _name(call))
    return _json(_configuration(info))


async def list_functions(call: AwsCall) -> Response:
    """ListFunctions (one page)."""
    infos = await run_in_threadpool(call.platform.functions.list_functions, call.ctx)
    return _json({"Functions": [_configuration(i) for i in infos]})


async def update_function_code(call: AwsCall) -> Response:
    """UpdateFunctionCode."""
    code = _code(await call.json_body())
    info = await run_in_threadpool(
        call.platform.functions.update_function_code, call.ctx, _name(call), code
    )
    return _json(_configuration(info))


async def delete_function(call: AwsCall) -> Response:
    """DeleteFunction."""
    await run_in_threadpool(call.platform.functions.delete_function, call.ctx, _name(call))
    return Response(status_code=204)


async def add_permission(call: AwsCall) -> Response:
    """AddPermission: the statement is stored and returned."""
    body = await call.json_body()
    try:
        spec = PermissionCreate(
            statement_id=body.get("StatementId"),
            action=body.get("Action"),
            principal=body.get("Principal"),
            source_arn=body.get("SourceArn"),
            source_account=body.get("SourceAccount"),
        )
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise _invalid(f"{first['loc'][0]}: {first['msg']}") from None
    statement = await run_in_threadpool(
        call.platform.functions.add_permission, call.ctx, _name(call), spec
    )
    return _json({"Statement": json.dumps(statement)}, 201)


async def invoke(call: AwsCall) -> Response:
    """Invoke: RequestResponse (the answer), Event (202) or DryRun (204)."""
    kind = call.request.header("x-amz-invocation-type") or "RequestResponse"
    raw = await call.payload.read_all(_MAX_PAYLOAD)
    try:
        event = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(
            "Could not parse request body into json", aws_code="InvalidRequestContentException"
        ) from None
    outcome = await run_in_threadpool(
        call.platform.functions.invoke, call.ctx, _name(call), event, kind
    )
    headers = {"X-Amz-Executed-Version": "$LATEST"}
    if outcome.status_code != 200:
        return Response(b"", outcome.status_code, headers)
    if outcome.function_error:
        headers["X-Amz-Function-Error"] = outcome.function_error
    if call.request.header("x-amz-log-type") == "Tail":
        headers["X-Amz-Log-Result"] = base64.b64encode(
            outcome.log_tail[-4096:].encode("utf-8", "replace")
        ).decode()
    return Response(json.dumps(outcome.payload), 200, headers, media_type="application/json")


SERVICE = AwsService(
    name="lambda",
    protocol="rest-json",
    signing_name="lambda",
    actions={
        "CreateFunction": create_function,
        "GetFunction": get_function,
        "GetFunctionConfiguration": get_function_configuration,
        "ListFunctions": list_functions,
        "UpdateFunctionCode": update_function_code,
        "DeleteFunction": delete_function,
        "AddPermission": add_permission,
        "Invoke": invoke,
    },
    resolve=_resolve,
)
