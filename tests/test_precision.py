"""The arithmetic training picks: mixed precision only where the hardware computes it natively."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from emotions.training.precision import choose_onednn, choose_policy, cpu_flags, describe_cpu

AVX2 = frozenset({"fpu", "sse2", "avx", "avx2", "fma"})
BF16 = AVX2 | {"avx512f", "avx512_bf16"}
AMX = AVX2 | {"amx_tile", "amx_bf16"}


@pytest.mark.parametrize(
    ("setting", "flags", "gpu", "policy"),
    [
        ("auto", AVX2, False, "float32"),  # emulated bfloat16 would be the slow path: never chosen
        ("auto", frozenset(), False, "float32"),  # flags unknown (macOS, Windows): float32
        ("auto", BF16, False, "mixed_bfloat16"),
        ("auto", AMX, False, "mixed_bfloat16"),
        ("auto", AVX2, True, "mixed_float16"),
        ("float32", BF16, True, "float32"),
        ("mixed", AVX2, False, "mixed_bfloat16"),  # forced: the user asked for it
        ("mixed", AVX2, True, "mixed_float16"),
    ],
)
def test_policy_follows_the_hardware(
    setting: str, flags: frozenset[str], gpu: bool, policy: str
) -> None:
    assert choose_policy(setting, flags, gpu)[0] == policy


def test_reasons_say_why() -> None:
    assert choose_policy("auto", AVX2, False)[1] == (
        "float32 (auto: this CPU has no AVX512_BF16 or AMX, so bfloat16 would be emulated and "
        "slower)"
    )
    assert (
        choose_policy("auto", BF16, False)[1] == "mixed bfloat16 (auto: this CPU has avx512_bf16)"
    )
    assert "emulated" in choose_policy("mixed", AVX2, False)[1]


@pytest.mark.parametrize(
    ("setting", "precision", "flags", "x86_64", "on"),
    [
        ("auto", "auto", AVX2, True, True),  # x86-64: oneDNN is about twice as fast in float32
        ("auto", "float32", AVX2, False, False),  # elsewhere: TensorFlow's default kernels
        ("auto", "auto", BF16, False, True),  # bfloat16 kernels come from oneDNN
        ("auto", "mixed", frozenset(), False, True),
        ("off", "mixed", BF16, True, False),  # an explicit choice wins
        ("on", "float32", frozenset(), False, True),
    ],
)
def test_onednn_follows_the_same_logic(
    setting: str, precision: str, flags: frozenset[str], x86_64: bool, on: bool
) -> None:
    assert choose_onednn(setting, precision, flags, x86_64)[0] is on


def test_cpu_flags_come_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: "
        "1\n"
    )
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize(
    ("flags", "described"),
    [
        ("fpu avx2", "Some CPU (AVX2)"),
        ("avx2 avx512f", "Some CPU (AVX-512)"),
        ("avx2 avx512f avx512_bf16 amx_bf16", "Some CPU (AVX-512, AVX512_BF16, AMX_BF16)"),
        ("fpu sse2", "Some CPU (no AVX2)"),
    ],
)
def test_cpu_is_described_by_name_and_vector_instructions(
    tmp_path: Path, flags: str, described: str
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n")
    assert describe_cpu(cpuinfo) == described


def test_cpu_without_cpuinfo_is_described_by_the_platform(tmp_path: Path) -> None:
    assert describe_cpu(tmp_path / "absent") == (
        platform.processor() or platform.machine()
    )  # macOS, Windows
