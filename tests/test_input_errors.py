"""Stage-level input cases as users meet them: odd data files, odd paths, odd params. Each gives one
line naming the file or key, or is listed in the manifest while the rest goes on."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from emotions.synthetic import EXPRESSIONS
from tests.conftest import CLASSES, make_dataset
from tests.test_stages import assert_user_error, stage, with_params


def test_sample_errors_name_sample_classes(project_dir: Path) -> None:
    with_params(project_dir, **{"sample.classes": ["angry", "disgust"]})
    assert_user_error(
        stage("sample", "--out", "data/sample"),
        f"sample.classes: the sample generator cannot draw 'disgust' (it draws: {', '.join(EXPRESSIONS)}); "
        "point data.source at your own images instead",
    )


@pytest.mark.parametrize(("parts", "scored"), [(("train", "test"), 6), (("Training", "PublicTest", "PrivateTest"), 12), ((), 18)])
def test_evaluate_data_scores_only_held_out_parts(project_dir: Path, parts: tuple[str, ...], scored: int) -> None:
    """A source with parts: what the model may have trained on is not scored; without parts, all."""
    from stages.evaluate import _labelled_set

    root = project_dir / "other"
    for part in parts or ("",):
        make_dataset(root / part, per_class=6 if part.lower() in ("train", "training", "") else 2)
    predictor = SimpleNamespace(meta=SimpleNamespace(classes=CLASSES, image_size=16, face_detect=False))
    images, labels = _labelled_set(root, predictor)  # type: ignore[arg-type]
    assert len(images) == len(labels) == scored and sorted(set(labels.tolist())) == [0, 1, 2]
