from __future__ import annotations

import pytest

from emotions.errors import EXIT_USER_ERROR, UserError, run_cli


def failing() -> None:
    raise UserError("data/split.npz: split not found")


def test_a_user_error_is_one_line_and_an_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DVC_STAGE", raising=False)
    with pytest.raises(SystemExit) as exit:
        run_cli(failing)
    assert exit.value.code == EXIT_USER_ERROR
    assert capsys.readouterr().err == "error: data/split.npz: split not found\n"


def test_under_dvc_the_line_says_how_to_get_the_removed_outputs_back(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_STAGE", "train")
    with pytest.raises(SystemExit):
        run_cli(failing)
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: data/split.npz: split not found (DVC removed stage 'train'")
    assert "`dvc checkout train` brings back" in line
