"""Occlusion heat maps: they must point at what the model looks at, on a stand-in model whose answer
depends on one known region, on a network trained on faces told apart by one feature alone, and
through the predict command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions.data.imaging import to_input
from emotions.drawing import heat_overlay
from emotions.prediction.classify import predict_images
from emotions.prediction.pictures import write_explained
from emotions.saved.occlusion import PATCH_SHARE, occlusion_map
from tests.conftest import (
    TINY_PARAMS,
    assert_one_error_line,
    changed,
    drawn_face,
    faces_of,
    predict,
    prepared_from,
    shape_image,
    tiny_model,
    train_model,
    write_image,
)

SIZE = 32
MOUTH = (slice(19, 29), slice(8, 25))  # rows, columns: where every drawn face's mouth lies
BROWS = (slice(4, 12), slice(4, 29))
REGIONS = {"mouth": MOUTH, "brows": BROWS}


class RegionModel:
    """Two classes; the first one's probability is the mean brightness of ``region``, nothing else
    counts."""

    def __init__(self, region: tuple[slice, slice]) -> None:
        self.region = region
        self.batches: list[int] = []

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.batches.append(len(images))
        first = images[:, self.region[0], self.region[1]].mean(axis=(1, 2))
        return np.stack([first, 1 - first], axis=1)


def dark_image_with_bright(region: tuple[slice, slice], size: int = SIZE) -> np.ndarray:
    image = np.random.default_rng(0).uniform(0.0, 0.3, (size, size)).astype(np.float32)
    image[region] = 1.0
    return image


def test_the_map_peaks_on_the_only_region_the_model_reads() -> None:
    region = (slice(20, 26), slice(6, 14))
    model = RegionModel(region)
    heat = occlusion_map(model, dark_image_with_bright(region))
    assert heat.shape == (SIZE, SIZE) and heat.dtype == np.float32
    peak = np.unravel_index(int(np.argmax(heat)), heat.shape)
    assert 20 <= peak[0] < 26 and 6 <= peak[1] < 14
    assert heat[region].min() > 0  # hiding any of it lowers the bright class
    patch = round(SIZE / PATCH_SHARE)
    far = np.ones(heat.shape, bool)
    # pixels no patch touching the region covers
    far[20 - patch + 1 : 26 + patch - 1, 6 - patch + 1 : 14 + patch - 1] = False
    assert np.all(heat[far] == 0)
    assert len(model.batches) == 1  # every occluded copy, and the face itself, in one call
    assert model.batches[0] == 1 + len(range(0, SIZE - patch + 1, round(SIZE / 12))) ** 2


def test_the_map_is_for_the_predicted_class_unless_another_is_asked() -> None:
    region = (slice(2, 8), slice(20, 30))
    image = dark_image_with_bright(region)
    model = RegionModel(region)
    assert model(image[np.newaxis])[0, 0] > 0.5  # the first class is predicted
    np.testing.assert_array_equal(occlusion_map(model, image), occlusion_map(model, image, 0))
    np.testing.assert_allclose(
        occlusion_map(model, image, 1), -occlusion_map(model, image, 0), atol=1e-6
    )


@pytest.mark.parametrize("size", [16, 48, 50, 64])
def test_patches_reach_the_last_row_and_column(size: int) -> None:
    """At 64 pixels, patches of 11 moved by 5 would stop 3 pixels short of the edge."""
    corner = (slice(size - 2, size), slice(size - 2, size))
    heat = occlusion_map(RegionModel(corner), dark_image_with_bright(corner, size))
    assert (
        np.isfinite(heat).all() and heat[-1, -1] == heat.max() > 0
    )  # every patch over the corner hides it all


def test_the_overlay_is_hot_where_the_map_is_and_fits_the_face() -> None:
    face = np.full((90, 60), 128, np.uint8)  # a face box need not be square
    heat = np.zeros((16, 16), np.float32)
    heat[:4, :4] = 0.4
    picture = heat_overlay(face, heat)
    assert picture.shape == (90, 60, 3)
    blue, _, red = (picture[..., c].astype(int) for c in range(3))
    assert red[5, 5] > blue[5, 5] + 50  # the hot corner, stretched to the face's size
    assert blue[80, 50] > red[80, 50] + 50
    sure = heat_overlay(
        face, heat * 0.01
    )  # a very sure model's drops are small: the colours show where, all the same
    assert sure[5, 5, 2] > sure[5, 5, 0] + 50
    rounding = heat_overlay(face, heat * 1e-6)  # float32 rounding, not a cause: never shown hot
    assert rounding[5, 5, 2] < rounding[5, 5, 0]


def test_a_face_that_changed_since_it_was_classified_is_named(tmp_path: Path) -> None:
    from emotions.errors import UserError
    from emotions.prediction.inputs import expand_inputs
    from emotions.saved.runtime import Predictor

    image = write_image(tmp_path / "in" / "face.png", shape_image(1, size=32))
    predictor = Predictor(tiny_model(tmp_path / "models"))
    predictions = predict_images(predictor, expand_inputs([str(image)]))
    image.write_bytes(b"")
    with pytest.raises(
        UserError, match=f"^{image}: changed while predict read it \\(empty file\\)$"
    ):
        write_explained(predictor, predictions, tmp_path / "explained")


def drawn(decided_by: str, label: int, rng: np.random.Generator) -> np.ndarray:
    """A 32-pixel face of class ``label`` (0 or 1) that shows only in one feature, ``decided_by``:
    a smile or a frown for the mouth, brows slanting down or up toward the nose for the brows. The
    other feature takes either shape at random, and everything else (brightness, eyes, position,
    noise) is random in both classes."""
    shape = {name: label if name == decided_by else int(rng.integers(2)) for name in REGIONS}
    background, skin = rng.uniform(0, 90), rng.uniform(150, 230)
    ink = skin - rng.uniform(90, 140)
    image = np.full((SIZE, SIZE), background, np.float32)
    dx, dy = (int(v) for v in rng.integers(-1, 2, size=2))
    cv2.ellipse(image, (16 + dx, 16 + dy), (13, 15), 0, 0, 360, skin, -1)
    for side in (-1, 1):
        cv2.circle(image, (16 + dx + side * 6, 14 + dy), int(rng.integers(1, 3)), ink, -1)  # eyes
        slant = 2 if shape["brows"] else -2
        cv2.line(
            image,
            (16 + dx + side * 3, 8 + dy + slant),
            (16 + dx + side * 10, 8 + dy - slant),
            ink,
            2,
        )
    if shape["mouth"]:  # the lower half of an ellipse: a smile
        cv2.ellipse(image, (16 + dx, 22 + dy), (6, 3), 0, 0, 180, ink, 2)
    else:  # the upper half, lower down: a frown
        cv2.ellipse(image, (16 + dx, 26 + dy), (6, 3), 0, 180, 360, ink, 2)
    image += rng.normal(0, 6, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def faces(decided_by: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8-bit faces and their labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    return np.stack([drawn(decided_by, int(k), rng) for k in labels]), labels


def trained_on(decided_by: str, model_dir: Path) -> Path:
    """A small CNN trained on faces told apart by ``decided_by`` alone, exported to ONNX."""
    from emotions import params
    from emotions.data.encoding import Encoding
    from emotions.training.export import save_checked
    from emotions.training.networks import ModelParams

    images, labels = faces(decided_by, 400, seed=1)
    encoding = Encoding(("a", "b"), SIZE, face_detect=False)
    prepared = prepared_from(images, labels, encoding, model_dir.parent / "prepared")
    split = {"train": np.arange(320), "val": np.arange(320, 400)}
    raw = changed(
        TINY_PARAMS,
        {
            "model.reference.conv1_filters": 8,
            "model.reference.conv2_filters": 16,
            "model.reference.dense_units": 16,
            "train.epochs": 8,
            "train.batch_size": 16,
            "train.learning_rate": 0.003,
        },
    )
    options = (
        params.load(ModelParams, raw),
        params.load(params.TrainParams, raw),
        params.load(params.AugmentParams, raw),
    )
    save_checked(
        train_model(prepared, split, *options, model_dir.parent / "live"),
        prepared.encoding,
        model_dir,
        faces_of(prepared),
    )
    return model_dir


@pytest.mark.slow
@pytest.mark.parametrize("decided_by", ["mouth", "brows"])
def test_the_heat_lies_on_the_one_feature_that_decides(decided_by: str, tmp_path: Path) -> None:
    """The issue's test: two classes of drawn faces that differ by one feature only. A map that
    pointed anywhere else (or always at the mouth) would fail one of the two cases."""
    from emotions.saved.runtime import Predictor

    predictor = Predictor(trained_on(decided_by, tmp_path / "models"))
    pixels, labels = faces(decided_by, 40, seed=2)  # faces the network never saw
    images = to_input(pixels)
    assert (
        predictor.probabilities(images).argmax(axis=1) == labels
    ).mean() >= 0.9  # it did learn the feature
    region, other = (
        REGIONS[decided_by],
        REGIONS[next(name for name in REGIONS if name != decided_by)],
    )
    shares, elsewhere = [], []
    for image in images:
        heat = np.clip(occlusion_map(predictor.probabilities, image), 0, None)
        shares.append(heat[region].sum() / heat.sum())
        elsewhere.append(heat[other].sum() / heat.sum())
    area = (region[0].stop - region[0].start) * (region[1].stop - region[1].start) / SIZE**2
    assert np.mean(shares) > max(0.5, 2 * area), (np.mean(shares), area)
    assert np.mean(elsewhere) < np.mean(shares) / 3, (np.mean(elsewhere), np.mean(shares))


@pytest.mark.slow
def test_predict_explain_writes_one_picture_per_face(tmp_path: Path) -> None:
    models = tiny_model(tmp_path / "models")
    meta = json.loads((models / "meta.json").read_text())
    (models / "meta.json").write_text(json.dumps({**meta, "face_detect": True}))
    photos = tmp_path / "photos"
    write_image(photos / "two.png", np.concatenate([drawn_face(), drawn_face()], axis=1))
    write_image(photos / "one.jpg", drawn_face())
    write_image(photos / "wall.png", np.full((120, 160), 90, np.uint8))
    result = predict(photos, "--model-dir", models, "--json", "--explain", tmp_path / "explained")
    assert result.returncode == 0, result.stderr
    assert f"predict: 3 heat maps in {tmp_path / 'explained'}" in result.stderr.splitlines()
    assert sorted(p.name for p in (tmp_path / "explained").iterdir()) == [
        "one.png",
        "two_1.png",
        "two_2.png",
    ]
    rows = [
        r for r in json.loads(result.stdout) if "box" in r
    ]  # the faces found, in the order of their pictures
    assert [Path(r["path"]).name for r in rows] == ["one.jpg", "two.png", "two.png"]
    for name, row in zip(["one", "two_1", "two_2"], rows, strict=True):
        picture = cv2.imread(str(tmp_path / "explained" / f"{name}.png"))
        assert picture.shape == (row["box"][3], row["box"][2], 3)  # the face as the photo shows it


@pytest.mark.slow
def test_an_explain_folder_that_cannot_be_written_gives_one_error_line(tmp_path: Path) -> None:
    models = tiny_model(tmp_path / "models")
    image = write_image(tmp_path / "in" / "face.png", shape_image(1, size=32))
    (tmp_path / "plain").write_text("a file, not a folder")
    result = predict(image, "--model-dir", models, "--explain", tmp_path / "plain" / "explained")
    assert_one_error_line(
        result,
        f"{tmp_path / 'plain' / 'explained' / 'face.png'}: cannot write (part of its folder path "
        "is a file)",
    )
