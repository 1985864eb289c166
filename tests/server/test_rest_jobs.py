"""The jobs REST API in process: shapes, errors, scopes, and a real job through the real lake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakeworks.testing import InProcessServer, temporary_server

API = "/api/v1/jobs"
HELLO = b"import sys\nprint('hello', sys.argv[1:])\n"
SLEEPER = b"import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    home = tmp_path_factory.mktemp("rest-jobs")
    with temporary_server(
        home, jobs={"poll_interval_seconds": 0.05, "stop_grace_seconds": 5}
    ) as running:
        client = running.client
        assert client.post("/api/v1/buckets", json={"name": "code"}).status_code == 201
        for key, body in (("hello.py", HELLO), ("sleep.py", SLEEPER)):
            put = client.put(f"/api/v1/buckets/code/objects/{key}", content=body)
            assert put.status_code == 200, put.text
        yield running


@pytest.fixture(scope="module")
def reader(srv: InProcessServer) -> dict[str, str]:
    created = srv.client.post(
        "/api/v1/tokens", json={"principal": "jobs-reader", "scopes": ["read"]}
    )
    return {"Authorization": f"Bearer {created.json()['token']}"}


def job(name: str, **fields: Any) -> dict[str, Any]:
    return {"job_name": name, "code_uri": "s3://code/hello.py", "entry_point": "hello.py", **fields}


def wait_ended(client: TestClient, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info: dict[str, Any] = client.get(f"{API}/{name}").json()
        if info["status"] in ("Completed", "Failed", "Stopped"):
            return info
        time.sleep(0.05)
    pytest.fail(f"job {name} did not end within {timeout}s")


def assert_error(response: Any, status: int, code: str, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["code"], error["type"]) == (code, kind)
    assert error["message"]
    return error


def test_submit_describe_list_and_read_logs(srv: InProcessServer) -> None:
    client = srv.client
    created = client.post(
        API, json=job("rest-hello", hyperparameters={"epochs": "2"}, output_path="s3://code/out")
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["job_arn"] == "arn:aws:sagemaker:us-east-1:000000000000:training-job/rest-hello"
    assert body["status"] == "InProgress"
    assert body["spec"]["hyperparameters"] == {"epochs": "2"}
    assert body["job_type"] == "script"

    info = wait_ended(client, "rest-hello")
    assert info["status"] == "Completed", info["failure_reason"]
    assert info["model_artifacts"] == "s3://code/out/rest-hello/output/model.tar.gz"
    assert [t["status"] for t in info["secondary_status_transitions"]][-1] == "Completed"
    listed = client.get("/api/v1/buckets/code/objects", params={"prefix": "out/rest-hello/"})
    keys = {item["key"] for item in listed.json()["items"]}
    assert keys == {"out/rest-hello/output/model.tar.gz", "out/rest-hello/logs/output.log"}

    logs = client.get(f"{API}/rest-hello/logs").json()
    assert logs == {
        "job_name": "rest-hello",
        "offset": 0,
        "next_offset": len("hello ['--epochs', '2']\n"),
        "data": "hello ['--epochs', '2']\n",
        "complete": True,
    }
    tail = client.get(f"{API}/rest-hello/logs", params={"offset": 6, "limit": 3}).json()
    assert (tail["data"], tail["next_offset"]) == ("['-", 9)

    page = client.get(API, params={"name_contains": "rest-hel"}).json()
    assert [j["job_name"] for j in page["items"]] == ["rest-hello"]
    assert set(page["items"][0]) >= {"job_name", "job_arn", "status", "creation_time"}
    assert "spec" not in page["items"][0]  # summaries only


def test_duplicate_names_are_409(srv: InProcessServer) -> None:
    client = srv.client
    assert client.post(API, json=job("rest-dup")).status_code == 201
    error = assert_error(
        client.post(API, json=job("rest-dup")), 409, "ResourceInUse", "AlreadyExists"
    )
    assert "rest-dup" in error["message"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({**job("rest-bad"), "unknown_field": 1}, "body.unknown_field"),
        (job("-bad-name-"), "body.job_name"),
        (job("rest-bad", code_uri="http://example.com/x.py"), "body.code_uri"),
        (job("rest-bad", stopping_condition={"max_runtime_in_seconds": 0}), "max_runtime"),
        (job("rest-bad", resource_config={"instance_count": 2}), "instance_count"),
        ({"job_name": "rest-bad"}, "body.entry_point"),
    ],
)
def test_malformed_submissions_are_400_and_create_nothing(
    srv: InProcessServer, body: dict[str, Any], location: str
) -> None:
    error = assert_error(
        srv.client.post(API, json=body), 400, "ValidationException", "ValidationError"
    )
    assert location in error["message"]
    assert srv.client.get(f"{API}/rest-bad").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (job("rest-bad2", code_uri=None), "code_uri is required"),
        (job("rest-bad2", entry_point="../x.py"), "entry_point"),
        (job("rest-bad2", environment={"LAKEWORKS_AUTH_MASTER_KEY": "x"}), "set by Lakeworks"),
        (job("rest-bad2", tags={"aws:owner": "x"}), "reserved prefix"),
    ],
)
def test_semantic_errors_are_400_and_create_nothing(
    srv: InProcessServer, body: dict[str, Any], message: str
) -> None:
    error = assert_error(
        srv.client.post(API, json=body), 400, "ValidationException", "ValidationError"
    )
    assert message in error["message"]
    assert srv.client.get(f"{API}/rest-bad2").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"max_results": 0},
        {"max_results": 101},
        {"sort_by": "Size"},
        {"sort_order": "Sideways"},
        {"status_equals": "Running"},
        {"creation_time_after": "not-a-time"},
        {"next_token": "bogus"},
    ],
)
def test_bad_list_parameters_are_400(srv: InProcessServer, params: dict[str, Any]) -> None:
    assert_error(srv.client.get(API, params=params), 400, "ValidationException", "ValidationError")


def test_list_pages_sorts_and_filters_by_time(srv: InProcessServer) -> None:
    client = srv.client
    for name in ("rest-page-a", "rest-page-b", "rest-page-c"):
        assert client.post(API, json=job(name)).status_code == 201
    params: dict[str, Any] = {
        "name_contains": "rest-page",
        "sort_by": "Name",
        "sort_order": "Ascending",
        "max_results": 2,
    }
    first = client.get(API, params=params).json()
    assert [j["job_name"] for j in first["items"]] == ["rest-page-a", "rest-page-b"]
    second = client.get(API, params={**params, "next_token": first["next_token"]}).json()
    assert [j["job_name"] for j in second["items"]] == ["rest-page-c"]
    assert second["next_token"] is None
    newest = client.get(API, params={"name_contains": "rest-page"}).json()["items"]
    assert [j["job_name"] for j in newest] == ["rest-page-c", "rest-page-b", "rest-page-a"]
    cutoff = newest[1]["creation_time"]
    after = client.get(API, params={"name_contains": "rest-page", "creation_time_after": cutoff})
    assert [j["job_name"] for j in after.json()["items"]] == ["rest-page-c"]


def test_stop_a_running_job_then_409(srv: InProcessServer) -> None:
    client = srv.client
    client.post(API, json=job("rest-sleep", code_uri="s3://code/sleep.py", entry_point="sleep.py"))
    deadline = time.monotonic() + 60
    while "sleeping" not in client.get(f"{API}/rest-sleep/logs").json()["data"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stopped = client.post(f"{API}/rest-sleep/stop")
    assert stopped.status_code == 200
    assert stopped.json()["status"] in ("Stopping", "Stopped")
    info = wait_ended(client, "rest-sleep")
    assert info["status"] == "Stopped"
    again = client.post(f"{API}/rest-sleep/stop")
    assert (
        "only InProgress jobs can be stopped"
        in assert_error(again, 409, "ResourceInUse", "ResourceInUse")["message"]
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"{API}/nope"), ("POST", f"{API}/nope/stop"), ("GET", f"{API}/nope/logs")],
)
def test_unknown_jobs_are_404(srv: InProcessServer, method: str, path: str) -> None:
    error = assert_error(srv.client.request(method, path), 404, "ResourceNotFound", "NotFound")
    assert "'nope' does not exist" in error["message"]


@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 2_000_000}])
def test_bad_log_ranges_are_400(srv: InProcessServer, params: dict[str, Any]) -> None:
    srv.client.post(API, json=job("rest-logs-range"))
    response = srv.client.get(f"{API}/rest-logs-range/logs", params=params)
    assert_error(response, 400, "ValidationException", "ValidationError")


def test_scopes_and_credentials(srv: InProcessServer, reader: dict[str, str]) -> None:
    client = srv.client
    denied = client.post(API, json=job("rest-reader"), headers=reader)
    assert_error(denied, 403, "AccessDeniedException", "AccessDenied")
    assert client.get(f"{API}/rest-reader").status_code == 404  # nothing was created
    assert client.get(API, headers=reader).status_code == 200
    client.post(API, json=job("rest-scoped"))
    assert client.get(f"{API}/rest-scoped", headers=reader).status_code == 200
    stop = client.post(f"{API}/rest-scoped/stop", headers=reader)
    assert_error(stop, 403, "AccessDeniedException", "AccessDenied")
    anonymous = client.get(API, headers={"Authorization": ""})
    assert_error(anonymous, 401, "UnrecognizedClientException", "Unauthenticated")


def test_job_dirs_live_under_the_home(srv: InProcessServer) -> None:
    srv.client.post(API, json=job("rest-dir"))
    assert wait_ended(srv.client, "rest-dir")["status"] == "Completed"
    job_dir: Path = srv.settings.home / "jobs" / "rest-dir"
    assert (job_dir / "input/config/hyperparameters.json").is_file()
    assert (job_dir / "code/hello.py").read_bytes() == HELLO
