"""Staging artifacts: checked extraction, script code, the pickle refusal, multi-model staging."""

from __future__ import annotations

import asyncio
import io
import json
import pickle
import tarfile
import zipfile
from pathlib import Path

import pytest
from tests.hosting.support import linear_archive, tar_gz

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.hosting.artifacts import MultiModelStager, find_pickles, prepare_model
from lakeworks.jobs.archives import UnsafeArchive
from lakeworks.schemas.hosting import ModelCreate

CTX = RequestContext("admin", frozenset({"read", "write", "admin"}))


class FakeLake:
    """Objects by s3:// URI; ``download`` as the lake does it for single objects."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def download(self, ctx: RequestContext, s3_uri: str, dest: Path) -> int:
        if s3_uri not in self.objects:
            raise NotFound(f"No objects at {s3_uri}", aws_code="NoSuchKey")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.objects[s3_uri])
        return 1


def _model(image: str, url: str | None, **container: object) -> ModelCreate:
    return ModelCreate.model_validate(
        {"ModelName": "m", "PrimaryContainer": {"Image": image, "ModelDataUrl": url, **container}}
    )


def test_builtin_artifact_is_extracted(tmp_path: Path) -> None:
    lake = FakeLake({"s3://bkt/m.tar.gz": tar_gz({"xgboost-model": b"{}"})})
    (plan,) = prepare_model(lake, CTX, _model("xgboost", "s3://bkt/m.tar.gz"), tmp_path / "m")
    assert plan.kind == "builtin"
    assert plan.hostname == "primary"
    assert (Path(plan.model_dir) / "xgboost-model").read_bytes() == b"{}"


def test_script_code_inside_the_archive(tmp_path: Path) -> None:
    lake = FakeLake({"s3://bkt/m.tar.gz": linear_archive([1.0], 0.0)})
    model = _model("sagemaker-scikit-learn:1.2-1", "s3://bkt/m.tar.gz")
    (plan,) = prepare_model(lake, CTX, model, tmp_path / "m")
    assert plan.kind == "script"
    assert plan.program == "inference.py"
    assert plan.code_dir is not None
    assert (Path(plan.code_dir) / "inference.py").is_file()


def test_script_code_from_the_submit_directory(tmp_path: Path) -> None:
    lake = FakeLake(
        {
            "s3://bkt/m.tar.gz": tar_gz({"coef.json": json.dumps({"coef": [1]}).encode()}),
            "s3://bkt/src.tar.gz": tar_gz({"serve.py": b"def model_fn(d): return 1\n"}),
        }
    )
    env = {"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bkt/src.tar.gz"}
    model = _model("any-image", "s3://bkt/m.tar.gz", Environment=env)
    (plan,) = prepare_model(lake, CTX, model, tmp_path / "m")
    assert plan.code_dir is not None
    assert Path(plan.code_dir, "serve.py").is_file()
    assert plan.environment == env


def test_framework_image_without_its_script_fails_with_a_reason(tmp_path: Path) -> None:
    lake = FakeLake({"s3://bkt/m.tar.gz": tar_gz({"coef.json": b"{}"})})
    with pytest.raises(ValidationError, match=r"inference script 'inference\.py' is not in"):
        prepare_model(lake, CTX, _model("pytorch-inference", "s3://bkt/m.tar.gz"), tmp_path / "m")


def test_missing_model_data(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="Could not find model data at s3://bkt/none"):
        prepare_model(FakeLake({}), CTX, _model("xgboost", "s3://bkt/none.tar.gz"), tmp_path / "m")


def test_a_bad_archive_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    lake = FakeLake({"s3://bkt/m.tar.gz": buffer.getvalue()})
    with pytest.raises(UnsafeArchive, match=r"'\.\.'"):
        prepare_model(lake, CTX, _model("xgboost", "s3://bkt/m.tar.gz"), tmp_path / "m")
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "m" / "container-0" / "model").exists()


def test_pickles_are_found_by_name_content_and_zip(tmp_path: Path) -> None:
    (tmp_path / "model.joblib").write_bytes(b"whatever")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "weights").write_bytes(pickle.dumps({"a": 1}))
    with zipfile.ZipFile(tmp_path / "torch.zip", "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02")
    (tmp_path / "ok.json").write_text("{}")
    assert find_pickles(tmp_path) == ["model.joblib", "sub/weights", "torch.zip"]


def test_pickled_artifact_refused_unless_trusted(tmp_path: Path) -> None:
    archive = tar_gz({"model.pkl": pickle.dumps([1, 2]), "code/inference.py": b"x=1\n"})
    lake = FakeLake({"s3://bkt/m.tar.gz": archive})
    model = _model("sagemaker-scikit-learn", "s3://bkt/m.tar.gz")
    refused = r"pickled files \(model\.pkl\).*LAKEWORKS_TRUSTED_MODEL"
    with pytest.raises(ValidationError, match=refused):
        prepare_model(lake, CTX, model, tmp_path / "a")
    trusted = _model(
        "sagemaker-scikit-learn",
        "s3://bkt/m.tar.gz",
        Environment={"LAKEWORKS_TRUSTED_MODEL": "true"},
    )
    assert prepare_model(lake, CTX, trusted, tmp_path / "b")[0].kind == "script"
    tagged = ModelCreate.model_validate(
        {
            **model.model_dump(by_alias=True, exclude_none=True),
            "Tags": [{"Key": "lakeworks:trusted-model", "Value": "true"}],
        }
    )
    assert prepare_model(lake, CTX, tagged, tmp_path / "c")[0].kind == "script"


def test_multi_model_targets_are_staged_once(tmp_path: Path) -> None:
    lake = FakeLake(
        {
            "s3://bkt/mme/a.tar.gz": tar_gz({"xgboost-model": b"{}"}),
            "s3://bkt/mme/bad.tar.gz": tar_gz({"m.pkl": pickle.dumps(1)}),
        }
    )
    stager = MultiModelStager(lake, CTX, "s3://bkt/mme/", tmp_path, trusted=False)

    async def scenario() -> None:
        first, again = await asyncio.gather(stager.stage("a.tar.gz"), stager.stage("a.tar.gz"))
        assert first == again
        assert (tmp_path / first / "xgboost-model").is_file()
        with pytest.raises(ValidationError, match="Failed to download model data") as missing:
            await stager.stage("missing.tar.gz")
        assert missing.value.aws_code == "ValidationError"
        with pytest.raises(ValidationError, match="pickled"):
            await stager.stage("bad.tar.gz")
        with pytest.raises(ValidationError, match="Invalid TargetModel"):
            await stager.stage("../x.tar.gz")

    asyncio.run(scenario())
    assert len(list(tmp_path.iterdir())) == 1
