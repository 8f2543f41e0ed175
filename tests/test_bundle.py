"""The saved model's description against the prepared data: a model is refused faces of another
kind or classes in another order, by one error that names the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from emotions.data.encoding import Encoding
from emotions.errors import UserError
from emotions.saved import bundle

MODEL = Encoding(("angry", "happy", "sad"), 48, face_detect=False)


def test_the_models_own_kind_of_faces_and_classes_pass() -> None:
    bundle.check_inputs(Path("m"), MODEL, Encoding(MODEL.classes, 48, face_detect=True))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            Encoding(("happy", "angry", "sad"), 48, face_detect=False),
            "m: model classes ('angry', 'happy', 'sad') differ from the data's ('happy', 'angry', "
            "'sad')",
        ),
        (
            Encoding(MODEL.classes, 32, face_detect=False),
            "m: the model takes 48x48 gray faces, the prepared data holds 32x32 gray ones (rerun)",
        ),
        (
            Encoding(MODEL.classes, 48, face_detect=False, color="rgb"),
            "m: the model takes 48x48 gray faces, the prepared data holds 48x48 rgb ones (rerun)",
        ),
    ],
)
def test_other_classes_or_faces_are_one_error_naming_the_model(
    data: Encoding, message: str
) -> None:
    with pytest.raises(UserError) as raised:
        bundle.check_inputs(Path("m"), MODEL, data, " (rerun)")
    assert str(raised.value) == message
