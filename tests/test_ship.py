"""tools/ship.py's cards: the training section of a card it wrote is read back network by network,
so that the next network shipped beside them carries every earlier one's section over."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.ship import ensemble_section, shipped_sections

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
