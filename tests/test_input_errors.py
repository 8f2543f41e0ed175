"""Stage-level input cases as users meet them: odd data files, odd paths, odd params. Each gives one
line naming the file or key, or is listed in the manifest while the rest goes on."""

from __future__ import annotations

from pathlib import Path

from emotions.synthetic import EXPRESSIONS
from tests.test_stages import assert_user_error, stage, with_params


def test_sample_errors_name_sample_classes(project_dir: Path) -> None:
    with_params(project_dir, **{"sample.classes": ["angry", "disgust"]})
    assert_user_error(
        stage("sample", "--out", "data/sample"),
        f"sample.classes: the sample generator cannot draw 'disgust' (it draws: {', '.join(EXPRESSIONS)}); "
        "point data.source at your own images instead",
    )
