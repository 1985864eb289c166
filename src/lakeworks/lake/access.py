"""Who may do what in a bucket: the caller's scopes combined with the bucket's policy.

The caller's scopes (``read``, ``write``, ``admin``) play the part of an identity policy; the
bucket policy (:mod:`lakeworks.lake.policies`) is a resource policy. As in AWS:

1. an explicit ``Deny`` in the bucket policy that matches refuses the request, whatever the
   caller's scopes;
2. otherwise the caller's scope for the operation allows it;
3. otherwise an ``Allow`` in the bucket policy that matches allows it — so a bucket policy can
   grant a principal (named, or ``"*"``: every authenticated principal) what its scopes do
   not, e.g. read access to one prefix for a job's read-only credentials;
4. otherwise the request is refused.

So that no policy can lock a bucket for good, the bucket's owner and principals with the
``admin`` scope are never denied reading, setting or deleting the policy itself. Both faces
(native REST and S3) reach the lake only through :class:`~lakeworks.lake.service.LakeService`,
which asks :func:`authorize` before every bucket and object operation.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AccessDenied
from lakeworks.lake.policies import AccessRequest, Caller, Policy, evaluate, parse_policy

__all__ = ["POLICY_ACTIONS", "authorize", "caller_of", "resource_arn"]

#: Actions on the policy itself, which its bucket's owner and admins can always perform.
POLICY_ACTIONS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})


@functools.lru_cache(maxsize=256)
def _parsed(text: str, bucket: str) -> Policy:
    return parse_policy(text, bucket)


def caller_of(ctx: RequestContext, account_id: str) -> Caller:
    """The principal of ``ctx`` as policies name it (``arn:aws:iam::<account>:user/<name>``)."""
    return Caller(
        name=ctx.principal,
        arn=f"arn:aws:iam::{account_id}:user/{ctx.principal}",
        account_id=account_id,
    )


def resource_arn(bucket: str, key: str | None = None) -> str:
    """The ARN of a bucket, or of an object in it."""
    return f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"


def _context(
    caller: Caller, extra: Mapping[str, str | Sequence[str]] | None
) -> dict[str, str | Sequence[str]]:
    now = utcnow()
    context: dict[str, str | Sequence[str]] = {
        "aws:principalarn": caller.arn,
        "aws:principalaccount": caller.account_id,
        "aws:principaltype": "User",
        "aws:username": caller.name,
        "aws:userid": caller.name,
        "aws:currenttime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(now.timestamp())),
    }
    for name, value in (extra or {}).items():
        context[name.lower()] = value
    return context


def authorize(
    ctx: RequestContext,
    *,
    bucket: str,
    owner: str,
    policy: str | None,
    action: str,
    scope: str,
    account_id: str,
    key: str | None = None,
    context: Mapping[str, str | Sequence[str]] | None = None,
) -> None:
    """Refuse the request unless ``ctx`` may perform ``action`` (see the module for the rules).

    Args:
        ctx: The caller.
        bucket: The bucket addressed.
        owner: The principal that created the bucket.
        policy: The bucket policy's JSON text, if any.
        action: The S3 action (``s3:GetObject``).
        scope: The scope that allows the action without any policy.
        account_id: The account in ARNs.
        key: The object addressed, if any.
        context: Request-specific condition keys (``s3:prefix``, …).

    Raises:
        AccessDenied: With S3's ``AccessDenied`` code.
    """
    if policy is None:
        ctx.require(scope)
        return
    caller = caller_of(ctx, account_id)
    request = AccessRequest(caller, action, resource_arn(bucket, key), _context(caller, context))
    verdict = evaluate(_parsed(policy, bucket), request)
    manages_policy = action in POLICY_ACTIONS and ("admin" in ctx.scopes or ctx.principal == owner)
    if verdict.effect == "Deny" and not manages_policy:
        statement = f" (statement {verdict.sid!r})" if verdict.sid else ""
        raise AccessDenied(
            f"Access Denied: the policy of bucket {bucket!r} denies {action} to principal "
            f"{ctx.principal!r}{statement}",
            aws_code="AccessDenied",
            details={"bucket": bucket, "action": action, "statement": verdict.sid},
        )
    if scope in ctx.scopes or verdict.effect == "Allow":
        return
    ctx.require(scope)
