"""Bucket policies in AWS policy grammar: parsing, checking and evaluation (pure logic).

A policy is ``{"Version", "Id"?, "Statement": [...]}``; a statement has an optional ``Sid``,
``Effect`` (``Allow``/``Deny``), ``Principal`` or ``NotPrincipal``, ``Action`` or
``NotAction``, ``Resource`` or ``NotResource`` and an optional ``Condition``. Actions
(``s3:GetObject``, ``s3:Get*``, ``*``) match case-insensitively; resources
(``arn:aws:s3:::bucket/prefix/*``) case-sensitively; ``*`` and ``?`` are wildcards in both and
in ``...Like`` conditions. Resources may use the variables ``${aws:username}``,
``${aws:userid}``, ``${aws:PrincipalArn}`` and the escapes ``${*}``, ``${?}``, ``${$}``.

Principals: ``"*"`` (everyone), the account (``"000000000000"`` or
``arn:aws:iam::000000000000:root``), a Lakeworks principal as a user ARN
(``arn:aws:iam::000000000000:user/alice``) or, as a Lakeworks extension, by bare name
(``"alice"``, ``"job/train-1"``).

Evaluation follows AWS: an explicit ``Deny`` that matches wins; otherwise a matching ``Allow``
grants; otherwise the policy says nothing. How the lake combines that with the caller's scopes is
in :mod:`lakeworks.lake.access`. Condition keys the lake supplies are listed in
:data:`CONDITION_KEYS`; the condition operators, wildcards and policy variables are in
:mod:`lakeworks.lake.policy_matching`.

Every problem in a document is ``MalformedPolicy`` (400) with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from lakeworks.lake.policy_matching import (
    AccessRequest,
    Caller,
    ConditionTest,
    condition_holds,
    glob,
    malformed,
    matches,
    parse_conditions,
)

__all__ = [
    "CONDITION_KEYS",
    "MAX_POLICY_BYTES",
    "S3_ACTIONS",
    "AccessRequest",
    "Caller",
    "Policy",
    "Statement",
    "Verdict",
    "evaluate",
    "malformed",
    "parse_policy",
]

MAX_POLICY_BYTES = 20 * 1024
VERSIONS = ("2012-10-17", "2008-10-17")
Effect = Literal["Allow", "Deny"]

_ACTION_NAMES = """
AbortMultipartUpload BypassGovernanceRetention CreateBucket DeleteBucket
DeleteBucketOwnershipControls DeleteBucketPolicy DeleteBucketWebsite DeleteObject
DeleteObjectTagging DeleteObjectVersion DeleteObjectVersionTagging
GetAccelerateConfiguration GetAnalyticsConfiguration GetBucketAcl GetBucketCORS
GetBucketLocation GetBucketLogging GetBucketNotification
GetBucketObjectLockConfiguration GetBucketOwnershipControls GetBucketPolicy
GetBucketPolicyStatus GetBucketPublicAccessBlock GetBucketRequestPayment
GetBucketTagging GetBucketVersioning GetBucketWebsite GetEncryptionConfiguration
GetIntelligentTieringConfiguration GetInventoryConfiguration GetLifecycleConfiguration
GetMetricsConfiguration GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold
GetObjectRetention GetObjectTagging GetObjectTorrent GetObjectVersion
GetObjectVersionAcl GetObjectVersionAttributes GetObjectVersionForReplication
GetObjectVersionTagging GetObjectVersionTorrent GetReplicationConfiguration
ListAllMyBuckets ListBucket ListBucketMultipartUploads ListBucketVersions
ListMultipartUploadParts ObjectOwnerOverrideToBucketOwner PutAccelerateConfiguration
PutAnalyticsConfiguration PutBucketAcl PutBucketCORS PutBucketLogging
PutBucketNotification PutBucketObjectLockConfiguration PutBucketOwnershipControls
PutBucketPolicy PutBucketPublicAccessBlock PutBucketRequestPayment PutBucketTagging
PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
PutIntelligentTieringConfiguration PutInventoryConfiguration PutLifecycleConfiguration
PutMetricsConfiguration PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention
PutObjectTagging PutObjectVersionAcl PutObjectVersionTagging PutReplicationConfiguration
ReplicateDelete ReplicateObject ReplicateTags RestoreObject
"""
#: The S3 actions a bucket policy may name without wildcards (IAM's names, lower case).
S3_ACTIONS: frozenset[str] = frozenset("s3:" + name.lower() for name in _ACTION_NAMES.split())

#: Condition keys the lake puts into requests (lower case; ``s3:RequestObjectTag/<key>`` too).
CONDITION_KEYS = (
    "aws:currenttime",
    "aws:epochtime",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "s3:delimiter",
    "s3:max-keys",
    "s3:prefix",
    "s3:requestobjecttagkeys",
    "s3:versionid",
    "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
)

_ACTION = re.compile(r"^s3:[A-Za-z*?]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Statement:
    """One statement; each element keeps whether it was the ``Not`` form."""

    sid: str | None
    effect: Effect
    principals: tuple[str, ...]
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[ConditionTest, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A checked policy document."""

    version: str
    statements: tuple[Statement, ...]
    text: str


@dataclass(frozen=True)
class Verdict:
    """What a policy says about a request: ``Deny``, ``Allow`` or nothing (``None``)."""

    effect: Effect | None
    sid: str | None = None


# -- parsing ---------------------------------------------------------------------------------------


def parse_policy(text: str | bytes, bucket: str) -> Policy:
    """Check a bucket policy document for ``bucket``.

    Raises:
        ValidationError: ``MalformedPolicy`` with the reason.
    """
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_POLICY_BYTES:
        raise malformed(f"Policies must be at most {MAX_POLICY_BYTES} bytes; got {len(raw)}")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed(f"Policies must be valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise malformed("Policies must be JSON objects")
    _no_unknown(document, {"Version", "Id", "Statement"}, "policy")
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise malformed(f"The policy must contain a valid version string: {', '.join(VERSIONS)}")
    if "Statement" not in document:
        raise malformed("Missing required field Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise malformed("Statement must be a statement object or a non-empty list of them")
    statements = tuple(_statement(item, bucket, version) for item in raw_statements)
    sids = [s.sid for s in statements if s.sid is not None]
    if len(sids) != len(set(sids)):
        raise malformed("Statement IDs (SID) in a single policy must be unique")
    return Policy(version, statements, raw.decode("utf-8"))


def _no_unknown(item: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise malformed(
            f"Unknown field {unknown[0]} in {where}; allowed: {', '.join(sorted(allowed))}"
        )


def _one_of(item: dict[str, Any], name: str) -> tuple[Any, bool]:
    negated = f"Not{name}"
    if name in item and negated in item:
        raise malformed(f"A statement cannot have both {name} and {negated}")
    if name not in item and negated not in item:
        raise malformed(f"Missing required field {name}")
    return (item[negated], True) if negated in item else (item[name], False)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise malformed(f"{what} must be a non-empty string or a list of them")
    return tuple(values)


def _statement(item: Any, bucket: str, version: str) -> Statement:
    if not isinstance(item, dict):
        raise malformed("Each statement must be a JSON object")
    _no_unknown(
        item,
        {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
         "NotResource", "Condition"},
        "statement",
    )  # fmt: skip
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise malformed("Sid must be a string")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise malformed(f"Invalid effect {effect!r}: use Allow or Deny")
    principal, not_principal = _one_of(item, "Principal")
    action, not_action = _one_of(item, "Action")
    resource, not_resource = _one_of(item, "Resource")
    actions = tuple(a.lower() for a in _strings(action, "Action"))
    for name in actions:
        if name != "*" and (
            not _ACTION.match(name)
            or ("*" not in name and "?" not in name and name not in S3_ACTIONS)
        ):
            raise malformed(f"Policy has invalid action: {name}")
    resources = _strings(resource, "Resource")
    for name in resources:
        _check_resource(name, bucket)
    return Statement(
        sid=sid,
        effect=effect,
        principals=_principals(principal),
        not_principal=not_principal,
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        conditions=parse_conditions(item.get("Condition")),
    )


def _principals(value: Any) -> tuple[str, ...]:
    if value == "*":
        return ("*",)
    if not isinstance(value, dict) or not value:
        raise malformed('Invalid principal in policy: use "*" or {"AWS": [...]}')
    found: list[str] = []
    for kind, names in value.items():
        if kind not in ("AWS", "CanonicalUser", "Service", "Federated"):
            raise malformed(f"Invalid principal in policy: unknown principal type {kind!r}")
        for name in _strings(names, f"Principal {kind}"):
            if kind != "AWS":
                found.append(f"{kind}:{name}")  # never a Lakeworks caller
                continue
            if not name.isprintable() or " " in name or len(name) > 512:
                raise malformed(f"Invalid principal in policy: {name!r}")
            found.append(name)
    return tuple(found)


def _check_resource(name: str, bucket: str) -> None:
    if name == "*":
        return
    prefix = "arn:aws:s3:::"
    if not name.startswith(prefix):
        raise malformed(f"Policy has invalid resource: {name} (use arn:aws:s3:::{bucket}/...)")
    bucket_part = name[len(prefix) :].split("/", 1)[0]
    if not glob(bucket_part, case=True).fullmatch(bucket):
        raise malformed(
            f"Policy has invalid resource: {name} does not name bucket {bucket!r}; a bucket "
            "policy governs only its own bucket"
        )


# -- evaluation ------------------------------------------------------------------------------------


def _principal_matches(principals: tuple[str, ...], caller: Caller) -> bool:
    for name in principals:
        if name == "*" or name in (caller.arn, caller.name):
            return True
        if _ACCOUNT.match(name) and name == caller.account_id:
            return True
        if name == f"arn:aws:iam::{caller.account_id}:root":
            return True
    return False


def _statement_matches(statement: Statement, request: AccessRequest) -> bool:
    principal = _principal_matches(statement.principals, request.caller)
    if principal == statement.not_principal:
        return False
    action = any(glob(a, case=False).fullmatch(request.action) for a in statement.actions)
    if action == statement.not_action:
        return False
    resource = any(matches(r, request.resource, request, case=True) for r in statement.resources)
    if resource == statement.not_resource:
        return False
    return all(condition_holds(test, request) for test in statement.conditions)


def evaluate(policy: Policy, request: AccessRequest) -> Verdict:
    """What ``policy`` says about ``request``: an explicit ``Deny`` wins over any ``Allow``.

    Returns:
        ``Verdict("Deny", sid)``, ``Verdict("Allow", sid)`` or ``Verdict(None)``.
    """
    allowed: Statement | None = None
    for statement in policy.statements:
        if not _statement_matches(statement, request):
            continue
        if statement.effect == "Deny":
            return Verdict("Deny", statement.sid)
        allowed = allowed or statement
    if allowed is not None:
        return Verdict("Allow", allowed.sid)
    return Verdict(None)
