"""tools/ship.py's cards: the training section of a card it wrote is read back network by network,
so that the next network shipped beside them carries every earlier one's section over; a network
that cannot join the shipped ones is refused before anything in ``pretrained/`` is written."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import yaml
from onnx import TensorProto, helper

from tools.ship import ensemble_section, shipped_sections, with_shipped

WHERE = Path("pretrained/x")


def card_with(how: str) -> str:
    return f"# x\n\n## How it was trained\n\n{how}\n## Test metrics\n\naccuracy **0.5**\n"


def run(recipe: str, seed: int = 42) -> str:
    command = f"```bash\npython -m emotions.recipes {recipe}\n```"
    return f"{command}\n\nrecipe `recipes/{recipe}.yaml`.\n\nSeed {seed}, float32 arithmetic.\n"


def test_a_single_networks_section_is_one_network() -> None:
    assert shipped_sections(card_with(run("best")), WHERE) == {"`best`, seed 42": run("best")}


def test_an_ensembles_section_reads_back_network_by_network() -> None:
    sections = {
        "`best-crops`, seed 43": run("best-crops", seed=43),
        "`best-crops`, seed 42": run("best-crops"),
        "`best`, seed 42": run("best"),
    }
    how = ensemble_section(sections, [0.84, 0.83, 0.82, 0.85], "abc1234")
    assert how.startswith("3 networks in one file")
    assert (
        "`best-crops`, seed 43: 0.8400; `best-crops`, seed 42: 0.8300; `best`, seed 42: 0.8200; "
        "the ensemble: 0.8500" in " ".join(how.split())
    )
    read = shipped_sections(card_with(how), WHERE)
    assert list(read) == list(sections)
    assert [text.strip() for text in read.values()] == [text.strip() for text in sections.values()]


def test_a_card_that_cannot_be_read_is_named() -> None:
    with pytest.raises(SystemExit, match="pretrained/x's card has no training section"):
        shipped_sections("# x\n\n## Test metrics\n", WHERE)
    with pytest.raises(SystemExit, match="a training section that names no recipe or seed"):
        shipped_sections(card_with("trained somehow, Seed 42\n"), WHERE)


def shipped_pair(
    tmp_path: Path, card_runs: dict[str, str], data: str = "abc.dir"
) -> tuple[Path, Path]:
    """A workspace whose lock names the data ``data``, and a target holding one network (a softmax
    alone) under a card of ``card_runs`` that names the data ``abc.dir``."""
    workspace, target = tmp_path / "ws", tmp_path / "pretrained" / "x"
    workspace.mkdir()
    target.mkdir(parents=True)
    lock = {"stages": {"prepare": {"deps": [{"path": "faces", "md5": data, "nfiles": 3}]}}}
    (workspace / "dvc.lock").write_text(yaml.safe_dump(lock))
    (workspace / "params.yaml").write_text(yaml.safe_dump({"train": {"seed": 42}}))
    how = ensemble_section(card_runs, [0.5] * (len(card_runs) + 1), "abc1234")
    text = card_with(how).replace("# x\n", "# x\n\nData: abc.dir (3 files)\n")
    (target / "MODEL_CARD.md").write_text(text)
    node = helper.make_node("Softmax", ["faces"], ["probabilities"], axis=-1)
    graph = helper.make_graph(
        [node],
        "one",
        [helper.make_tensor_value_info("faces", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
    )
    onnx.save(helper.make_model(graph), str(target / "model.onnx"))
    return workspace, target


def unchanged(target: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(target.iterdir())}


@pytest.mark.parametrize(
    ("recipe", "refusal"),
    [
        ("best-crops", "already holds `best-crops`, seed 42"),  # the card's second network
        ("seven", "card describes 2 networks, its model 1"),  # the model is one network
    ],
)
def test_a_network_that_cannot_join_is_refused_before_anything_is_written(
    tmp_path: Path, recipe: str, refusal: str
) -> None:
    runs = {"`best`, seed 42": run("best"), "`best-crops`, seed 42": run("best-crops")}
    workspace, target = shipped_pair(tmp_path, runs)
    before = unchanged(target)
    with pytest.raises(SystemExit, match=refusal):
        with_shipped(target, workspace, (workspace, recipe, "python ...", "log"))
    assert unchanged(target) == before


def test_a_card_of_other_data_is_refused(tmp_path: Path) -> None:
    workspace, target = shipped_pair(tmp_path, {"`best`, seed 42": run("best")}, data="def.dir")
    with pytest.raises(SystemExit, match="card names other data than"):
        with_shipped(target, workspace, (workspace, "seven", "python ...", "log"))
