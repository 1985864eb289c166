"""Lake Formation table grants through boto3 (lakeformation, glue, athena) and the native SDK,
against a real server: grants are enforced by the SQL engine (views resolved to their tables),
GetTable, DeleteTable; revokes and listings; bad input."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from lakeworks import Client
from lakeworks.core.errors import AccessDenied
from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

BUCKET = "grants-data"
DB = "hr"
RESULTS = f"s3://{BUCKET}/results/"


def arn(name: str) -> str:
    return f"arn:aws:iam::000000000000:user/{name}"


def principal(name: str) -> dict[str, str]:
    return {"DataLakePrincipalIdentifier": arn(name)}


PEOPLE = {"Table": {"DatabaseName": DB, "Name": "people"}}


def code_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


class User:
    """A non-admin principal (read and write scopes) with boto3 clients and an SDK client."""

    def __init__(self, server: ServerProcess, make: Callable[..., Any], name: str) -> None:
        admin = {"Authorization": f"Bearer {server.token}"}
        keys = httpx.post(
            f"{server.url}/api/v1/access-keys",
            json={"principal": name, "scopes": ["write"]},
            headers=admin,
        ).json()
        token = httpx.post(
            f"{server.url}/api/v1/tokens",
            json={"principal": name, "scopes": ["write"]},
            headers=admin,
        ).json()["token"]
        self.glue = make("glue", key_id=keys["access_key_id"], secret=keys["secret_access_key"])
        self.athena = make("athena", key_id=keys["access_key_id"], secret=keys["secret_access_key"])
        self.lf = make(
            "lakeformation", key_id=keys["access_key_id"], secret=keys["secret_access_key"]
        )
        self.native = Client(server.url, token)

    def query(self, sql: str) -> dict[str, Any]:
        """Run an Athena query to its end; returns the execution."""
        query_id = self.athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": DB},
            ResultConfiguration={"OutputLocation": RESULTS},
        )["QueryExecutionId"]
        deadline = time.monotonic() + 60
        while True:
            execution: dict[str, Any] = self.athena.get_query_execution(QueryExecutionId=query_id)[
                "QueryExecution"
            ]
            if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return execution
            assert time.monotonic() < deadline, execution
            time.sleep(0.05)


@pytest.fixture(scope="module")
def users(
    aws_server: ServerProcess, client: Callable[..., Any], s3: Any
) -> Iterator[dict[str, User]]:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="people/part-0.csv", Body=b"ann,31\nbob,25\ncid,40\n")
    with Client(aws_server.url, aws_server.token) as admin:
        admin.sql(f"CREATE DATABASE {DB}")
        admin.sql(
            "CREATE EXTERNAL TABLE people (name string, age int) ROW FORMAT DELIMITED "
            f"FIELDS TERMINATED BY ',' LOCATION 's3://{BUCKET}/people/'",
            database=DB,
        )
        admin.sql("CREATE VIEW adults AS SELECT name FROM people WHERE age >= 30", database=DB)
    made = {name: User(aws_server, client, name) for name in ("alice", "bob")}
    yield made
    for user in made.values():
        user.native.close()


def test_grants_guard_select_describe_drop_and_views(
    users: dict[str, User], client: Callable[..., Any]
) -> None:
    lf, glue = client("lakeformation"), client("glue")
    alice, bob = users["alice"], users["bob"]
    # no grants yet: IAM scopes decide, as Lake Formation's IAMAllowedPrincipals default
    assert bob.query("SELECT count(*) FROM people")["Status"]["State"] == "SUCCEEDED"
    lf.grant_permissions(Principal=principal("alice"), Resource=PEOPLE, Permissions=["SELECT"])

    ok = alice.query("SELECT name FROM people ORDER BY name")
    assert ok["Status"]["State"] == "SUCCEEDED"
    rows = alice.athena.get_query_results(QueryExecutionId=ok["QueryExecutionId"])["ResultSet"]
    assert [r["Data"][0]["VarCharValue"] for r in rows["Rows"][1:]] == ["ann", "bob", "cid"]
    assert alice.native.sql("SELECT sum(age) AS total FROM people", DB).to_pylist() == [
        {"total": 96}
    ]

    denied = bob.query("SELECT count(*) FROM people")
    assert denied["Status"]["State"] == "FAILED"
    reason = denied["Status"]["StateChangeReason"]
    assert "Insufficient Lake Formation permission" in reason
    assert "SELECT on table hr.people" in reason
    with pytest.raises(AccessDenied) as native:
        bob.native.sql("SELECT * FROM people", DB)
    assert "SELECT on table hr.people" in str(native.value)

    # a view over the table does not get around it, even with SELECT on the view itself
    lf.grant_permissions(
        Principal=principal("bob"),
        Resource={"Table": {"DatabaseName": DB, "Name": "adults"}},
        Permissions=["SELECT"],
    )
    via_view = bob.query("SELECT * FROM adults")
    assert via_view["Status"]["State"] == "FAILED"
    assert "hr.people" in via_view["Status"]["StateChangeReason"]
    assert alice.query("SELECT * FROM adults")["Status"]["State"] == "FAILED"  # the view: no grant
    lf.grant_permissions(
        Principal=principal("alice"),
        Resource={"Table": {"DatabaseName": DB, "TableWildcard": {}}},
        Permissions=["SELECT", "DESCRIBE"],
    )
    assert alice.query("SELECT * FROM adults")["Status"]["State"] == "SUCCEEDED"

    # DESCRIBE guards GetTable, DROP guards DeleteTable (and DROP TABLE)
    assert alice.glue.get_table(DatabaseName=DB, Name="people")["Table"]["Name"] == "people"
    with pytest.raises(ClientError) as describe:
        bob.glue.get_table(DatabaseName=DB, Name="people")
    assert code_of(describe)[0] == "AccessDeniedException"
    assert "DESCRIBE on table hr.people" in code_of(describe)[1]
    with pytest.raises(ClientError) as drop:
        alice.glue.delete_table(DatabaseName=DB, Name="people")
    assert code_of(drop)[0] == "AccessDeniedException"
    dropped = alice.query("DROP TABLE people")
    assert dropped["Status"]["State"] == "FAILED"
    assert glue.get_table(DatabaseName=DB, Name="people")["Table"]["Name"] == "people"

    # listing: admins see every grant, others their own
    listed = lf.list_permissions(ResourceType="TABLE")["PrincipalResourcePermissions"]
    summary = {
        (
            e["Principal"]["DataLakePrincipalIdentifier"],
            e["Resource"]["Table"].get("Name", "*"),
        ): sorted(e["Permissions"])
        for e in listed
    }
    assert summary == {
        (arn("alice"), "*"): ["DESCRIBE", "SELECT"],
        (arn("alice"), "people"): ["SELECT"],
        (arn("bob"), "adults"): ["SELECT"],
    }
    wildcard = lf.list_permissions(Resource={"Table": {"DatabaseName": DB, "TableWildcard": {}}})[
        "PrincipalResourcePermissions"
    ]
    assert [e["Resource"]["Table"]["TableWildcard"] for e in wildcard] == [{}]
    own = bob.lf.list_permissions()["PrincipalResourcePermissions"]
    assert [e["Principal"]["DataLakePrincipalIdentifier"] for e in own] == [arn("bob")]

    # revoke: alice keeps the wildcard SELECT; without it she is refused
    lf.revoke_permissions(Principal=principal("alice"), Resource=PEOPLE, Permissions=["SELECT"])
    assert alice.query("SELECT * FROM people")["Status"]["State"] == "SUCCEEDED"
    lf.revoke_permissions(
        Principal=principal("alice"),
        Resource={"Table": {"DatabaseName": DB, "TableWildcard": {}}},
        Permissions=["SELECT"],
    )
    assert alice.query("SELECT * FROM people")["Status"]["State"] == "FAILED"
    with pytest.raises(ClientError) as again:
        lf.revoke_permissions(Principal=principal("alice"), Resource=PEOPLE, Permissions=["SELECT"])
    assert code_of(again)[0] == "InvalidInputException"


def test_bad_grants_say_what_is_allowed(users: dict[str, User], client: Callable[..., Any]) -> None:
    lf = client("lakeformation")
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"Principal": {"DataLakePrincipalIdentifier": "bob"}, "Resource": PEOPLE},
            "InvalidInputException",
            "arn:aws:iam::000000000000:user/<name>",
        ),
        (
            {"Principal": principal("bob"), "Resource": PEOPLE, "Permissions": ["INSERT"]},
            "InvalidInputException",
            "SELECT",
        ),
        (
            {
                "Principal": principal("bob"),
                "Resource": {"Database": {"Name": DB}},
                "Permissions": ["SELECT"],
            },
            "InvalidInputException",
            "on a database",
        ),
        (
            {
                "Principal": principal("bob"),
                "Resource": {"Table": {"DatabaseName": DB, "Name": "nope"}},
            },
            "EntityNotFoundException",
            "nope",
        ),
        (
            {
                "Principal": principal("bob"),
                "Resource": {"DataLocation": {"ResourceArn": "arn:aws:s3:::x"}},
            },
            "InvalidInputException",
            "DataLocation",
        ),
    ]
    for params, code, fragment in cases:
        params.setdefault("Permissions", ["SELECT"])
        with pytest.raises(ClientError) as caught:
            lf.grant_permissions(**params)
        got, message = code_of(caught)
        assert got == code, params
        assert fragment in message, message
    with pytest.raises(ClientError) as not_admin:
        users["bob"].lf.grant_permissions(
            Principal=principal("bob"), Resource=PEOPLE, Permissions=["SELECT"]
        )
    assert code_of(not_admin)[0] == "AccessDeniedException"
    failures = lf.batch_grant_permissions(
        Entries=[
            {
                "Id": "1",
                "Principal": principal("bob"),
                "Resource": PEOPLE,
                "Permissions": ["DESCRIBE"],
            },
            {
                "Id": "2",
                "Principal": principal("bob"),
                "Resource": PEOPLE,
                "Permissions": ["WRITE"],
            },
        ]
    )["Failures"]
    assert [(f["RequestEntry"]["Id"], f["Error"]["ErrorCode"]) for f in failures] == [
        ("2", "InvalidInputException")
    ]
    assert users["bob"].glue.get_table(DatabaseName=DB, Name="people")["Table"]["Name"] == "people"
    assert (
        lf.batch_revoke_permissions(
            Entries=[
                {
                    "Id": "1",
                    "Principal": principal("bob"),
                    "Resource": PEOPLE,
                    "Permissions": ["DESCRIBE"],
                }
            ]
        )["Failures"]
        == []
    )


def test_listings_hide_what_the_caller_may_not_describe(
    users: dict[str, User], client: Callable[..., Any]
) -> None:
    lf, glue = client("lakeformation"), client("glue")
    alice, bob = users["alice"], users["bob"]
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_database(DatabaseInput={"Name": "vault"})
    for table in ("orders", "refunds", "stock"):
        glue.create_table(DatabaseName="sales", TableInput={"Name": table})
    glue.create_table(DatabaseName="vault", TableInput={"Name": "keys"})

    def tables(user: User) -> list[str]:
        pages = user.glue.get_paginator("get_tables").paginate(
            DatabaseName="sales", PaginationConfig={"PageSize": 1}
        )
        return [t["Name"] for page in pages for t in page["TableList"]]

    def databases(user: User) -> set[str]:
        return {d["Name"] for d in user.glue.get_databases()["DatabaseList"]}

    # ungoverned tables stay visible to every principal with the read scope
    assert tables(bob) == ["orders", "refunds", "stock"]
    assert {"sales", "vault"} <= databases(bob)

    orders = {"Table": {"DatabaseName": "sales", "Name": "orders"}}
    lf.grant_permissions(Principal=principal("alice"), Resource=orders, Permissions=["SELECT"])
    assert tables(alice) == ["orders", "refunds", "stock"]
    assert tables(bob) == ["refunds", "stock"]  # paging skips the hidden table
    assert [t["Name"] for t in glue.get_tables(DatabaseName="sales")["TableList"]] == [
        "orders",
        "refunds",
        "stock",
    ]  # admins see everything
    assert [t.name for t in bob.native.catalog.tables.list("sales")] == ["refunds", "stock"]

    # a wildcard grant governs every table of the database
    wildcard = {"Table": {"DatabaseName": "sales", "TableWildcard": {}}}
    lf.grant_permissions(Principal=principal("alice"), Resource=wildcard, Permissions=["DESCRIBE"])
    assert tables(bob) == []
    assert tables(alice) == ["orders", "refunds", "stock"]
    lf.grant_permissions(
        Principal=principal("bob"),
        Resource={"Table": {"DatabaseName": "sales", "Name": "stock"}},
        Permissions=["DESCRIBE"],
    )
    assert tables(bob) == ["stock"]

    # a database governed by its own grants is listed only to principals holding something in it
    lf.grant_permissions(
        Principal=principal("alice"), Resource={"Database": {"Name": "vault"}}, Permissions=["ALL"]
    )
    assert "vault" in databases(alice)
    assert "vault" not in databases(bob)
    assert "sales" in databases(bob)  # bob holds DESCRIBE on sales.stock
    assert "vault" not in {d.name for d in bob.native.catalog.databases.list(page_size=1)}
    assert "vault" in {d["Name"] for d in glue.get_databases()["DatabaseList"]}
