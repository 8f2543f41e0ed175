"""tools/ship.py's cards: the training section of a card it wrote is read back network by network,
so that the next network shipped beside them carries every earlier one's section over."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.ship import ensemble_section, shipped_sections

WHERE = Path("pretrained/x")


def card_with(how: str) -> str:
    return f"# x\n\n## How it was trained\n\n{how}\n## Test metrics\n\naccuracy **0.5**\n"


def run(recipe: str) -> str:
    command = f"```bash\npython -m emotions.recipes {recipe}\n```"
    return f"{command}\n\nrecipe `recipes/{recipe}.yaml`, seed 42.\n"


def test_a_single_networks_section_is_one_network() -> None:
    assert shipped_sections(card_with(run("best")), WHERE) == {"best": run("best")}


def test_an_ensembles_section_reads_back_network_by_network() -> None:
    sections = {
        "seven-crops": run("seven-crops"),
        "seven-long": run("seven-long"),
        "best-seven": run("best-seven"),
    }
    how = ensemble_section(sections, [0.68, 0.67, 0.66, 0.70], "abc1234")
    assert how.startswith("3 networks in one file")
    assert (
        "`seven-crops` 0.6800, `seven-long` 0.6700, `best-seven` 0.6600; the ensemble 0.7000"
        in " ".join(how.split())
    )
    read = shipped_sections(card_with(how), WHERE)
    assert list(read) == list(sections)
    assert {k: v.strip() for k, v in read.items()} == {k: v.strip() for k, v in sections.items()}


def test_a_card_that_cannot_be_read_is_named() -> None:
    with pytest.raises(SystemExit, match="pretrained/x's card has no training section"):
        shipped_sections("# x\n\n## Test metrics\n", WHERE)
    with pytest.raises(SystemExit, match="a training section that names no recipe"):
        shipped_sections(card_with("trained somehow\n"), WHERE)
