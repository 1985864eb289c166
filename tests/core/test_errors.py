from __future__ import annotations

import pytest

from lakeworks.core import errors
from lakeworks.core.context import RequestContext, expand_scopes


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_class_round_trips_by_name(name: str) -> None:
    cls = getattr(errors, name)
    if isinstance(cls, type) and issubclass(cls, errors.LakeworksError):
        assert errors.error_class_for(cls.__name__) is cls
        assert 400 <= cls.status <= 599


def test_user_errors_are_4xx() -> None:
    for cls in (errors.ValidationError, errors.NotFound, errors.AccessDenied, errors.ResourceInUse):
        assert 400 <= cls.status < 500


def test_aws_code_override() -> None:
    err = errors.NotFound("no such key", aws_code="NoSuchKey")
    assert (err.status, err.code, err.aws_code) == (404, "ResourceNotFound", "NoSuchKey")


def test_scopes_expand_and_are_enforced() -> None:
    assert expand_scopes(["write"]) == {"read", "write"}
    assert expand_scopes(["admin"]) == {"read", "write", "admin"}
    ctx = RequestContext(principal="bob", scopes=expand_scopes(["read"]))
    ctx.require("read")
    with pytest.raises(errors.AccessDenied, match="needs the 'write' scope"):
        ctx.require("write")
