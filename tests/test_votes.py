"""Crowd votes: reading FER+'s files and turning ten votes into targets over the classes in use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotions import votes
from emotions.errors import UserError
from tests.conftest import spec

HEADER = "path,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"


def test_votes_csv_is_keyed_by_relative_path(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text("\ufeff" + HEADER + "Training/sad/a.jpg,8,0,0,2,0,0,0,0,0,0\nbad/row.jpg,x,1\n\nTraining/happy/b.jpg,0,9,0,0,0,0,0,0,1,0\n")
    read = votes.read_votes_csv(path)
    assert sorted(read) == ["Training/happy/b.jpg", "Training/sad/a.jpg"]
    np.testing.assert_array_equal(read["Training/sad/a.jpg"], [8, 0, 0, 2, 0, 0, 0, 0, 0, 0])


def test_a_file_that_is_not_a_votes_csv_is_named(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text("emotion,pixels,Usage\n")
    with pytest.raises(UserError, match=r"votes.csv: not a votes CSV \(expected the header path,neutral,"):
        votes.read_votes_csv(path)


def test_label_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "label.csv"
    path.write_text('fer0000000.png,"(0, 0, 48, 48)",4,0,0,1,3,2,0,0,0,0\nfer0000001.png,"(0, 0, 48, 48)",6,0,1\n')
    rows = list(votes.read_label_csv(path))
    assert rows[0][0] == "fer0000000.png" and rows[0][1] is not None and rows[0][1].sum() == 10
    assert rows[1] == ("fer0000001.png", None)


def test_answers_map_onto_classes_through_aliases() -> None:
    aliased = spec(("angry", "happy", "sad"))  # aliases: anger -> angry; happiness, sadness need aliases
    assert votes.answer_columns(("angry", "happy", "sad"), aliased.canonical).tolist() == [4, -1, -1]
    from emotions.sources import SourceSpec

    full = SourceSpec(("angry", "happy", "sad", "neutral"), {"anger": "angry", "happiness": "happy", "sadness": "sad"}, (), "auto")
    columns = votes.answer_columns(full.classes, full.canonical)
    assert columns.tolist() == [4, 1, 3, 0]
    counts = np.array([5, 1, 0, 3, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(votes.class_votes(counts, columns), [1, 1, 3, 5])


def test_verdicts() -> None:
    columns = np.array([4, 1, 3])  # angry, happy, sad
    assert votes.verdict(np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 10]), columns) == votes.CROWD_NOT_A_FACE
    assert votes.verdict(np.array([1, 0, 0, 0, 0, 0, 0, 0, 4, 5]), columns) == votes.CROWD_NOT_A_FACE
    assert votes.verdict(np.array([9, 0, 1, 0, 0, 0, 0, 0, 0, 0]), columns) == votes.CROWD_NO_VOTE
    assert votes.verdict(np.array([7, 0, 0, 1, 0, 0, 0, 0, 0, 2]), columns) is None


def test_majority_and_distribution() -> None:
    counts = np.array([[1, 3, 0], [2, 0, 2]], np.float32)
    assert votes.majority(counts).tolist() == [1, 0]  # a tie goes to the class listed first
    np.testing.assert_allclose(votes.distribution(counts), [[0.25, 0.75, 0], [0.5, 0, 0.5]])
