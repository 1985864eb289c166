"""Bucket policies: the grammar and its evaluation alone, then enforced by the lake service."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AccessDenied, NotFound, ValidationError
from lakeworks.lake.policies import AccessRequest, Caller, evaluate, parse_policy
from lakeworks.lake.service import LakeService

ACCOUNT = "000000000000"
ALICE = Caller("alice", f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT)
BOB = Caller("bob", f"arn:aws:iam::{ACCOUNT}:user/bob", ACCOUNT)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def ask(
    text: str,
    action: str,
    key: str | None = None,
    caller: Caller = ALICE,
    context: dict[str, str | list[str]] | None = None,
) -> str | None:
    resource = "arn:aws:s3:::data" + (f"/{key}" if key is not None else "")
    request = AccessRequest(caller, action, resource, context or {})
    return evaluate(parse_policy(text, "data"), request).effect


# -- grammar -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("{not json", "valid JSON"),
        ("[1, 2]", "JSON objects"),
        (json.dumps({"Version": "2012-10-17"}), "Missing required field Statement"),
        (json.dumps({"Version": "2099-01-01", "Statement": []}), "version"),
        (
            policy({"Effect": "Maybe", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
            "effect",
        ),
        (policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}), "Principal"),
        (policy({"Effect": "Allow", "Principal": "*", "Resource": "*"}), "Action"),
        (policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}), "Resource"),
        (
            policy(
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObjekt", "Resource": "*"}
            ),
            "invalid action",
        ),
        (
            policy(
                {"Effect": "Allow", "Principal": "*", "Action": "iam:CreateUser", "Resource": "*"}
            ),
            "invalid action",
        ),
        (
            policy(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::other-bucket/*",
                }
            ),
            "invalid resource",
        ),
        (
            policy(
                {"Effect": "Allow", "Principal": {"Team": "x"}, "Action": "s3:*", "Resource": "*"}
            ),
            "principal",
        ),
        (
            policy(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"StringSometimes": {"s3:prefix": "a"}},
                }
            ),
            "Condition type",
        ),
        (
            policy(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}},
                }
            ),
            "not a number",
        ),
        (
            policy(
                {
                    "Sid": "x",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                },
                {"Sid": "x", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
            ),
            "unique",
        ),
        (
            policy(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Surprise": 1,
                }
            ),
            "Unknown field Surprise",
        ),
        ("x" * 30000, "at most"),
    ],
)
def test_malformed_policies_say_why(document: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_policy(document, "data")
    assert caught.value.aws_code == "MalformedPolicy"
    assert caught.value.status == 400
    assert reason.lower() in caught.value.message.lower()


def test_a_single_statement_object_and_all_element_forms_parse() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "p1",
            "Statement": {
                "Sid": "Everything",
                "Effect": "Allow",
                "NotPrincipal": {"AWS": ["bob"]},
                "NotAction": "s3:DeleteObject*",
                "NotResource": ["arn:aws:s3:::data/private/*"],
            },
        }
    )
    parsed = parse_policy(text, "data")
    assert parsed.statements[0].not_principal
    assert parsed.text == text


# -- evaluation ----------------------------------------------------------------------------


def test_allow_deny_and_wildcards() -> None:
    text = policy(
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Principal": {"AWS": ALICE.arn},
            "Action": ["s3:Get*", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
        },
        {
            "Sid": "NoSecrets",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::data/secret/*",
        },
    )
    assert ask(text, "s3:GetObject", "reports/q1.csv") == "Allow"
    assert ask(text, "s3:getobject", "reports/q1.csv") == "Allow"  # actions ignore case
    assert ask(text, "s3:ListBucket") == "Allow"
    assert ask(text, "s3:PutObject", "reports/q1.csv") is None  # nothing said
    assert ask(text, "s3:GetObject", "secret/key") == "Deny"  # explicit Deny wins
    assert ask(text, "s3:GetObject", "Secret/key") == "Allow"  # resources are case-sensitive
    assert ask(text, "s3:GetObject", "reports/q1.csv", caller=BOB) is None


@pytest.mark.parametrize(
    ("principal", "alice", "bob"),
    [
        ("*", True, True),
        ({"AWS": "*"}, True, True),
        ({"AWS": ACCOUNT}, True, True),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, True, True),
        ({"AWS": ["alice"]}, True, False),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, False, True),
        ({"AWS": "arn:aws:iam::111111111111:root"}, False, False),
        ({"Service": "lambda.amazonaws.com"}, False, False),
    ],
)
def test_principals(principal: Any, alice: bool, bob: bool) -> None:
    text = policy(
        {
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::data/*",
        }
    )
    assert (ask(text, "s3:GetObject", "k") == "Allow") is alice
    assert (ask(text, "s3:GetObject", "k", caller=BOB) == "Allow") is bob


def test_conditions_on_prefix_and_principal() -> None:
    text = policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::data",
            "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "shared/*"]}},
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::data/*",
            "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
        },
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::data/home/${aws:username}/*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": ALICE.arn}},
        },
    )
    assert ask(text, "s3:ListBucket", context={"s3:prefix": "home/alice/"}) == "Allow"
    assert ask(text, "s3:ListBucket", context={"s3:prefix": "home/bob/"}) is None
    assert ask(text, "s3:ListBucket", caller=BOB, context={"s3:prefix": "home/bob/x"}) == "Allow"
    assert ask(text, "s3:ListBucket", context={"s3:prefix": "shared/a"}) == "Allow"
    assert ask(text, "s3:ListBucket") is None  # no prefix: a positive operator is false
    # a negated operator with the key missing is true: unencrypted puts are denied
    assert ask(text, "s3:PutObject", "k") == "Deny"
    encrypted: dict[str, str | list[str]] = {"s3:x-amz-server-side-encryption": "AES256"}
    assert ask(text, "s3:PutObject", "k", context=encrypted) is None
    arn: dict[str, str | list[str]] = {"aws:PrincipalArn": ALICE.arn}
    assert ask(text, "s3:GetObject", "home/alice/a", context=arn) == "Allow"
    assert ask(text, "s3:GetObject", "home/bob/a", context=arn) is None


def test_more_operators() -> None:
    def with_condition(condition: dict[str, Any]) -> str:
        return policy(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::data",
                "Condition": condition,
            }
        )

    assert (
        ask(
            with_condition({"NumericLessThanEquals": {"s3:max-keys": "10"}}),
            "s3:ListBucket",
            context={"s3:max-keys": "10"},
        )
        == "Allow"
    )
    assert (
        ask(
            with_condition({"NumericLessThanEquals": {"s3:max-keys": 10}}),
            "s3:ListBucket",
            context={"s3:max-keys": "11"},
        )
        is None
    )
    assert (
        ask(with_condition({"StringEqualsIfExists": {"s3:prefix": "x"}}), "s3:ListBucket")
        == "Allow"
    )
    assert ask(with_condition({"Null": {"s3:prefix": "true"}}), "s3:ListBucket") == "Allow"
    assert ask(with_condition({"Null": {"s3:prefix": "false"}}), "s3:ListBucket") is None
    assert ask(with_condition({"Bool": {"aws:SecureTransport": "true"}}), "s3:ListBucket") is None
    assert (
        ask(
            with_condition({"StringEqualsIgnoreCase": {"s3:prefix": "LOGS/"}}),
            "s3:ListBucket",
            context={"s3:prefix": "logs/"},
        )
        == "Allow"
    )
    assert (
        ask(
            with_condition({"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}}),
            "s3:ListBucket",
            context={"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        )
        == "Allow"
    )
    assert (
        ask(
            with_condition({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["a"]}}),
            "s3:ListBucket",
            context={"s3:RequestObjectTagKeys": ["b", "a"]},
        )
        == "Allow"
    )
    assert (
        ask(
            with_condition({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a"]}}),
            "s3:ListBucket",
            context={"s3:RequestObjectTagKeys": ["b", "a"]},
        )
        is None
    )


# -- enforced by the lake --------------------------------------------------------------------


def body(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_deny_wins_even_for_admins(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_object(admin, bucket, "locked/a", body(b"a"))
    lake.put_bucket_policy(
        admin,
        bucket,
        policy(
            {
                "Sid": "Lock",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{bucket}/locked/*",
            },
        ),
    )
    with pytest.raises(AccessDenied) as caught:
        lake.get_object(admin, bucket, "locked/a")
    assert caught.value.aws_code == "AccessDenied"
    assert "Lock" in caught.value.message
    with pytest.raises(AccessDenied):
        lake.put_object(admin, bucket, "locked/b", body(b"b"))
    with pytest.raises(AccessDenied):
        lake.check_writable(admin, bucket, "locked/b")  # refused before any body is read
    lake.put_object(admin, bucket, "open/c", body(b"c"))  # other prefixes are untouched
    # the policy cannot lock out the bucket's owner from changing it
    assert json.loads(lake.get_bucket_policy(admin, bucket).policy)["Statement"][0]["Sid"] == "Lock"
    lake.delete_bucket_policy(admin, bucket)
    assert b"".join(lake.get_object(admin, bucket, "locked/a")[3]) == b"a"
    with pytest.raises(NotFound) as missing:
        lake.get_bucket_policy(admin, bucket)
    assert missing.value.aws_code == "NoSuchBucketPolicy"


def test_allow_grants_what_scopes_do_not(
    lake: LakeService, admin: RequestContext, reader: RequestContext, bucket: str
) -> None:
    with pytest.raises(AccessDenied):
        lake.put_object(reader, bucket, "inbox/x", body(b"x"))
    lake.put_bucket_policy(
        admin,
        bucket,
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["reader"]},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/inbox/*",
                }
            ],
        },
    )
    lake.put_object(reader, bucket, "inbox/x", body(b"x"))
    with pytest.raises(AccessDenied):
        lake.put_object(reader, bucket, "elsewhere", body(b"x"))
    with pytest.raises(AccessDenied):
        lake.delete_object(reader, bucket, "inbox/x")
    # a writer that does not own the bucket needs the admin scope to change its policy
    writer = RequestContext(principal="writer", scopes=frozenset({"read", "write"}))
    with pytest.raises(AccessDenied):
        lake.delete_bucket_policy(writer, bucket)
    with pytest.raises(AccessDenied):
        lake.put_bucket_policy(reader, bucket, policy())


def test_listing_by_prefix(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_object(admin, bucket, "public/a", body(b"a"))
    lake.put_bucket_policy(
        admin,
        bucket,
        policy(
            {
                "Effect": "Deny",
                "Principal": {"AWS": "someone"},
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringNotLike": {"s3:prefix": "public/*"}},
            },
        ),
    )
    someone = RequestContext(principal="someone", scopes=frozenset({"read"}))
    assert [i.key for i in lake.list_objects(someone, bucket, prefix="public/").items] == [
        "public/a"
    ]
    with pytest.raises(AccessDenied):
        lake.list_objects(someone, bucket)
    with pytest.raises(AccessDenied):
        lake.list_objects(someone, bucket, prefix="private/")


def test_a_malformed_policy_changes_nothing(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    good = policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    )
    lake.put_bucket_policy(admin, bucket, good)
    with pytest.raises(ValidationError) as caught:
        lake.put_bucket_policy(admin, bucket, '{"Version": "2012-10-17", "Statement": [')
    assert caught.value.aws_code == "MalformedPolicy"
    assert lake.get_bucket_policy(admin, bucket).policy == good
    lake.delete_bucket_policy(admin, bucket)
