"""End to end: real DVC in a temporary git repository holding a copy of the project with tiny
settings."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
import yaml

from tests.conftest import (
    ROOT,
    changed,
    dvc,
    experiments,
    make_dataset,
    run,
    shape_image,
    write_image,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow

ALL_STAGES = {"sample", "prepare", "split", "train", "evaluate", "predict"}
TINY = {
    "sample": {"per_class": 20, "new_per_class": 1, "image_size": 32},
    "prepare": {"image_size": 24},
    "model": {
        "reference.conv1_filters": 8,
        "reference.conv2_filters": 16,
        "reference.dense_units": 16,
    },
    "train": {"epochs": 3, "batch_size": 16},
}


def ran(output: str) -> set[str]:
    """The stages a `dvc repro` or `dvc exp run` actually executed."""
    return set(re.findall(r"Running stage '([^']+)'", output))


def would_run(repo: Path) -> set[str]:
    """The stages `dvc repro` would run now, found without running them: a dry run lists the stages
    whose code, data or params changed and, with --force-downstream, every stage that depends on
    them."""
    return ran(dvc(repo, "repro", "--dry", "--force-downstream"))


def edit_params(repo: Path, **changes: object) -> None:
    """Set dotted keys in params.yaml, e.g. edit_params(repo, **{"train.epochs": 4})."""
    path = repo / "params.yaml"
    path.write_text(
        yaml.safe_dump(changed(yaml.safe_load(path.read_text()), changes), sort_keys=False)
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project copied into a new git repo, tiny params, one full `dvc repro` committed."""
    repo = tmp_path_factory.mktemp("pipeline")
    for name in ("stages", "emotions", "pretrained"):  # pretrained/: a dep of train (teachers)
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", "params.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(ROOT / name, repo / name)
    run(repo, "git", "init", "-q")
    dvc(repo, "init", "-q")
    shutil.copy(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    edit_params(repo, **{f"{s}.{k}": v for s, keys in TINY.items() for k, v in keys.items()})
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "project")
    first = dvc(repo, "repro")
    assert ran(first) == ALL_STAGES, first
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "baseline")
    return repo


@pytest.fixture
def clean(repo: Path) -> Iterator[Path]:
    """Each test starts from the committed baseline, whatever the last one changed."""
    yield repo
    run(repo, "git", "reset", "-q", "--hard")
    run(repo, "git", "clean", "-qfd")
    dvc(repo, "checkout", "--force", "-q")


def test_dvc_config_turns_off_phoning_home() -> None:
    config = (ROOT / ".dvc" / "config").read_text()
    assert re.search(r"analytics\s*=\s*false", config) and re.search(
        r"check_update\s*=\s*false", config
    )


def test_second_repro_runs_nothing(clean: Path) -> None:
    output = dvc(clean, "repro")
    assert ran(output) == set(), output
    assert dvc(clean, "status").strip().endswith("Data and pipelines are up to date.")


def test_metrics_show_lists_accuracy_macro_f1_and_per_class(clean: Path) -> None:
    metrics = json.loads(dvc(clean, "metrics", "show", "--json"))
    report = next(iter(metrics.values()))["data"]["reports/metrics.json"]["data"]
    assert report == json.loads(
        (clean / "reports" / "metrics.json").read_text()
    )  # what evaluate wrote
    for name in ("angry", "happy", "sad"):
        assert set(report["per_class"][name]) >= {"precision", "recall", "f1"}


def test_extra_test_sets_are_scored_by_the_pipeline_and_listed_in_metrics(clean: Path) -> None:
    """None by default: no evaluate_set instance runs (see the fixture) and nothing changes; one
    set: scored alone."""
    before = json.loads(dvc(clean, "metrics", "show", "--json"))
    assert not any(path.startswith("reports/sets/") for path in next(iter(before.values()))["data"])
    assert all(entry["error"] is None for entry in json.loads(dvc(clean, "exp", "show", "--json")))
    make_dataset(clean / "data" / "extra faces", per_class=4)
    edit_params(clean, **{"evaluate.sets": {"extra faces": "data/extra faces"}})
    assert ran(dvc(clean, "repro")) == {"evaluate_set@extra faces"}
    metrics = json.loads(dvc(clean, "metrics", "show", "--json"))
    extra = next(iter(metrics.values()))["data"]["reports/sets/extra faces.json"]["data"]
    assert (
        extra == json.loads((clean / "reports" / "sets" / "extra faces.json").read_text())
        and extra["test_images"] == 12
    )
    assert set(extra["per_class"]) == {"angry", "happy", "sad"}


def test_train_param_reruns_train_evaluate_predict_only(clean: Path) -> None:
    edit_params(clean, **{"train.epochs": 2})
    assert would_run(clean) == {"train", "evaluate", "predict"}


def test_split_param_does_not_rerun_prepare(clean: Path) -> None:
    edit_params(clean, **{"split.seed": 7})
    assert would_run(clean) == {"split", "train", "evaluate", "predict"}


def test_evaluate_code_change_reruns_evaluate_alone(clean: Path) -> None:
    with (clean / "stages" / "evaluate.py").open("a") as f:
        f.write("\n# a change to evaluate's code only\n")
    assert would_run(clean) == {"evaluate"}


def test_own_data_changes_rerun_prepare_onwards_and_nothing_before(clean: Path) -> None:
    own = clean / "data" / "own"
    shutil.copytree(clean / "data" / "sample" / "faces", own)
    edit_params(clean, **{"data.source": "data/own"})
    # the same faces under another path train the same model, byte for byte: predict has nothing to
    # redo
    assert ran(dvc(clean, "repro")) == {"prepare", "split", "train", "evaluate"}
    downstream = {"prepare", "split", "train", "evaluate", "predict"}
    added = write_image(own / "happy" / "extra.png", shape_image(1, size=32))  # add an image
    assert would_run(clean) == downstream
    added.unlink()
    removed = own / "sad" / "sad_0000.png"
    kept = removed.read_bytes()
    removed.unlink()  # remove one
    assert would_run(clean) == downstream
    removed.write_bytes(kept)
    changed_image = own / "angry" / "angry_0000.png"
    kept = changed_image.read_bytes()
    write_image(changed_image, shape_image(0, size=32))  # change one
    assert would_run(clean) == downstream
    changed_image.write_bytes(kept)
    assert (
        ran(dvc(clean, "repro")) == set()
    )  # each change undone, and the dry runs left nothing to do


def test_experiment_with_set_param_shows_in_metrics_diff(clean: Path) -> None:
    output = dvc(clean, "exp", "run", "-S", "train.epochs=5")
    assert ran(output) == {"train", "evaluate", "predict"}
    diff = json.loads(dvc(clean, "metrics", "diff", "--json"))
    assert "dvclive/train/metrics.json" in diff, diff
    assert "train.loss" in diff["dvclive/train/metrics.json"]
    [experiment] = [
        data
        for data in experiments(clean).values()
        if data["params"]["params.yaml"]["data"]["train"]["epochs"] == 5
    ]
    assert experiment["metrics"]["reports/metrics.json"]["data"] == json.loads(
        (clean / "reports" / "metrics.json").read_text()
    )


def fer_csv(path: Path, per_class: int = 12) -> Path:
    """A small FER-2013-format CSV: three used classes, one unused, Training and PublicTest rows."""
    lines = ["emotion,pixels,Usage"]
    for code, kind in ((0, 0), (3, 1), (4, 2), (6, 0)):
        for i in range(per_class):
            pixels = cv2.resize(
                shape_image(kind, seed=100 * code + i), (48, 48), interpolation=cv2.INTER_NEAREST
            )
            lines.append(
                f"{code},{' '.join(map(str, pixels.ravel()))},"
                + ("Training" if i % 3 else "PublicTest")
            )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_one_switch_runs_the_pipeline_on_a_fer2013_csv(clean: Path) -> None:
    fer_csv(clean / "data" / "fer.csv")
    output = dvc(clean, "exp", "run", "-S", "data.source=data/fer.csv")
    assert ran(output) == {"prepare", "split", "train", "evaluate", "predict"}
    assert "split (the source's own parts): train" in output
    report = json.loads((clean / "data" / "prepared" / "report.json").read_text())
    assert report["parts"] == {"PublicTest": "test", "Training": "train"}
    assert report["final_per_part"]["test"] == {"angry": 4, "happy": 4, "sad": 4}
    assert json.loads((clean / "reports" / "metrics.json").read_text())["test_images"] == 12


def test_push_to_a_remote_and_pull_into_a_second_clone(clean: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    dvc(clean, "remote", "add", "-d", "local", str(remote))
    run(clean, "git", "commit", "-qam", "add a remote")
    dvc(clean, "push")
    second = tmp_path / "second"
    run(tmp_path, "git", "clone", "-q", str(clean), str(second))
    dvc(second, "pull")
    assert dvc(second, "status").strip().endswith("Data and pipelines are up to date.")
    assert ran(dvc(second, "repro")) == set()
    assert (second / "models" / "model.keras").is_file()
    run(clean, "git", "reset", "-q", "--hard", "HEAD~1")


def unloaded(output: str) -> set[str]:
    """The revisions DVC warns it could not load metrics or plots for."""
    found = re.search(r"failed to load some \w+ for following revisions: '([^']*)'", output)
    return set(found.group(1).split(", ")) if found else set()


def test_a_fresh_clone_without_a_remote_diffs_and_plots_the_committed_metrics(
    clean: Path, tmp_path: Path
) -> None:
    """Metrics and plot files are git-tracked (cache: false), so no DVC cache or remote is needed.
    HEAD~1, the project before its first `dvc repro`, has no metrics to load: only it may be
    named."""
    fresh = tmp_path / "fresh"
    run(tmp_path, "git", "clone", "-q", str(clean), str(fresh))
    text = dvc(fresh, "metrics", "diff", "HEAD~1", "--json")
    assert unloaded(text) <= {"HEAD~1"}, text
    diff = json.loads(text[text.index("{") :])
    committed = json.loads((clean / "reports" / "metrics.json").read_text())
    assert diff["reports/metrics.json"]["accuracy"]["new"] == committed["accuracy"]
    assert "train.loss" in diff["dvclive/train/metrics.json"]
    plots = dvc(fresh, "plots", "diff", "HEAD~1", "-o", "plots")
    assert unloaded(plots) <= {"HEAD~1"} and (fresh / "plots" / "index.html").is_file(), plots
    shown = json.loads(dvc(fresh, "exp", "show", "--json", "--no-fetch"))
    assert (
        shown[0]["data"]["metrics"]["reports/metrics.json"]["data"]["accuracy"]
        == committed["accuracy"]
    )


def stop_queue_workers(repo: Path) -> None:
    """Kill the repo's DVC queue workers still alive.

    With two workers, DVC 3.67's queue can leave one idling forever once the queue is empty
    (the other takes its shutdown message) where `dvc queue stop` no longer reaches it.
    """
    for info in (repo / ".dvc" / "tmp" / "exps" / "celery").glob("dvc-exp-worker-*.json"):
        pid = json.loads(info.read_text())["pid"]
        try:
            if b"queue-worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGTERM)
        except (FileNotFoundError, ProcessLookupError):
            pass


def test_queued_experiments_run_one_after_another_or_side_by_side_and_compare(clean: Path) -> None:
    try:
        dvc(clean, "exp", "run", "--queue", "-S", "train.learning_rate=0.002")
        dvc(clean, "exp", "run", "--run-all")
        for rate in ("0.003", "0.005"):
            dvc(clean, "exp", "run", "--queue", "-S", f"train.learning_rate={rate}")
        dvc(clean, "exp", "run", "--run-all", "-j", "2")
    finally:
        stop_queue_workers(clean)
    test_images = json.loads((clean / "reports" / "metrics.json").read_text())["test_images"]
    # each queued rate's last training loss: a run that ignored its -S would repeat another's
    losses = {}
    for data in experiments(clean).values():
        rate = data["params"]["params.yaml"]["data"]["train"]["learning_rate"]
        if rate in (0.002, 0.003, 0.005):
            assert (
                data["metrics"]["reports/metrics.json"]["data"]["test_images"] == test_images
            )  # scored on the same test part
            losses[rate] = data["metrics"]["dvclive/train/metrics.json"]["data"]["train"]["loss"]
    assert sorted(losses) == [0.002, 0.003, 0.005] and len(set(losses.values())) == 3, losses
    names = list(experiments(clean))
    dvc(clean, "plots", "diff", *names[:3], "-o", "compare")
    assert (clean / "compare" / "index.html").is_file()


def test_forced_repro_twice_gives_identical_metrics(clean: Path) -> None:
    """The fixture's run is the first; a forced rerun of every stage is the second."""
    files = ("reports/metrics.json", "dvclive/train/metrics.json", "reports/predictions.csv")
    runs = [{name: (clean / name).read_text() for name in files}]
    assert ran(dvc(clean, "repro", "--force")) == ALL_STAGES
    runs.append({name: (clean / name).read_text() for name in files})
    assert runs[0] == runs[1]
