"""The models shipped in pretrained/: each loads with onnxruntime alone, carries complete metadata
and a complete card, is declared in dvc.yaml, and classifies a photo right after the install; where
../shared exists, its card's PublicTest/ figures are what a fresh evaluate gives."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from emotions.demo.faces import EXPRESSIONS, draw_face
from emotions.saved.runtime import Predictor
from tests.conftest import ROOT, drawn_face, write_image

SEVEN = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SHIPPED = {"fer2013-seven": SEVEN, "fer2013-three": ("angry", "happy", "sad")}
PUBLIC_TEST = ROOT.parent / "shared" / "data" / "fer2013" / "PublicTest"
SECTIONS = ("## Data", "## How it was trained", "## Test metrics", "## Intended use", "## Limits")


def card_of(name: str) -> str:
    return (ROOT / "pretrained" / name / "MODEL_CARD.md").read_text(encoding="utf-8")


def card_figure(card: str, what: str) -> float:
    match = re.search(rf"{what} \*\*([\d.]+)\*\*", card)
    assert match, f"the card gives no {what}"
    return float(match.group(1))


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_model_loads_and_classifies_generated_faces(name: str) -> None:
    predictor = Predictor(ROOT / "pretrained" / name)
    meta = predictor.meta
    assert meta.classes == SHIPPED[name]
    assert (meta.image_size, meta.color, meta.face_detect) == (48, "gray", False)
    rng = np.random.default_rng(0)
    faces = np.stack([draw_face(EXPRESSIONS[i % 3], rng, 48) for i in range(6)])
    probabilities = predictor.probabilities(faces[..., None].astype(np.float32) / 255)
    assert probabilities.shape == (6, len(meta.classes))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    size_mb = (ROOT / "pretrained" / name / "model.onnx").stat().st_size / 2**20
    assert size_mb < 20, "small enough to keep in git"


@pytest.mark.parametrize("name", SHIPPED)
def test_the_card_is_complete_and_true_to_the_files(name: str) -> None:
    card = card_of(name)
    for section in SECTIONS:
        assert section in card
    size_mb = (ROOT / "pretrained" / name / "model.onnx").stat().st_size / 2**20
    assert f"`model.onnx` ({size_mb:.1f} MB)" in card
    assert re.search(r"Code at commit `[0-9a-f]{7,}`", card)
    assert re.search(r"DVC hash\s.*`[0-9a-f]{32}\.dir", card, re.S)
    assert "python -m emotions.recipes " in card
    assert 0 < card_figure(card, "macro-F1") <= card_figure(card, "accuracy") + 0.2
    for label in SHIPPED[name]:
        assert f"| {label} |" in card, f"no F1 row for {label}"


@pytest.mark.parametrize("name", SHIPPED)
def test_the_card_describes_each_network_the_model_averages(name: str) -> None:
    """What tools/ship.py --with-shipped reads back when a further network joins them."""
    import onnx

    from emotions.saved.ensemble import networks
    from tools.ship import shipped_sections

    folder = ROOT / "pretrained" / name
    sections = shipped_sections(card_of(name), folder)
    assert len(sections) == len(networks(onnx.load(str(folder / "model.onnx"))))
    for text in sections.values():
        recipe = re.search(r"recipe `(recipes/[\w.-]+\.yaml)`", text)
        assert recipe and (ROOT / recipe.group(1)).is_file()


def test_every_shipped_model_is_a_dvc_artifact() -> None:
    artifacts = yaml.safe_load((ROOT / "dvc.yaml").read_text())["artifacts"]
    paths = {spec["path"] for spec in artifacts.values()}
    assert {f"pretrained/{name}/model.onnx" for name in SHIPPED} <= paths
    assert sorted(p.name for p in (ROOT / "pretrained").iterdir()) == sorted(SHIPPED)


@pytest.mark.slow
def test_predict_with_a_shipped_model_finds_the_faces_of_a_photo_without_tensorflow(
    tmp_path: Path,
) -> None:
    """Right after the install, from the project's folder: no TensorFlow imported; the two faces
    of a photo found and classified, a crop classified whole, and each explained."""
    photo = np.full((700, 700), 128, np.uint8)
    photo[400:600, 50:250] = drawn_face()
    photo[50:250, 400:600] = drawn_face()
    image = write_image(tmp_path / "photo.png", photo)
    crop = write_image(tmp_path / "crop.png", drawn_face(48))
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['predict', '--model', {str(ROOT / 'pretrained' / 'fer2013-seven')!r}, "
        f"'--csv', '--explain', {str(tmp_path / 'why')!r}, {str(image)!r}, {str(crop)!r}]\n"
        "try:\n"
        "    runpy.run_module('stages.predict', run_name='__main__')\n"
        "finally:\n"
        "    print('tensorflow' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "False"
    rows = result.stdout.strip().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == [str(image), str(image), str(crop)]
    assert len(list((tmp_path / "why").glob("*.png"))) == 3  # a heat map a face


@pytest.mark.slow
@pytest.mark.skipif(not PUBLIC_TEST.is_dir(), reason="needs ../shared (FER-2013's PublicTest/)")
@pytest.mark.parametrize("name", SHIPPED)
def test_the_cards_test_figures_are_what_a_fresh_evaluate_gives(name: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.evaluate",
            "--model",
            str(ROOT / "pretrained" / name),
            "--data",
            str(PUBLIC_TEST),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    metrics = yaml.safe_load(result.stdout)
    card = card_of(name)
    assert card_figure(card, "accuracy") == round(metrics["accuracy"], 4)
    assert card_figure(card, "macro-F1") == round(metrics["macro_f1"], 4)
