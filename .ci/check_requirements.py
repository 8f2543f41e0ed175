"""Check that the requirements files install from wheels alone, for Python 3.11, on every platform
the README names, by pip dry runs (nothing is installed). Run by .ci/run before the tests.

pip's --platform picks another platform's wheels but evaluates environment markers (ours and our
dependencies') for the machine pip runs on (pypa/pip#10050), so each dry run runs pip in a child
process whose marker environment is the target platform's.

    python .ci/check_requirements.py [FILE ...]     # default: every file in CHECKS
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "3.11"


def _manylinux(arch: str) -> list[str]:
    """The manylinux tags a glibc 2.28 system takes (pip does not widen manylinux_2_X by itself)."""
    return [f"manylinux2014_{arch}"] + [f"manylinux_2_{minor}_{arch}" for minor in range(17, 29)]


# name: (pip --platform tags, marker values on that platform)
PLATFORMS: dict[str, tuple[list[str], dict[str, str]]] = {
    "linux-x86_64": (
        _manylinux("x86_64"),
        {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": "x86_64",
        },
    ),
    "linux-aarch64": (
        _manylinux("aarch64"),
        {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": "aarch64",
        },
    ),
    "macos-arm64": (
        ["macosx_14_0_arm64"],
        {  # pip widens it to older macOS and universal2
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "os_name": "posix",
            "platform_machine": "arm64",
        },
    ),
    "windows-x86_64": (
        ["win_amd64"],
        {
            "sys_platform": "win32",
            "platform_system": "Windows",
            "os_name": "nt",
            "platform_machine": "AMD64",
        },
    ),
}
CHECKS = {"requirements.txt": list(PLATFORMS), "requirements-gpu.txt": ["linux-x86_64"]}
# Pure-python dependencies that PyPI has as sdists only (dvc -> hydra-core needs this one):
# built into a wheel first, which every platform can take, since --platform forbids sdists.
SDIST_ONLY = ["antlr4-python3-runtime==4.9.3"]


def pip_as(platform: str, args: list[str]) -> int:
    """Run pip with the marker environment of `platform` (in this process: pip cannot undo it)."""
    from pip._vendor.packaging import markers  # the copy pip's resolver evaluates markers with

    environment = {**markers.default_environment(), **PLATFORMS[platform][1]}
    markers.default_environment = lambda: dict(environment)
    from pip._internal.cli.main import main as pip_main

    return pip_main(args)


def dry_run(name: str, platform: str, wheels: Path, target: Path) -> tuple[str, float]:
    """pip's error output ('' if `name` resolves on `platform`) and the seconds it took."""
    start = time.monotonic()
    tags = [f"--platform={tag}" for tag in PLATFORMS[platform][0]]
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--as",
            platform,
            "install",
            "--dry-run",
            "--quiet",
            "--disable-pip-version-check",
            "--ignore-installed",
            "--target",
            str(target),
            "--only-binary=:all:",
            "--python-version",
            PYTHON,
            "--implementation",
            "cp",
            *tags,
            "--find-links",
            str(wheels),
            "-r",
            str(ROOT / name),
        ],
        capture_output=True,
        text=True,
    )
    return (result.stderr or "failed\n") if result.returncode else "", time.monotonic() - start


def main(argv: list[str]) -> int:
    if argv[:1] == ["--as"]:
        return pip_as(argv[1], argv[2:])
    if f"{sys.version_info.major}.{sys.version_info.minor}" != PYTHON:
        print(
            f"error: run this with Python {PYTHON}: markers such as python_version are read from "
            "the running interpreter",
            file=sys.stderr,
        )
        return 2
    jobs = [(name, platform) for name in argv or CHECKS for platform in CHECKS[name]]
    with tempfile.TemporaryDirectory() as tmp:
        wheels, target = Path(tmp, "wheels"), Path(tmp, "target")  # --target: pip 23.2 wants it
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--wheel-dir",
                str(wheels),
                *SDIST_ONLY,
            ],
            check=True,
        )
        with ThreadPoolExecutor(len(jobs)) as pool:  # all at once: they mostly wait on downloads
            results = list(pool.map(lambda job: dry_run(*job, wheels, target), jobs))
    for (name, platform), (errors, seconds) in zip(jobs, results, strict=True):
        if errors:
            sys.stderr.write(errors)
            print(
                f"error: {name}: does not install on {platform} (Python {PYTHON}, wheels only; "
                "pip's message above)",
                file=sys.stderr,
            )
        else:
            print(f"{name}: resolves on {platform} ({seconds:.0f} s)")
    return 1 if any(errors for errors, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
