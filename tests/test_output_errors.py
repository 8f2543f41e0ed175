"""Stage-level failures around outputs and model files: one `error:` line naming the file, exit code
2, no traceback, nothing already written lost. A hand-made ONNX model stands in for a trained one,
so these tests need no TensorFlow."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from emotions.errors import run_cli
from tests.conftest import (
    CLASSES,
    assert_one_error_line,
    predict,
    shape_image,
    tiny_model,
    write_image,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow

SIZE = 16
RETRAIN = "(run `dvc repro` to retrain)"


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return tiny_model(tmp_path / "models")


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return write_image(tmp_path / "in" / "face.png", shape_image(1, size=32))


def test_the_stand_in_model_predicts(models: Path, image: Path, tmp_path: Path) -> None:
    result = predict(image, "--model-dir", models, "--out", tmp_path / "out" / "p.csv")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "p.csv").read_text().startswith("path,label,angry,happy,sad")


def test_out_file_under_a_regular_file(models: Path, image: Path, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    target = tmp_path / "plain" / "predictions.csv"
    assert_one_error_line(
        predict(image, "--model-dir", models, "--out", target),
        f"{target}: cannot write (part of its folder path is a file)",
    )


def test_annotate_folder_under_a_regular_file(models: Path, image: Path, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    result = predict(image, "--model-dir", models, "--annotate", tmp_path / "plain" / "annotated")
    assert_one_error_line(
        result,
        f"{tmp_path / 'plain' / 'annotated' / 'face.png'}: cannot write (part of its folder path "
        "is a file)",
    )


def test_a_full_disk_keeps_the_previous_output(
    models: Path,
    image: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from stages import predict as stage

    target = tmp_path / "out" / "predictions.csv"
    target.parent.mkdir()
    target.write_text("the previous predictions\n")

    def full(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    monkeypatch.setattr(
        sys, "argv", ["predict", str(image), "--model-dir", str(models), "--out", str(target)]
    )
    with pytest.raises(SystemExit) as exit_info:
        run_cli(stage.main)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {target}: cannot write (No space left on device)"
    ]
    monkeypatch.undo()
    assert target.read_text() == "the previous predictions\n"
    assert [p.name for p in target.parent.iterdir()] == [
        "predictions.csv"
    ]  # no temporary file left


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "No graph was found in the protobuf."),
        (None, "Protobuf parsing failed."),  # None: the real file cut in half
    ],
)
def test_empty_or_truncated_onnx_file(
    models: Path, image: Path, content: bytes | None, reason: str
) -> None:
    path = models / "model.onnx"
    path.write_bytes(
        path.read_bytes()[: len(path.read_bytes()) // 2] if content is None else content
    )
    assert_one_error_line(
        predict(image, "--model-dir", models),
        f"{path}: not a usable ONNX model ({reason}) {RETRAIN}",
    )


@pytest.mark.parametrize("temperature", ["-1", "0", "nan", "warm"])
def test_an_onnx_file_with_a_bad_temperature(models: Path, image: Path, temperature: str) -> None:
    path = models / "model.onnx"
    exported = onnx.load(str(path))
    helper.set_model_props(exported, {"temperature": temperature})
    onnx.save(exported, path)
    assert_one_error_line(
        predict(image, "--model-dir", models),
        f"{path}: its metadata's temperature {temperature!r} is not a number > 0 {RETRAIN}",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"classes": ["angry", "happy", "sad"], "image_si',
            "not a valid model description (Unterminated string",
        ),
        (
            '{"classes": ["angry", "happy", "sad"], "face_detect": false}',
            "incomplete model description, no 'image_size'",
        ),
        ("[]", "not a valid model description (list indices must be integers or slices, not str)"),
    ],
)
def test_corrupt_or_incomplete_meta_json(
    models: Path, image: Path, text: str, problem: str
) -> None:
    (models / "meta.json").write_text(text)
    result = predict(image, "--model-dir", models)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {models / 'meta.json'}: {problem}") and line.endswith(
        RETRAIN
    ), line


def test_a_reader_that_stops_early_ends_predict_quietly(models: Path, image: Path) -> None:
    """`python -m stages.predict FOLDER | head`: the pipe closes before predict writes its table."""
    process = subprocess.Popen(
        [sys.executable, "-m", "stages.predict", str(image), "--model-dir", str(models)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait() == 1
    assert stderr == ""


def test_annotate_and_explain_into_one_folder_is_one_error(
    models: Path, image: Path, tmp_path: Path
) -> None:
    """Each writes `<image>.png`: in one folder, heat maps would overwrite the annotated copies."""
    result = predict(
        image,
        "--model-dir",
        models,
        "--annotate",
        tmp_path / "out",
        "--explain",
        tmp_path / "out" / ".",
    )
    assert_one_error_line(
        result,
        f"{tmp_path / 'out'}: --annotate and --explain name one folder, where the pictures of "
        "an image would overwrite each other: give two",
    )
    assert not (tmp_path / "out").exists()


def model_folder(
    folder: Path,
    shape: tuple[object, ...] = ("n", 16, 16, 1),
    answers: int = 3,
    name: str = "images",
    **meta: object,
) -> Path:
    """A stand-in ONNX model of any input shape, input name and number of outputs, with a
    meta.json of the project's (changed by ``meta``): model folders put together elsewhere."""
    from onnx import TensorProto, helper, numpy_helper

    pixels = int(np.prod([d for d in shape[1:] if isinstance(d, int)]))
    weights = np.random.default_rng(0).normal(size=(pixels, answers)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", [name], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        "elsewhere",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", answers])],
        [numpy_helper.from_array(weights, "w")],
    )
    folder.mkdir(parents=True)
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), folder / "model.onnx"
    )
    described = {"classes": list(CLASSES), "image_size": 16, "face_detect": False, **meta}
    (folder / "meta.json").write_text(json.dumps(described))
    return folder


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answers": 4}, "answers ('n', 4), but meta.json names 3 classes"),
        ({"classes": ["a", "b"]}, "answers ('n', 3), but meta.json names 2 classes"),
        (
            {"shape": ("n", 24, 24, 1)},
            "takes tensor(float) ('n', 24, 24, 1), but meta.json describes float32 faces (N, 16, "
            "16, 1)",
        ),
        (
            {"shape": ("n", 1, 16, 16)},
            "takes tensor(float) ('n', 1, 16, 16), but meta.json describes float32 faces (N, 16, "
            "16, 1)",
        ),
        (
            {"color": "rgb"},
            "takes tensor(float) ('n', 16, 16, 1), but meta.json describes float32 faces (N, 16, "
            "16, 3)",
        ),
    ],
)
def test_a_model_that_disagrees_with_its_description_is_named(
    tmp_path: Path, image: Path, changes: dict, message: str
) -> None:
    shape_keys = {k: changes[k] for k in ("shape", "answers") if k in changes}
    meta = {k: v for k, v in changes.items() if k not in shape_keys}
    models = model_folder(tmp_path / "elsewhere", **shape_keys, **meta)  # type: ignore[arg-type]
    assert_one_error_line(
        predict(image, "--model-dir", models), f"{models / 'model.onnx'}: {message} {RETRAIN}"
    )


def test_another_input_name_is_fine(tmp_path: Path, image: Path) -> None:
    models = model_folder(tmp_path / "elsewhere", name="input_1")
    result = predict(image, "--model-dir", models, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["label"] in CLASSES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            json.dumps({"classes": list(CLASSES), "image_size": 0, "face_detect": False}),
            "image_size 0 is not from 8 to 224",
        ),
        (
            json.dumps({"classes": list(CLASSES), "image_size": 10**9, "face_detect": False}),
            "image_size 1000000000 is not from 8 to 224",
        ),
        (
            json.dumps({"classes": ["only"], "image_size": 16, "face_detect": False}),
            "classes must be a list of at least two names",
        ),
        ("[" * 200_000 + "]" * 200_000, "nested too deep"),
        (" " * 2_000_000 + "{}", "2000002 bytes, more than 1000000 a description takes"),
    ],
    ids=["size-0", "size-huge", "one-class", "nested", "huge-file"],
)
def test_a_description_out_of_bounds_is_named(
    tmp_path: Path, image: Path, text: str, message: str
) -> None:
    models = model_folder(tmp_path / "elsewhere")
    (models / "meta.json").write_text(text)
    result = predict(image, "--model-dir", models)
    assert_one_error_line(
        result, f"{models / 'meta.json'}: not a valid model description ({message}) {RETRAIN}"
    )
