"""Operations on functions; the Lambda front door and the native API both call these.

A function's code is kept as its zip in ``<home>/functions/<name>/code.zip`` and unpacked (after
a member-by-member check) beside it. Each invocation runs in its own process
(:mod:`lakeworks.functions.runtime`) with short-lived credentials of its own, revoked when it
ends. Asynchronous invocations (``Event``, and S3 notifications) go through the lake's durable
delivery queue, which retries a failed invocation twice with backoff, as Lambda does.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import arn
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.functions import store
from lakeworks.functions.packaging import check_zip, extract_zip
from lakeworks.functions.runtime import EnvironmentSpec, InvocationResult, Runtime
from lakeworks.iam.service import IamService
from lakeworks.lake.notifications.service import FUNCTION_ATTEMPTS, NotificationService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.functions import (
    FunctionCode,
    FunctionCreate,
    FunctionInfo,
    InvocationInfo,
    InvocationOutcome,
    PermissionCreate,
)

__all__ = ["FunctionError", "FunctionService"]

log = logging.getLogger("lakeworks.functions")

_MAX_ZIP = 50 * 1024 * 1024  # Lambda's direct-upload limit


class FunctionError(Exception):
    """An asynchronous invocation failed (the delivery queue retries it)."""


def _missing(name: str) -> NotFound:
    return NotFound(f"Function not found: {name}", aws_code="ResourceNotFoundException")


class FunctionService:
    """Create, describe, list, update, delete and invoke functions.

    Args:
        settings: The settings tree (home, public URL, region, account).
        db: The metadata database.
        iam: Issues each invocation its own short-lived credentials.
        lake: Where code packages in S3 are read from.
        notifications: The durable queue for asynchronous invocations.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        iam: IamService,
        lake: LakeService,
        notifications: NotificationService,
    ) -> None:
        self.settings = settings
        self.db = db
        self.iam = iam
        self.lake = lake
        self.notifications = notifications
        self.root = settings.home / "functions"
        self.runtime = Runtime(settings.functions.warm_seconds)
        notifications.register_target("function", self._deliver, self._check_exists)

    def close(self) -> None:
        """Stop the warm execution environments."""
        self.runtime.close()

    def _arn(self, name: str) -> str:
        return arn(
            "lambda",
            f"function:{name}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    # -- code ----------------------------------------------------------------------------------

    def _code_bytes(self, ctx: RequestContext, code: FunctionCode) -> bytes:
        if code.zip_file is not None:
            if code.s3_bucket or code.s3_key:
                raise ValidationError(
                    "Give the code as ZipFile or as S3Bucket and S3Key, not both",
                    aws_code="InvalidParameterValueException",
                )
            data = code.zip_file
        elif code.s3_bucket and code.s3_key:
            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / "code.zip"
                self.lake.download(ctx, f"s3://{code.s3_bucket}/{code.s3_key}", path)
                if path.stat().st_size > _MAX_ZIP:
                    raise ValidationError(
                        f"The code package is larger than {_MAX_ZIP} bytes",
                        aws_code="InvalidParameterValueException",
                    )
                data = path.read_bytes()
        else:
            raise ValidationError(
                "Code needs ZipFile, or S3Bucket and S3Key",
                aws_code="InvalidParameterValueException",
            )
        check_zip(data)
        return data

    def _install(self, name: str, data: bytes) -> tuple[str, int]:
        home = self.root / name
        home.mkdir(parents=True, exist_ok=True)
        extract_zip(data, home / "code")
        (home / "code.zip").write_bytes(data)
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return digest, len(data)

    # -- operations --------------------------------------------------------------------------

    def create_function(self, ctx: RequestContext, spec: FunctionCreate) -> FunctionInfo:
        """Create a function from its zip.

        Raises:
            AlreadyExists: The name is taken (``ResourceConflictException``).
            ValidationError: A bad or unsafe zip, or code given both ways or not at all.
        """
        ctx.require("write")
        with self.db.session() as session:
            if session.get(store.FunctionRecord, spec.function_name) is not None:
                raise AlreadyExists(
                    f"Function already exist: {spec.function_name}",
                    aws_code="ResourceConflictException",
                )
        data = self._code_bytes(ctx, spec.code)
        digest, size = self._install(spec.function_name, data)
        now = utcnow()
        record = store.FunctionRecord(
            name=spec.function_name,
            arn=self._arn(spec.function_name),
            runtime=spec.runtime,
            handler=spec.handler,
            role=spec.role,
            description=spec.description,
            timeout=spec.timeout,
            memory_size=spec.memory_size,
            environment=dict(spec.environment),
            code_sha256=digest,
            code_size=size,
            permissions=[],
            principal=ctx.principal,
            creation_time=now,
            last_modified=now,
        )
        with self.db.session() as session:
            session.add(record)
            return _info(record)

    def get_function(self, ctx: RequestContext, name: str) -> FunctionInfo:
        """A function's configuration.

        Raises:
            NotFound: No such function (``ResourceNotFoundException``).
        """
        ctx.require("read")
        with self.db.session() as session:
            return _info(self._get(session, name))

    def list_functions(self, ctx: RequestContext) -> list[FunctionInfo]:
        """Every function, by name."""
        ctx.require("read")
        with self.db.session() as session:
            rows = session.scalars(select(store.FunctionRecord).order_by(store.FunctionRecord.name))
            return [_info(row) for row in rows]

    def update_function_code(
        self, ctx: RequestContext, name: str, code: FunctionCode
    ) -> FunctionInfo:
        """Replace a function's code.

        Raises:
            NotFound: No such function.
            ValidationError: A bad zip.
        """
        ctx.require("write")
        with self.db.session() as session:
            self._get(session, name)
        data = self._code_bytes(ctx, code)
        digest, size = self._install(name, data)
        with self.db.session() as session:
            row = self._get(session, name)
            row.code_sha256, row.code_size, row.last_modified = digest, size, utcnow()
            info = _info(row)
        self.runtime.retire(name)
        return info

    def delete_function(self, ctx: RequestContext, name: str) -> None:
        """Delete a function and its code.

        Raises:
            NotFound: No such function.
        """
        ctx.require("write")
        with self.db.session() as session:
            session.delete(self._get(session, name))
        self.runtime.retire(name)
        shutil.rmtree(self.root / name, ignore_errors=True)

    def add_permission(
        self, ctx: RequestContext, name: str, spec: PermissionCreate
    ) -> dict[str, Any]:
        """Store a resource-policy statement; the statement as Lambda returns it.

        Raises:
            NotFound: No such function.
            AlreadyExists: The statement id is taken (``ResourceConflictException``).
        """
        ctx.require("write")
        with self.db.session() as session:
            row = self._get(session, name)
            if any(p.get("Sid") == spec.statement_id for p in row.permissions):
                raise AlreadyExists(
                    f"The statement id ({spec.statement_id}) provided already exists",
                    aws_code="ResourceConflictException",
                )
            statement: dict[str, Any] = {
                "Sid": spec.statement_id,
                "Effect": "Allow",
                "Principal": {"Service": spec.principal},
                "Action": spec.action,
                "Resource": row.arn,
            }
            if spec.source_arn:
                statement["Condition"] = {"ArnLike": {"AWS:SourceArn": spec.source_arn}}
            row.permissions = [*row.permissions, statement]
            return statement

    def invoke(
        self, ctx: RequestContext, name: str, payload: Any, invocation_type: str
    ) -> InvocationOutcome:
        """Invoke a function: RequestResponse runs now and returns the answer; Event queues
        it (retried twice on failure) and returns 202; DryRun only checks.

        Raises:
            NotFound: No such function.
            ValidationError: An unknown invocation type.
        """
        ctx.require("write")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise ValidationError(
                f"Invalid InvocationType {invocation_type!r}: use RequestResponse, Event or DryRun",
                aws_code="InvalidParameterValueException",
            )
        with self.db.session() as session:
            self._get(session, name)
        if invocation_type == "DryRun":
            return InvocationOutcome(status_code=204, invocation_type="DryRun")
        if invocation_type == "Event":
            delivery = self.notifications.enqueue(
                "function", name, {"event": payload}, FUNCTION_ATTEMPTS
            )
            return InvocationOutcome(status_code=202, invocation_type="Event", delivery_id=delivery)
        result = self.run(name, payload)
        return InvocationOutcome(
            status_code=200,
            payload=result.payload,
            function_error=result.function_error,
            log_tail=result.log_tail,
        )

    def run(self, name: str, payload: Any) -> InvocationResult:
        """Run one invocation now, in a warm environment of the function's or a new one.

        The environment is a process of the function's own with credentials of its own
        (:mod:`lakeworks.functions.runtime`).

        Raises:
            NotFound: No such function.
        """
        with self.db.session() as session:
            row = self._get(session, name)
            handler, timeout, memory = row.handler, row.timeout, row.memory_size
            env_vars, fn_arn = dict(row.environment), row.arn
            code_sha256 = row.code_sha256
        request_id = str(uuid.uuid4())
        key = json.dumps([name, code_sha256, handler, timeout, memory, env_vars], sort_keys=True)

        def environment() -> EnvironmentSpec:
            principal = f"function/{name}/{uuid.uuid4().hex[:8]}"
            lifetime = int(self.settings.functions.warm_seconds) + timeout + 60
            creds = self.iam.create_job_credentials(principal, lifetime)
            region = self.settings.aws.region
            env = {
                **{k: str(v) for k, v in env_vars.items()},
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
                "LAKEWORKS_FUNCTION_ARN": fn_arn,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_ACCESS_KEY_ID": creds.access_key_id,
                "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
                "AWS_ENDPOINT_URL": self.settings.public_url,
                "LAKEWORKS_URL": self.settings.public_url,
                "LAKEWORKS_TOKEN": creds.token,
            }
            return EnvironmentSpec(
                function=name,
                key=key,
                code_dir=self.root / name / "code",
                handler=handler,
                env=env,
                release=lambda: self.iam.revoke_principal(principal),
            )

        started = utcnow()
        result = self.runtime.invoke(
            environment, key, payload, {"LAKEWORKS_REQUEST_ID": request_id}
        )
        error = result.payload if result.function_error and isinstance(result.payload, dict) else {}
        if result.function_error:
            log.info("function %s failed: %s", name, str(result.payload)[:500])
        with self.db.session() as session:
            session.add(
                store.InvocationRecord(
                    request_id=request_id,
                    function_name=name,
                    start_time=started,
                    end_time=utcnow(),
                    error_type=str(error.get("errorType", "Unhandled"))[:128]
                    if result.function_error
                    else None,
                    error_message=str(error.get("errorMessage", ""))[:4000] or None,
                    log=result.log_tail,
                )
            )
        return dataclasses.replace(result, request_id=request_id)

    def list_invocations(
        self, ctx: RequestContext, name: str, limit: int = 20
    ) -> list[InvocationInfo]:
        """A function's recent invocations with their output, newest first.

        Raises:
            NotFound: No such function.
        """
        ctx.require("read")
        with self.db.session() as session:
            self._get(session, name)
            rows = session.scalars(
                select(store.InvocationRecord)
                .where(store.InvocationRecord.function_name == name)
                .order_by(store.InvocationRecord.start_time.desc())
                .limit(max(1, min(limit, 1000)))
            )
            return [
                InvocationInfo(
                    request_id=r.request_id,
                    function_name=r.function_name,
                    start_time=r.start_time,
                    end_time=r.end_time,
                    error_type=r.error_type,
                    error_message=r.error_message,
                    log=r.log,
                )
                for r in rows
            ]

    def invoke_for_trigger(self, name: str, payload: dict[str, Any]) -> str:
        """Run one invocation for a trigger; its request id.

        Raises:
            FunctionError: The handler raised or timed out (the trigger retries the firing).
        """
        result = self.run(name, payload)
        if result.function_error:
            detail = result.payload.get("errorMessage", result.payload)
            raise FunctionError(f"invocation {result.request_id} failed: {str(detail)[:1000]}")
        return result.request_id

    # -- delivery queue hooks ----------------------------------------------------------------

    def _check_exists(self, name: str) -> None:
        with self.db.session() as session:
            self._get(session, name)

    def _deliver(self, name: str, payload: dict[str, Any]) -> None:
        event = payload["event"] if set(payload) == {"event"} else payload
        result = self.run(name, event)
        if result.function_error:
            raise FunctionError(str(result.payload.get("errorMessage", result.payload))[:1000])

    @staticmethod
    def _get(session: Any, name: str) -> store.FunctionRecord:
        if ":" in name:  # an ARN or a qualified name
            name = name.split(":")[6] if name.startswith("arn:") else name.split(":")[0]
        row: store.FunctionRecord | None = session.get(store.FunctionRecord, name)
        if row is None:
            raise _missing(name)
        return row


def _info(row: store.FunctionRecord) -> FunctionInfo:
    return FunctionInfo(
        function_name=row.name,
        function_arn=row.arn,
        runtime=row.runtime,
        handler=row.handler,
        role=row.role,
        description=row.description,
        timeout=row.timeout,
        memory_size=row.memory_size,
        environment=dict(row.environment),
        code_sha256=row.code_sha256,
        code_size=row.code_size,
        last_modified=row.last_modified,
    )
