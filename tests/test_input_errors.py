"""Stage-level input cases as users meet them: odd data files, odd paths, odd params. Each gives one
line naming the file or key, or is listed in the manifest while the rest goes on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import (
    ENV,
    ROOT,
    TINY_PARAMS,
    dvc,
    make_dataset,
    plain_png,
    run,
    shape_image,
    stage,
    with_params,
    write_image,
    write_params,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


def test_prepare_lists_a_broken_link_and_goes_on(project_dir: Path) -> None:
    raw = make_dataset(project_dir / "data" / "raw")
    (raw / "sad" / "gone.png").symlink_to("/nonexistent/face.png")
    result = stage("prepare", "--source", "data/raw")
    assert result.returncode == 0, result.stderr
    assert (
        "warning: skipped data/raw/sad/gone.png: unreadable: broken link (to /nonexistent/face.png)"
        in result.stderr
    )
    manifest = (project_dir / "data" / "prepared" / "manifest.csv").read_text()
    assert (
        "data/raw/sad/gone.png,sad,,skipped,unreadable: broken link (to /nonexistent/face.png)\n"
        in manifest
    )


def test_dvc_runs_data_folders_with_shell_characters_and_a_dvcignored_broken_link(
    tmp_path: Path,
) -> None:
    """The real dvc.yaml under real DVC: data.source and data.new with a space, quotes, `$` and a
    backtick reach the stages whole (they read them from params.yaml; no shell sees them), and a
    broken link, which stops DVC itself, works once listed in .dvcignore."""
    repo = tmp_path / "repo"
    for name in ("stages", "emotions", "pretrained"):  # pretrained/: a dep of train (teachers)
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(ROOT / name, repo / name)
    folder = 'it\'s "my" $HOME `data`'
    write_params(
        repo,
        {
            **TINY_PARAMS,
            "data": {**TINY_PARAMS["data"], "source": f"{folder}/raw", "new": f"{folder}/new"},
        },
    )
    raw = make_dataset(repo / folder / "raw")
    write_image(repo / folder / "new" / "a.png", shape_image(0))
    (raw / "sad" / "gone.png").symlink_to("/nonexistent/face.png")
    run(repo, "git", "init", "-q")
    dvc(repo, "init", "-q")
    shutil.copy(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    failed = subprocess.run(
        [sys.executable, "-m", "dvc", "repro", "prepare"],
        cwd=repo,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0 and "No such file or directory" in failed.stdout + failed.stderr
    with (repo / ".dvcignore").open("a") as ignore:
        ignore.write("gone.png\n")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "project")  # dvclive, in train, needs a commit
    dvc(repo, "repro")
    manifest = (repo / "data" / "prepared" / "manifest.csv").read_text()
    assert (
        f'"{folder.replace(chr(34), chr(34) * 2)}/raw/sad/gone.png",sad,,skipped,unreadable: '
        "broken link" in manifest
    )
    assert manifest.count(",used,") == 18
    [row] = (repo / "reports" / "predictions.csv").read_text().splitlines()[1:]
    assert row.startswith(f'"{folder.replace(chr(34), chr(34) * 2)}/new/a.png",')


def test_prepare_lists_an_image_over_the_pixel_limit(project_dir: Path) -> None:
    raw = make_dataset(project_dir / "data" / "raw")
    plain_png(raw / "happy" / "poster.png", 12000, 9000)
    result = stage("prepare", "--source", "data/raw")
    assert result.returncode == 0, result.stderr
    manifest = (project_dir / "data" / "prepared" / "manifest.csv").read_text()
    assert (
        "happy/poster.png,happy,,skipped,unreadable: too large (12000x9000 pixels; the limit is "
        "100 megapixels)\n" in manifest
    )


def test_prepare_lists_a_file_name_that_is_not_utf8(project_dir: Path) -> None:
    raw = make_dataset(project_dir / "data" / "raw")
    (raw / "happy" / os.fsdecode(b"caf\xe9.png")).write_bytes(
        (raw / "sad" / "sad_0.png").read_bytes()
    )
    result = stage("prepare", "--source", "data/raw")
    assert result.returncode == 0, result.stderr
    manifest = (project_dir / "data" / "prepared" / "manifest.csv").read_text(encoding="utf-8")
    assert "data/raw/happy/caf\\xe9.png,happy,,skipped,conflicting labels\n" in manifest


def test_prepare_reads_a_csv_with_a_bom_bad_rows_and_trailing_blank_lines(
    project_dir: Path,
) -> None:
    rows = [
        f"{e},{' '.join([str(30 + 50 * k + e)] * 2300 + [str(k)] * 4)},{part}"
        for k, part in enumerate(("Training", "PrivateTest"))
        for e in (0, 3, 4)
    ]
    text = "\n".join(
        [
            "emotion,pixels,Usage",
            *rows[:3],
            "3,1 2 \xff,Training",
            "7," + rows[0][2:],
            *rows[3:],
            "",
            "",
            "",
        ]
    )
    (project_dir / "fer.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))
    with_params(project_dir, **{"prepare.min_std": 0})  # the rows are almost uniform
    result = stage("prepare", "--source", "fer.csv")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: skipped fer.csv:5: unreadable: not UTF-8 text",
        "warning: skipped fer.csv:6: unreadable: emotion code 7 is not in data.csv_emotions (0 to "
        "6)",
    ]
    assert "8 read" in result.stdout and "6 images" in result.stdout
