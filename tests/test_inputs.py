from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from emotions.data.imaging import read_image
from emotions.prediction.inputs import expand_inputs
from tests.conftest import shape_image, write_image


def test_a_folder_gives_its_gifs_with_its_other_images_and_videos(tmp_path: Path) -> None:
    """A GIF named on the command line was classified, but one in a folder skipped unsaid."""
    colour = cv2.cvtColor(shape_image(1, size=40), cv2.COLOR_GRAY2BGR)
    gif = tmp_path / "faces" / "a.gif"
    gif.parent.mkdir()
    gif.write_bytes(cv2.imencode(".gif", colour)[1].tobytes())
    png = write_image(tmp_path / "faces" / "deep" / "b.png", shape_image(0))
    (tmp_path / "faces" / "notes.txt").write_text("not an image")
    assert expand_inputs([str(tmp_path / "faces")]) == [(gif, None), (png, None)]
    assert read_image(gif).shape == (40, 40) and np.ptp(read_image(gif)) > 0
