"""Which arithmetic training uses on this machine: float32 or mixed precision, oneDNN on or off.

Mixed precision pays only where the hardware computes it natively: bfloat16 on CPUs with AVX512_BF16
or AMX (elsewhere TensorFlow emulates it, many times slower than float32), float16 on a GPU.
oneDNN's kernels make float32 training on x86-64 about twice as fast as TensorFlow's Eigen kernels
(measured: 170 against 88 images/s on a 2-core AVX2 CPU) and are the ones that compute bfloat16, but
they sum in an order that depends on the CPU's instruction set, so their last digits can differ
between CPU kinds.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

BF16_FLAGS = (
    "avx512_bf16",
    "amx_bf16",
)  # /proc/cpuinfo flags of CPUs that compute bfloat16 natively
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"  # read by TensorFlow once, when it is imported


def _cpuinfo(path: Path) -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (Linux); empty where there is no such file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _flags(fields: dict[str, str]) -> frozenset[str]:
    return frozenset(fields.get("flags", "").split())


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags where the OS lists them (Linux); empty elsewhere, which reads as "no
    native bfloat16": the safe answer, since emulated bfloat16 is the slow one."""
    return _flags(_cpuinfo(cpuinfo))


def describe_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's name and widest vector instructions, e.g. "AMD EPYC (AVX-512, AVX512_BF16)", for
    benchmarks: the same float32 run took 26 min on a 2-core AVX2 EPYC and 8 min on a 2-core
    AVX-512 one, so a timing means little without it."""
    fields = _cpuinfo(cpuinfo)
    flags = _flags(fields)
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    native = [flag.upper() for flag in BF16_FLAGS if flag in flags]
    name = fields.get("model name") or platform.processor() or platform.machine()
    return f"{name} ({', '.join([vectors, *native])})" if flags else name


def is_x86_64(machine: str | None = None) -> bool:
    return (machine or platform.machine()).lower() in ("x86_64", "amd64")


def choose_onednn(
    setting: str, precision: str, flags: frozenset[str], x86_64: bool
) -> tuple[bool, str]:
    """oneDNN on or off, decided before TensorFlow is imported (it reads the switch only then)."""
    if setting != "auto":
        return setting == "on", f"oneDNN {setting} (train.onednn)"
    if precision == "mixed" or (precision == "auto" and flags.intersection(BF16_FLAGS)):
        return True, "oneDNN on (its kernels compute bfloat16)"
    if x86_64:
        return True, "oneDNN on (x86-64: about twice as fast as Eigen in float32)"
    return False, "oneDNN off (not x86-64: left to TensorFlow's default kernels)"


def choose_policy(setting: str, flags: frozenset[str], gpu: bool) -> tuple[str, str]:
    """The Keras dtype policy and why: mixed precision only where it is native to the hardware."""
    native = sorted(flags.intersection(BF16_FLAGS))
    if setting == "float32":
        return "float32", "float32 (train.precision)"
    if setting == "mixed":
        if gpu:
            return "mixed_float16", "mixed float16 on the GPU (train.precision)"
        speed = (
            "native"
            if native
            else "emulated by this CPU: expect it to be many times slower than float32"
        )
        return "mixed_bfloat16", f"mixed bfloat16 on the CPU (train.precision; {speed})"
    if gpu:
        return "mixed_float16", "mixed float16 (auto: a GPU computes float16 natively)"
    if native:
        return "mixed_bfloat16", f"mixed bfloat16 (auto: this CPU has {' and '.join(native)})"
    return (
        "float32",
        "float32 (auto: this CPU has no AVX512_BF16 or AMX, so bfloat16 would be emulated and "
        "slower)",
    )


def set_onednn(setting: str, precision: str) -> None:
    """Set TensorFlow's oneDNN switch for this process; call before importing TensorFlow
    (``arithmetic`` says, once TensorFlow runs, what was chosen and why)."""
    on, _ = choose_onednn(setting, precision, cpu_flags(), is_x86_64())
    os.environ[ONEDNN_ENV] = "1" if on else "0"


def arithmetic(precision: str, onednn: str) -> tuple[str, str]:
    """The Keras dtype policy for training, and one line saying what runs and why. TensorFlow must
    already run with ``set_onednn``'s choice."""
    import tensorflow as tf

    flags = cpu_flags()
    policy, why = choose_policy(precision, flags, gpu=bool(tf.config.list_physical_devices("GPU")))
    _, onednn_why = choose_onednn(onednn, precision, flags, is_x86_64())
    return policy, f"{why}; {onednn_why}"
