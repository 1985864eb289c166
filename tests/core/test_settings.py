from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from lakeworks.core.settings import Settings, describe_settings, load_settings


def test_defaults_live_under_home(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8600
    assert settings.database_url == f"sqlite:///{tmp_path / 'lakeworks.db'}"
    assert settings.storage_url == (tmp_path / "lake").as_uri()
    assert settings.aws.account_id == "000000000000"
    assert settings.public_url == "http://127.0.0.1:8600"


def test_env_names_derive_from_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEWORKS_HOME", str(tmp_path))
    monkeypatch.setenv("LAKEWORKS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("LAKEWORKS_STORAGE_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("LAKEWORKS_JOBS_MAX_CONCURRENT", "3")
    settings = load_settings()
    assert settings.home == tmp_path
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.storage.endpoint_url == "http://minio:9000"
    assert settings.jobs.max_concurrent == 3


def test_precedence_argument_env_file_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lakeworks.toml").write_text(
        '[server]\nport = 9000\nhost = "127.0.0.2"\n[aws]\nregion = "eu-west-1"\n'
    )
    monkeypatch.setenv("LAKEWORKS_SERVER_PORT", "9100")
    settings = load_settings(home=tmp_path, aws={"account_id": "123456789012"})
    assert settings.server.port == 9100  # env beats file
    assert settings.server.host == "127.0.0.2"  # file beats default
    assert settings.aws.region == "eu-west-1"
    assert settings.aws.account_id == "123456789012"  # argument beats all
    sources = {
        row.path: row.source
        for row in describe_settings(settings, aws={"account_id": "123456789012"})
    }
    assert sources["server.port"] == "env LAKEWORKS_SERVER_PORT"
    assert sources["server.host"].startswith("file ")
    assert sources["aws.account_id"] == "argument"
    assert sources["jobs.backend"] == "default"


def test_secrets_are_masked(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, auth={"master_key": "x" * 44})
    rows = {r.path: r.value for r in describe_settings(settings)}
    assert rows["auth.master_key"] == "**********"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"server": {"port": 70000}}, "port"),
        ({"aws": {"account_id": "12"}}, "account_id"),
        ({"server": {"colour": "red"}}, "colour"),
    ],
)
def test_bad_values_are_refused(
    tmp_path: Path, overrides: dict[str, object], fragment: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=fragment):
        load_settings(home=tmp_path, **overrides)


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            for sub, subfield in annotation.model_fields.items():
                assert subfield.description, f"{name}.{sub} has no description"
        else:
            assert field.description, f"{name} has no description"


def test_configuration_docs_are_current() -> None:
    from lakeworks.core.settings import settings_reference

    docs = Path(__file__).parents[2] / "docs" / "configuration.md"
    assert docs.read_text() == settings_reference(), "run scripts/gen-docs"
