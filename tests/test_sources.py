from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from emotions.data import sources
from emotions.data.sources import SourceSpec, part_roles, read_source, visible_files
from emotions.errors import UserError
from tests.conftest import CLASSES, ROOT, make_dataset, spec

SHARED_CSV = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013-sample.csv"


def write_csv(
    path: Path, rows: list[tuple[int, str, str]], header: str = "emotion,pixels,Usage"
) -> Path:
    lines = [header] + [f'{e},"{p}",{u}' if "," in p else f"{e},{p},{u}" for e, p, u in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def pixels(value: int) -> str:
    return " ".join([str(value)] * 48 * 47 + [str((value + i) % 256) for i in range(48)])


def test_flat_folders_have_no_parts(raw_dataset: Path) -> None:
    items = list(read_source(raw_dataset, spec()))
    assert len(items) == 18 and {i.part for i in items} == {""}
    assert [i.label for i in items[:1]] == ["angry"]


def test_folder_names_match_in_any_case_and_through_aliases(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "raw", classes=("Anger", "HAPPY", "sad"), per_class=2)
    labels = [i.label for i in read_source(root, spec())]
    assert labels == ["angry"] * 2 + ["happy"] * 2 + ["sad"] * 2


def test_part_folders_are_read_with_their_names(tmp_path: Path) -> None:
    for part in ("Training", "PublicTest", "PrivateTest"):
        make_dataset(tmp_path / "fer" / part, per_class=2)
    (tmp_path / "fer" / "Training" / "disgust").mkdir()  # classes not asked for are ignored
    items = list(read_source(tmp_path / "fer", spec()))
    assert sorted({i.part for i in items}) == ["PrivateTest", "PublicTest", "Training"]
    assert len(items) == 18


@pytest.mark.parametrize(
    ("parts", "roles"),
    [
        ([""], {"": ""}),
        (["train", "test"], {"train": "train", "test": "test"}),
        (["Training", "PublicTest"], {"Training": "train", "PublicTest": "test"}),
        (
            ["Training", "PublicTest", "PrivateTest"],
            {"Training": "train", "PublicTest": "val", "PrivateTest": "test"},
        ),
        (["train", "val", "test"], {"train": "train", "val": "val", "test": "test"}),
    ],
)
def test_part_roles_follow_the_fer_protocol(parts: list[str], roles: dict[str, str]) -> None:
    assert part_roles(parts * 2) == roles


@pytest.mark.parametrize(
    "parts", [["a", "b"], ["train", "x", "y", "z"], ["train", "test", "holdout"]]
)
def test_unclear_parts_are_an_error(parts: list[str]) -> None:
    with pytest.raises(UserError, match="data.source: cannot tell"):
        part_roles(parts)


def test_links_that_lead_nowhere_or_to_folders_are_listed(raw_dataset: Path) -> None:
    (raw_dataset / "sad" / "gone.png").symlink_to("/nonexistent/face.png")
    (raw_dataset / "sad" / "self.png").symlink_to("self.png")  # a loop
    (raw_dataset / "happy" / "more").symlink_to(raw_dataset / "sad")
    (raw_dataset / "angry" / "alias.png").symlink_to(raw_dataset / "angry" / "angry_0.png")
    bad = {Path(i.origin).name: i.error for i in read_source(raw_dataset, spec()) if i.error}
    assert bad == {
        "gone.png": "broken link (to /nonexistent/face.png)",
        "self.png": "broken link (to self.png)",
        "more": "a link to a folder (not followed)",
    }


def test_missing_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        UserError, match=r"nowhere: raw data not found \(set data.source in params.yaml\)"
    ):
        list(read_source(tmp_path / "nowhere", spec()))


def test_missing_class_folder_is_named(raw_dataset: Path) -> None:
    with pytest.raises(UserError, match=r"raw: no folder for class 'neutral' of data.classes"):
        list(read_source(raw_dataset, spec((*CLASSES, "neutral"))))


def test_no_class_folder_at_all_lists_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "raw" / "cats").mkdir(parents=True)
    with pytest.raises(
        UserError,
        match=r"raw: no class folders for data.classes \['angry', 'happy', 'sad'\] \(sub-folders "
        r"found: cats\)",
    ):
        list(read_source(tmp_path / "raw", spec()))


def test_empty_class_folder_is_named(raw_dataset: Path) -> None:
    shutil.rmtree(raw_dataset / "sad")
    (raw_dataset / "sad").mkdir()
    with pytest.raises(UserError, match=r"sad: class folder 'sad' is empty"):
        list(read_source(raw_dataset, spec()))


def test_csv_is_read_with_codes_parts_and_bad_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "fer.csv",
        [
            (0, pixels(10), "Training"),
            (1, pixels(20), "Training"),  # disgust: not a class we use
            (3, pixels(30), "PublicTest"),
            (4, pixels(40), "PrivateTest"),
            (4, "1 2 3", "Training"),
            (3, "1 2 x", "Training"),
        ],
    )
    items = list(read_source(path, spec()))
    assert [(i.label, i.part, i.error) for i in items] == [
        ("angry", "Training", None),
        ("happy", "PublicTest", None),
        ("sad", "PrivateTest", None),
        ("sad", "Training", "3 pixels, not 48x48"),
        ("happy", "Training", "pixels are not 8-bit numbers"),
    ]
    assert items[0].pixels.shape == (48, 48) and items[0].pixels.dtype == np.uint8
    assert items[3].origin == f"{path}:6"


def test_csv_bad_rows_are_listed_with_their_line_and_never_stop_the_rest(tmp_path: Path) -> None:
    good = [f"{e},{pixels(e)},Training".encode() for e in (0, 3, 4)]
    lines = [
        b"\xef\xbb\xbfemotion,pixels,Usage",  # a byte-order mark, as spreadsheet exports write
        good[0],
        b"3,\xff\xfe\x00 stray bytes,Training",
        b"happy," + pixels(3).encode() + b",Training",
        b"",  # a blank line between rows
        b"4," + pixels(4).encode(),  # the Usage field is missing
        b"9," + pixels(9).encode() + b",Training",
        b"-1," + pixels(9).encode() + b",Training",
        good[1],
        b'3,"' + b"1 " * 100_000 + b'",Training',  # one giant field
        good[2],
        b"",
        b"",  # blank lines at the end
    ]
    path = tmp_path / "fer.csv"
    path.write_bytes(b"\n".join(lines))
    items = list(read_source(path, spec()))
    assert [(i.origin.rsplit(":", 1)[1], i.label, i.part, i.error) for i in items] == [
        ("2", "angry", "Training", None),
        ("3", "", "", "not UTF-8 text"),
        ("4", "", "Training", "emotion 'happy' is not a number"),
        ("6", "", "", "2 fields, not 3 (emotion, pixels, usage)"),
        ("7", "", "Training", "emotion code 9 is not in data.csv_emotions (0 to 6)"),
        ("8", "", "Training", "emotion code -1 is not in data.csv_emotions (0 to 6)"),
        ("9", "happy", "Training", None),
        ("10", "", "", "not a CSV row (field larger than field limit (131072))"),
        ("11", "sad", "Training", None),
    ]


def test_csv_emotion_names_match_classes_in_any_case(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fer.csv", [(e, pixels(e), "Training") for e in (0, 3, 4)])
    names = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
    items = list(read_source(path, SourceSpec(CLASSES, {}, names, "auto")))
    assert [i.label for i in items] == list(CLASSES)


def test_aliases_onto_capitalised_class_names(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "raw", classes=("wut", "Happy", "Sad"), per_class=1)
    items = list(
        read_source(
            root, SourceSpec(("Angry", "Happy", "Sad"), {"wut": "Angry"}, ("angry",), "auto")
        )
    )
    assert [i.label for i in items] == ["Angry", "Happy", "Sad"]


def test_csv_missing_a_class_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fer.csv", [(0, pixels(1), "Training"), (3, pixels(2), "Training")])
    with pytest.raises(UserError, match=r"fer.csv: no rows for class 'sad' of data.classes"):
        list(read_source(path, spec()))


def test_csv_with_the_wrong_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match=r"other.csv: not a FER-2013 CSV"):
        list(read_source(path, spec()))


def test_format_param_must_match_the_source(raw_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"data.format is 'csv' but this is not a csv source"):
        list(read_source(raw_dataset, spec(fmt="csv")))
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(
        UserError,
        match=r"x.txt: data.source must be a folder of class folders, a FER-2013 .csv file or",
    ):
        list(read_source(tmp_path / "x.txt", spec()))


@pytest.mark.skipif(not SHARED_CSV.exists(), reason="../shared FER-2013 sample CSV not present")
def test_shared_fer2013_sample_csv() -> None:
    items = list(read_source(SHARED_CSV, spec()))
    assert len(items) == 600 and all(i.error is None for i in items)
    assert {(i.label, i.part) for i in items} == {
        (c, p) for c in CLASSES for p in ("Training", "PublicTest")
    }


def test_a_folder_is_listed_sorted_across_chunks_of_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names packed a few at a time, of every length (none cut to the shortest), sub-folders in
    their place, hidden ones left out."""
    monkeypatch.setattr(sources, "NAMES_CHUNK", 3)
    names = ["b.png", "a-much-longer-name.png", "c", "é.png", "aa.png", "z.png", "m.jpg"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "inner.png").write_bytes(b"x")
    (tmp_path / ".hidden.png").write_bytes(b"x")
    listed = [p.relative_to(tmp_path).as_posix() for p in visible_files(tmp_path)]
    assert listed == sorted([*names, "k/inner.png"], key=lambda n: n.encode())
    assert list(visible_files(tmp_path / "k")) == [tmp_path / "k" / "inner.png"]
