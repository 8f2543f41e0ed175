"""Each platform gets one TensorFlow build, at the same version and beside the same pins, and the
GPU file differs from requirements.txt only in that build. Offline: that every pin has wheels on
each platform is checked with pip by .ci/check_requirements.py, which .ci/run runs."""

from __future__ import annotations

import importlib.util

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tests.conftest import ROOT


def _platforms() -> dict[str, tuple[list[str], dict[str, str]]]:
    """The CI check's platforms and their marker values, so both read the same table."""
    spec = importlib.util.spec_from_file_location(
        "check_requirements", ROOT / ".ci" / "check_requirements.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PLATFORMS


PLATFORMS = _platforms()


def selected(name: str, platform: str) -> dict[str, Requirement]:
    """The requirements of file `name` whose markers hold on `platform`, by project name."""
    environment = {**default_environment(), **PLATFORMS[platform][1]}
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(environment):
            found[req.name] = req
    return found


def pins(requirements: dict[str, Requirement]) -> dict[str, str]:
    """Project name to version specifier, the two TensorFlow builds under one name."""
    return {
        ("tensorflow" if n == "tensorflow-cpu" else n): str(r.specifier)
        for n, r in requirements.items()
    }


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_one_tensorflow_build_per_platform(platform: str) -> None:
    builds = {"tensorflow", "tensorflow-cpu"} & set(selected("requirements.txt", platform))
    # tensorflow-cpu has wheels for Linux and Windows on x86-64 only; this machine tests it there
    assert builds == {
        "tensorflow-cpu" if platform in ("linux-x86_64", "windows-x86_64") else "tensorflow"
    }


def test_every_platform_gets_the_same_pins() -> None:
    reference = pins(selected("requirements.txt", "linux-x86_64"))
    for platform in PLATFORMS:
        assert pins(selected("requirements.txt", platform)) == reference, platform


def test_gpu_file_is_requirements_with_tensorflows_cuda_build() -> None:
    cpu = selected("requirements.txt", "linux-x86_64")
    gpu = selected("requirements-gpu.txt", "linux-x86_64")
    assert "tensorflow-cpu" not in gpu  # both builds write the same `tensorflow` package
    assert gpu["tensorflow"].extras == {"and-cuda"}
    assert pins(gpu) == pins(cpu)
