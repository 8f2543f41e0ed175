"""Crowd votes: reading FER+'s files and turning ten votes into targets over the classes in use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotions.data import preparation, votes
from emotions.data.sources import RawImage, SourceSpec, part_roles, read_source
from emotions.errors import UserError
from tests.conftest import CLASSES, make_dataset, prepare_params, shape_image, spec, write_image

HEADER = "path,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"


def test_votes_csv_is_keyed_by_relative_path(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(
        "\ufeff"
        + HEADER
        + "Training/sad/a.jpg,8,0,0,2,0,0,0,0,0,0\nbad/row.jpg,x,1\n\n"
        + "Training/happy/b.jpg,0,9,0,0,0,0,0,0,1,0\n"
    )
    read = votes.read_votes_csv(path)
    assert sorted(read) == ["Training/happy/b.jpg", "Training/sad/a.jpg"]
    np.testing.assert_array_equal(read["Training/sad/a.jpg"], [8, 0, 0, 2, 0, 0, 0, 0, 0, 0])


def test_a_file_that_is_not_a_votes_csv_is_named(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text("emotion,pixels,Usage\n")
    with pytest.raises(
        UserError, match=r"votes.csv: not a votes CSV \(expected the header path,neutral,"
    ):
        votes.read_votes_csv(path)


def test_label_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "label.csv"
    path.write_text(
        'fer0000000.png,"(0, 0, 48, 48)",4,0,0,1,3,2,0,0,0,0\nfer0000001.png,"(0, 0, 48, '
        '48)",6,0,1\n'
    )
    rows = list(votes.read_label_csv(path))
    assert (
        rows[0][:2] == (1, "fer0000000.png") and rows[0][2] is not None and rows[0][2].sum() == 10
    )
    assert rows[1] == (2, "fer0000001.png", None)


def test_answers_map_onto_classes_through_aliases() -> None:
    aliased = spec(
        ("angry", "happy", "sad")
    )  # aliases: anger -> angry; happiness, sadness need aliases
    assert votes.answer_columns(("angry", "happy", "sad"), aliased.canonical).tolist() == [
        4,
        -1,
        -1,
    ]
    from emotions.data.sources import SourceSpec

    full = SourceSpec(
        ("angry", "happy", "sad", "neutral"),
        {"anger": "angry", "happiness": "happy", "sadness": "sad"},
        (),
        "auto",
    )
    columns = votes.answer_columns(full.classes, full.canonical)
    assert columns.tolist() == [4, 1, 3, 0]
    counts = np.array([5, 1, 0, 3, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(votes.class_votes(counts, columns), [1, 1, 3, 5])


def test_verdicts() -> None:
    columns = np.array([4, 1, 3])  # angry, happy, sad

    def verdict(counts: np.ndarray) -> str | None:
        return votes.verdict(counts, votes.class_votes(counts, columns))

    assert verdict(np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 10])) == votes.CROWD_NOT_A_FACE
    assert verdict(np.array([1, 0, 0, 0, 0, 0, 0, 0, 4, 5])) == votes.CROWD_NOT_A_FACE
    assert verdict(np.array([9, 0, 1, 0, 0, 0, 0, 0, 0, 0])) == votes.CROWD_NO_VOTE
    assert verdict(np.array([7, 0, 0, 1, 0, 0, 0, 0, 0, 2])) is None


def test_majority_and_distribution() -> None:
    counts = np.array([[1, 3, 0], [2, 0, 2]], np.float32)
    assert votes.majority(counts).tolist() == [1, 0]  # a tie goes to the class listed first
    np.testing.assert_allclose(votes.distribution(counts), [[0.25, 0.75, 0], [0.5, 0, 0.5]])


ANSWERS = ",".join(votes.FERPLUS_ANSWERS)
FULL_SPEC_ALIASES = {"anger": "angry", "happiness": "happy", "sadness": "sad"}


def ferplus_tree(root: Path) -> Path:
    """FER+'s layout in miniature: per part, images listed with ten votes (neutral, happiness,
    surprise, sadness, anger, disgust, fear, contempt, unknown, NF)."""
    rows = {
        "FER2013Train": [
            ("a.png", "0,0,0,0,9,0,0,0,1,0"),  # angry
            ("b.png", "1,8,0,0,0,0,0,0,0,1"),  # happy
            ("c.png", "2,0,0,7,0,0,0,0,0,1"),  # sad
            ("d.png", "0,0,0,0,0,0,0,0,0,10"),  # not a face
            ("e.png", "9,0,1,0,0,0,0,0,0,0"),  # no vote for angry, happy or sad
            ("f.png", "1,0,0,1,5,0,0,0,0,3"),  # angry
            ("g.png", "x"),  # a broken row
        ],
        "FER2013Valid": [("h.png", "0,6,0,0,4,0,0,0,0,0"), ("i.png", "0,0,0,5,5,0,0,0,0,0")],
        "FER2013Test": [
            ("j.png", "0,0,0,2,8,0,0,0,0,0"),
            ("k.png", "0,9,0,0,0,0,0,0,0,1"),
            ("l.png", "3,0,0,7,0,0,0,0,0,0"),
        ],
    }
    for part, items in rows.items():
        (root / part).mkdir(parents=True)
        lines = []
        for i, (name, counts) in enumerate(items):
            write_image(root / part / name, shape_image(i % 3, seed=hash((part, name)) % 1000))
            lines.append(f'{name},"(0, 0, 48, 48)",{counts}\n')
        (root / part / "label.csv").write_text("".join(lines))
    return root


def full_spec(votes_file: str | None = None) -> SourceSpec:
    return SourceSpec(("angry", "happy", "sad"), FULL_SPEC_ALIASES, (), "auto", votes_file)


def test_ferplus_layout_labels_faces_by_the_crowd_and_keeps_its_parts(tmp_path: Path) -> None:
    items = {
        Path(item.origin).name: item
        for item in read_source(ferplus_tree(tmp_path / "ferplus"), full_spec())
    }
    labels = {name[0]: item.label for name, item in items.items()}
    # i.png is a tie between sadness and anger: the class listed first in data.classes wins
    assert labels == {
        "a": "angry",
        "b": "happy",
        "c": "sad",
        "d": "",
        "e": "",
        "f": "angry",
        "g": "",
        "h": "happy",
        "i": "angry",
        "j": "angry",
        "k": "happy",
        "l": "sad",
    }
    assert (
        items["d.png"].crowd == votes.CROWD_NOT_A_FACE
        and items["e.png"].crowd == votes.CROWD_NO_VOTE
    )
    assert items["g.png"].pixels is None and "no ten vote counts" in str(items["g.png"].error)
    np.testing.assert_array_equal(items["f.png"].votes, [5, 0, 1])  # angry, happy, sad
    assert part_roles([item.part for item in items.values()]) == {
        "FER2013Train": "train",
        "FER2013Valid": "val",
        "FER2013Test": "test",
    }


def test_crowd_rejects_leave_training_and_are_counted(tmp_path: Path) -> None:
    root = ferplus_tree(tmp_path / "ferplus")
    result = preparation.prepare(
        read_source(root, full_spec()), CLASSES, prepare_params(), root.parent / "out"
    )
    prepared, rows, report = result.prepared, result.manifest, result.report
    reasons = {Path(r.path).name: r.reason for r in rows if r.status == "skipped"}
    assert reasons["d.png"] == votes.CROWD_NOT_A_FACE and reasons["e.png"] == votes.CROWD_NO_VOTE
    assert prepared.votes is not None and prepared.votes.shape == (len(prepared.labels), 3)
    removed = {step["step"]: step["removed"] for step in report["steps"][1:]}
    assert (
        removed[f"after removing {votes.CROWD_NOT_A_FACE}"] == 1
        and removed[f"after removing {votes.CROWD_NO_VOTE}"] == 1
    )


def test_a_votes_csv_beside_a_folder_tree(tmp_path: Path) -> None:
    """Single labels from the folders, votes from the CSV; a crowd reject leaves training only: a
    held-out face keeps its label (the test scores it), and a face without votes is named."""
    root = tmp_path / "faces"
    for part in ("Training", "PublicTest"):
        for index, name in enumerate(CLASSES):
            for i in range(3):
                write_image(
                    root / part / name / f"{name}{i}.png",
                    shape_image(index, seed=i + 10 * index + (100 if part == "Training" else 0)),
                )
    lines = [
        f"{part}/{name}/{name}{i}.png,{counts}\n"
        for part in ("Training", "PublicTest")
        for name, counts in (
            ("angry", "0,0,0,1,9,0,0,0,0,0"),
            ("happy", "0,10,0,0,0,0,0,0,0,0"),
            ("sad", "6,0,0,4,0,0,0,0,0,0"),
        )
        for i in range(3)
    ]
    lines[0] = "Training/angry/angry0.png,10,0,0,0,0,0,0,0,0,0\n"  # neutral only: out of training
    # not a face, but held out: kept
    lines[9] = "PublicTest/angry/angry0.png,0,0,0,0,0,0,0,0,0,10\n"
    del lines[1]  # Training/angry/angry1.png has no votes
    (root / "votes.csv").write_text(HEADER + "".join(lines))
    result = preparation.prepare(
        read_source(root, full_spec("votes.csv")), CLASSES, prepare_params(), root.parent / "out"
    )
    prepared, rows = result.prepared, result.manifest
    reasons = {r.path.split("faces/")[1]: r.reason for r in rows if r.status == "skipped"}
    assert reasons == {
        "Training/angry/angry0.png": votes.CROWD_NO_VOTE,
        "Training/angry/angry1.png": votes.NO_VOTES,
    }
    assert prepared.votes is not None and len(prepared.labels) == 16
    with pytest.raises(UserError, match=r"^data.votes: .*missing.csv not found"):
        list(read_source(root, full_spec("missing.csv")))


def test_unusable_votes_rows_are_counted_by_reason_with_their_lines(tmp_path: Path) -> None:
    """Negative counts, counts that are no numbers, all-zero rows and a path given twice are left
    out, each counted; whole numbers written as floats (a pandas export) are fine."""
    path = tmp_path / "votes.csv"
    rows = [
        "a.jpg,8.0,0,0,2,0,0,0,0,0,0",  # line 2: floats, whole: used
        "b.jpg,-1,0,0,2,0,0,0,0,0,9",
        "c.jpg,x,1",
        "d.jpg,0,0,0,0,0,0,0,0,0,0",
        "a.jpg,1,0,0,0,0,0,0,0,0,0",
        "e.jpg,2.5,0,0,0,0,0,0,0,0,0",
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n")
    unused = votes.Unused(path)
    read = votes.read_votes_csv(path, unused)
    np.testing.assert_array_equal(read["a.jpg"], [8, 0, 0, 2, 0, 0, 0, 0, 0, 0])
    assert sorted(read) == ["a.jpg"]
    assert unused.summary() == [
        f"{path}: 3 rows not used, {votes.BAD_COUNTS} (lines 3, 4, 7)",
        f"{path}: 1 rows not used, {votes.NO_VOTE} (lines 5)",
        f"{path}: 1 rows not used, {votes.TWICE} (lines 6)",
    ]


def test_votes_for_no_image_are_named_in_the_report_and_in_the_error(tmp_path: Path) -> None:
    """Paths under a prefix that matches nothing: every face is left without votes, and the
    message says why, not only that a class ended up empty."""
    root = make_dataset(tmp_path / "faces", per_class=2)
    lines = [f"elsewhere/{c}/{c}_{i}.png,0,5,0,0,5,0,0,0,0,0" for c in CLASSES for i in range(2)]
    (root / "votes.csv").write_text(HEADER + "\n".join(lines) + "\n")
    source = full_spec("votes.csv")
    with pytest.raises(UserError) as caught:
        items = read_source(root, source)
        preparation.prepare(items, CLASSES, prepare_params(), tmp_path / "out", notes=source.notes)
    message = str(caught.value)
    assert message.startswith("class 'angry': no usable image left after prepare")
    assert (
        f"{root / 'votes.csv'}: 6 rows not used, {votes.UNMATCHED} (lines 2, 3, 4, 5, 6, ...)"
        in message
    )


def test_faces_before_the_first_votes_get_rows_of_zeros(tmp_path: Path) -> None:
    """A source without votes keeps no row a face; once votes appear, the faces before have none."""
    counts = np.array([1.0, 2.0, 3.0], np.float32)
    items = [
        RawImage(
            f"{c}{i}.png", c, "", shape_image(k, seed=10 * k + i), votes=counts * i if i else None
        )
        for k, c in enumerate(CLASSES)
        for i in range(2)
    ]
    prepared = preparation.prepare(items, CLASSES, prepare_params(), tmp_path / "out").prepared
    assert prepared.votes is not None
    np.testing.assert_array_equal(
        prepared.votes, [[0, 0, 0], counts, [0, 0, 0], counts, [0, 0, 0], counts]
    )
    without = [RawImage(i.origin, i.label, "", i.pixels) for i in items]
    assert (
        preparation.prepare(without, CLASSES, prepare_params(), tmp_path / "out2").prepared.votes
        is None
    )
