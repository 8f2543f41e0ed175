"""Typed, validated parameters: ``params.yaml`` is read once per stage, and a bad value names its
key.

Each parameter is declared once, as a field of its section's class: its type, default, check and
one-line description together (``param``). ``params.yaml`` with its comments, the reference in
``docs/parameters.md`` and the tests' small params are all derived from these declarations
(``emotions.config``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from emotions.errors import UserError

PARAMS_FILE = Path("params.yaml")
T = TypeVar("T")
# YAML 1.1 (PyYAML) reads 1e-3 and 5E+2 as text: only a float with a dot and a signed exponent is a
# number
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def positive_number(value: str | float) -> float | None:
    """``value`` as a finite number above 0, or None: text that is no number, nan, infinity, 0 and
    less all fail alike, so every caller words one error for them."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


class Invalid(ValueError):
    """A value a rule refuses; ``detail`` replaces the usual "must be ..., got ..." where given, and
    ``part`` names the entry of a mapping that is wrong (``evaluate.sets.fer``)."""

    def __init__(self, detail: str | None = None, part: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.part = detail, part


@dataclass(frozen=True)
class Rule:
    """What one parameter's value must be: ``wanted`` (said in errors and in the reference) and
    ``convert``, which returns the typed value or raises ``Invalid``."""

    wanted: str
    convert: Callable[[Any], Any]


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _as_number(value: Any) -> float:
    """An int or float, or text that spells one (``1e-3``): YAML 1.1 reads that as a string."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    if not _is_number(value):
        raise Invalid
    return float(value)


def integer(minimum: int | None = None, maximum: int | None = None) -> Rule:
    wanted = "an integer" + (f" >= {minimum}" if minimum is not None else "")
    wanted += f" and <= {maximum}" if maximum is not None else ""

    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise Invalid
        return value

    return Rule(wanted, convert)


def number(minimum: float = 0.0) -> Rule:
    def convert(value: Any) -> float:
        result = _as_number(value)
        if not result >= minimum or not math.isfinite(result):
            raise Invalid
        return result

    return Rule(f"a number >= {minimum:g}", convert)


def positive() -> Rule:
    def convert(value: Any) -> float:
        result = _as_number(value)
        if not 0 < result < math.inf:
            raise Invalid
        return result

    return Rule("a number > 0", convert)


def fraction(allow_zero: bool = False) -> Rule:
    """A number strictly between 0 and 1 (or 0 itself, where ``allow_zero``)."""

    def convert(value: Any) -> float:
        result = _as_number(value)
        if not ((result >= 0 if allow_zero else result > 0) and result < 1):
            raise Invalid
        return result

    return Rule("a number in [0, 1)" if allow_zero else "a number in (0, 1)", convert)


def boolean() -> Rule:
    def convert(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid
        return value

    return Rule("true or false", convert)


def choice(*choices: str) -> Rule:
    def convert(value: Any) -> str:
        if value not in choices:
            raise Invalid
        return str(value)

    return Rule("one of " + ", ".join(choices), convert)


def switch() -> Rule:
    """``auto``, true or false, read as "auto", "on" or "off"."""

    def convert(value: Any) -> str:
        if value == "auto":
            return "auto"
        if not isinstance(value, bool):
            raise Invalid
        return "on" if value else "off"

    return Rule("auto, true or false", convert)


def path() -> Rule:
    def convert(value: Any) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise Invalid
        return Path(value)

    return Rule("a path", convert)


def optional_path() -> Rule:
    """A path, or None for ``none``."""
    plain = path()
    return Rule("none or a path", lambda value: None if value == "none" else plain.convert(value))


def file_name() -> Rule:
    """The name of a file inside the data folder, or None for ``none``."""

    def convert(value: Any) -> str | None:
        if value == "none":
            return None
        if not isinstance(value, str) or not value.strip() or value.startswith(("/", "..")):
            raise Invalid
        return value

    return Rule("none or a file name inside the data.source folder", convert)


def counts(length: tuple[int, int], each: tuple[int, int]) -> Rule:
    """A list of ``length`` (min, max) integers, each within ``each`` (min, max)."""

    def convert(value: Any) -> tuple[int, ...]:
        if (
            not isinstance(value, list)
            or not length[0] <= len(value) <= length[1]
            or not all(
                isinstance(v, int) and not isinstance(v, bool) and each[0] <= v <= each[1]
                for v in value
            )
        ):
            raise Invalid
        return tuple(value)

    return Rule(
        f"a list of {length[0]} to {length[1]} integers, each from {each[0]} to {each[1]}", convert
    )


def names(at_least: int = 2) -> Rule:
    """A list of distinct names usable as folder names; case never tells two apart."""

    def convert(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) < at_least:
            raise Invalid(f"must be a list of at least {at_least} class names, got {value!r}")
        for name in value:
            if not isinstance(name, str) or not name.strip() or "/" in name or name.startswith("."):
                raise Invalid(f"must be a list of folder names, got {name!r}")
        first: dict[
            str, str
        ] = {}  # folder names match in any case, so 'Sad' and 'sad' are one class
        for name in value:
            other = first.get(name.strip().lower())
            if other is not None:
                same = "" if other == name else f" (the same as {other!r}: case does not matter)"
                raise Invalid(f"duplicate class name {name!r}{same}")
            first[name.strip().lower()] = name
        return tuple(value)

    return Rule(f"a list of at least {at_least} distinct folder names", convert)


def aliases() -> Rule:
    """Folder-name spellings mapped onto class names, compared in lower case."""

    def convert(value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise Invalid
        return {k.strip().lower(): v for k, v in value.items()}

    return Rule("a mapping of folder name to class name", convert)


def param(default: Any, rule: Rule, doc: str) -> Any:
    """A section field: its default (what ``params.yaml`` is written with), its rule and its
    description (the comment beside it in ``params.yaml``, and its line in the reference). The
    dataclass itself has no default: a section is read whole, from a file or from its defaults."""
    return dataclasses.field(metadata={"default": default, "rule": rule, "doc": doc})


class _Section:
    """Reads one section's keys, checking each and remembering which were read."""

    def __init__(self, raw: Mapping[str, Any], name: str, parent: str = "") -> None:
        value = raw.get(name)
        name = parent + name  # a nested section's keys are named in full: model.vgg.width
        if value is None:
            raise UserError(f"{name}: missing section in params.yaml")
        if not isinstance(value, Mapping):
            raise UserError(f"{name}: must be a mapping of keys, got {value!r}")
        self._values = value
        self.name = name
        self._read: set[str] = set()

    def nested(self, key: str, read: Callable[[_Section], T]) -> T:
        """A section inside this one, read by ``read`` and checked for unknown keys like a top
        one."""
        self._read.add(key)
        section = _Section(self._values, key, parent=f"{self.name}.")
        value = read(section)
        section.finish()
        return value

    def value(self, key: str, rule: Rule) -> Any:
        """The key's value as ``rule`` converts it; a missing or refused value names the key."""
        self._read.add(key)
        if key not in self._values:
            raise UserError(f"{self.name}.{key}: missing key in params.yaml")
        raw = self._values[key]
        try:
            return rule.convert(raw)
        except Invalid as err:
            where = f"{self.name}.{key}" + (f".{err.part}" if err.part else "")
            raise UserError(
                f"{where}: {err.detail or f'must be {rule.wanted}, got {raw!r}'}"
            ) from None

    def finish(self) -> None:
        """Reject keys nobody reads: a typo must not be silently ignored."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise UserError(f"{self.name}.{unknown[0]}: unknown key in params.yaml")


@dataclass(frozen=True)
class Section:
    """A section of ``params.yaml`` (``SECTION``, described by ``DOC``): its fields are ``param``s,
    read in their order; ``check`` holds what involves more than one of them."""

    SECTION: ClassVar[str]
    DOC: ClassVar[str] = ""

    @classmethod
    def read(cls: type[S], s: _Section) -> S:
        return cls(**{f.name: s.value(f.name, f.metadata["rule"]) for f in dataclasses.fields(cls)})

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Checks across keys; raise a ``UserError`` that names them."""


S = TypeVar("S", bound=Section)


@dataclass(frozen=True)
class DataParams(Section):
    SECTION: ClassVar[str] = "data"
    source: Path = param(
        "data/sample/faces",
        path(),
        "raw data: class folders (maybe in train/ test/ parts), a FER-2013 CSV, or .tar files",
    )
    format: str = param(
        "auto",
        choice("auto", "folders", "csv", "tar"),
        "how to read data.source: auto, folders, csv or tar (packed)",
    )
    new: Path = param("data/sample/new", path(), "unseen images that the predict stage classifies")
    classes: tuple[str, ...] = param(
        ["angry", "happy", "sad"], names(), "classes to predict, in this order"
    )
    extra_classes: tuple[str, ...] = param(
        [],
        names(at_least=0),
        "more classes to learn from (training faces only), never predicted: e.g. [fear, neutral]",
    )
    aliases: dict[str, str] = param(
        {"anger": "angry", "happiness": "happy", "sadness": "sad"},
        aliases(),
        "other folder names for a class (case never matters)",
    )
    csv_emotions: tuple[str, ...] = param(
        ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        names(at_least=1),
        "FER-2013 CSV emotion codes 0..6",
    )
    votes: str | None = param(
        "none",
        file_name(),
        "crowd votes for a folder tree: a CSV in its top folder (e.g. ferplus-votes.csv), or none",
    )

    def check(self) -> None:
        classes = {c.strip().lower(): c for c in self.classes}
        both = sorted(c for c in self.extra_classes if c.strip().lower() in classes)
        if both:
            raise UserError(f"data.extra_classes: {both[0]!r} is in data.classes already")
        known = set(classes) | {c.strip().lower() for c in self.extra_classes}
        unknown = sorted(v for v in self.aliases.values() if v.strip().lower() not in known)
        if unknown:
            raise UserError(
                f"data.aliases: maps onto {unknown[0]!r}, which is not in data.classes or "
                "data.extra_classes"
            )


@dataclass(frozen=True)
class SampleParams(Section):
    SECTION: ClassVar[str] = "sample"
    DOC: ClassVar[str] = (
        "the synthetic demo faces (of the data classes it can draw: angry, happy, neutral, sad, "
        "surprise)"
    )
    per_class: int = param(100, integer(minimum=3), "faces drawn per class")
    new_per_class: int = param(
        2, integer(minimum=0), "unseen faces per class for the predict stage"
    )
    image_size: int = param(64, integer(minimum=16), "side of the drawn faces, in pixels")
    seed: int = param(2026, integer(minimum=0), "the drawing's random seed")


@dataclass(frozen=True)
class PrepareParams(Section):
    SECTION: ClassVar[str] = "prepare"
    image_size: int = param(
        48, integer(minimum=8, maximum=224), "faces are resized to image_size x image_size"
    )
    color: str = param(
        "gray", choice("gray", "rgb"), "gray: one 8-bit channel; rgb: colour, three channels"
    )
    on_bad_image: str = param(
        "skip",
        choice("skip", "error"),
        "skip: list unreadable files in the manifest; error: stop at the first",
    )
    min_std: float = param(
        2.0,
        number(),
        "images whose pixels vary less than this (0-255) are dropped as blank; 0 keeps all",
    )
    dedupe: bool = param(
        True,
        boolean(),
        "drop exact duplicates, conflicting labels, and held-out images also in training",
    )
    face_detect: bool = param(
        False, boolean(), "crop the largest face with OpenCV's Haar cascade (for photos, not crops)"
    )
    shard_mb: float = param(
        32,
        positive(),
        "faces are stored as uint8 shards of at most this many MB, read one at a time",
    )


@dataclass(frozen=True)
class SplitParams(Section):
    SECTION: ClassVar[str] = "split"
    val_fraction: float = param(
        0.15,
        fraction(),
        "share of the faces held out for validation (where the data has no val part)",
    )
    test_fraction: float = param(
        0.15, fraction(), "share held out for the test (where the data has no test part)"
    )
    seed: int = param(42, integer(minimum=0), "the split's random seed")

    def check(self) -> None:
        if self.val_fraction + self.test_fraction >= 1:
            total = self.val_fraction + self.test_fraction
            raise UserError(
                f"split.val_fraction + split.test_fraction: must sum to less than 1, got {total:g}"
            )


@dataclass(frozen=True)
class TrainParams(Section):
    SECTION: ClassVar[str] = "train"
    epochs: int = param(30, integer(minimum=1), "passes over the training faces")
    batch_size: int = param(32, integer(minimum=1), "faces per training step")
    shuffle_mb: float = param(
        256,
        positive(),
        "training faces held for shuffling: all of them if they fit, else windows of this size",
    )
    learning_rate: float = param(0.001, positive(), "Adam's (or AdamW's) step size")
    seed: int = param(42, integer(minimum=0), "seeds every random choice of training")
    augment: bool = param(
        True, boolean(), "on-the-fly augmentation, strengths in the augment section"
    )
    class_weights: bool = param(False, boolean(), "weigh classes inversely to their frequency")
    early_stopping: int = param(
        0,
        integer(minimum=0),
        "stop after this many epochs without a better validation accuracy (best weights kept); 0: "
        "off",
    )
    lr_schedule: str = param(
        "constant",
        choice("constant", "plateau", "cosine"),
        "constant, plateau (halve when validation loss stalls) or cosine",
    )
    weight_decay: float = param(0.0, number(), "decoupled weight decay (AdamW); 0: plain Adam")
    label_smoothing: float = param(
        0.0, fraction(allow_zero=True), "share of each label spread over the other classes"
    )
    precision: str = param(
        "auto",
        choice("auto", "float32", "mixed"),
        "auto: mixed (bfloat16) only on CPUs with AVX512_BF16 or AMX, float16 on a GPU, else "
        "float32",
    )
    onednn: str = param(
        "auto",
        switch(),
        "TensorFlow's oneDNN kernels; auto: on for x86-64 (about 2x faster) and bfloat16",
    )
    target: str = param(
        "label",
        choice("label", "majority", "votes"),
        "label: the data set's own; majority: the crowd's; votes: the crowd's distribution (needs "
        "votes)",
    )
    teacher: Path | None = param(
        "none",
        optional_path(),
        "a model folder (such as pretrained/fer2013-seven) whose probabilities on the training "
        "faces are mixed into the targets (distillation); none: off",
    )
    teacher_weight: float = param(
        0.5, fraction(), "the teacher's share of each training target (with train.teacher)"
    )
    low_res_size: int = param(
        0,
        integer(minimum=0),
        "networks of any input size (vgg): the first low_res_epochs train on faces this small; 0: "
        "off",
    )
    low_res_epochs: int = param(
        0, integer(minimum=0), "epochs at low_res_size, before the full size"
    )
    distribute: str = param(
        "auto",
        choice("auto", "none", "mirrored", "multi_worker"),
        "mirrored: one replica on every local GPU, the global batch still batch_size; auto: "
        "mirrored with two GPUs or more; none: one device; multi_worker: every worker of "
        "TF_CONFIG (docs/performance.md)",
    )
    calibrate: bool = param(
        True,
        boolean(),
        "fit a temperature on the validation part so the probabilities are calibrated",
    )

    def check(self) -> None:
        if self.low_res_size and not 1 <= self.low_res_epochs < self.epochs:
            raise UserError(
                f"train.low_res_epochs: must be from 1 to train.epochs - 1 ({self.epochs - 1}) "
                "when train.low_res_size "
                f"is set, got {self.low_res_epochs}"
            )


@dataclass(frozen=True)
class AugmentParams(Section):
    SECTION: ClassVar[str] = "augment"
    DOC: ClassVar[str] = "used when train.augment is true; crop, always"
    flip: bool = param(
        True, boolean(), "mirror left-right half of the time (expressions are symmetric enough)"
    )
    shift: float = param(0.1, fraction(allow_zero=True), "largest shift, as a fraction of the side")
    rotation: float = param(10, number(), "largest turn, in degrees")
    zoom: float = param(0.1, fraction(allow_zero=True), "largest zoom in or out, as a fraction")
    brightness: float = param(
        0.1, fraction(allow_zero=True), "largest brightness change, on the 0-1 pixel scale"
    )
    contrast: float = param(
        0.2, fraction(allow_zero=True), "largest contrast change, as a fraction"
    )
    crop: int = param(
        0,
        integer(minimum=0),
        "train on random crops this many pixels a side, the network's input (the centre crop "
        "without train.augment, and for validation); the saved model takes the centre crop of a "
        "face, or ten with model.tta_crops; 0: whole faces",
    )


# A set's name goes into a file name and, quoted, into its stage's command: nothing a shell expands.
_SET_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9 _.-]*[A-Za-z0-9_.-])?")


def set_paths() -> Rule:
    def convert(value: Any) -> dict[str, Path]:
        if not isinstance(value, Mapping):  # DVC's foreach refuses anything else, null included
            raise Invalid
        sets: dict[str, Path] = {}
        for name, where in value.items():
            if not isinstance(name, str) or not _SET_NAME.fullmatch(name):
                raise Invalid(
                    f"set name {name!r} must be letters, digits, spaces, '_', '.' or '-', "
                    "starting with a letter or digit"
                )
            if not isinstance(where, str) or not where.strip():
                raise Invalid(
                    f"must be a path (a folder tree or a FER-2013 CSV), got {where!r}", part=name
                )
            sets[name] = Path(where)
        return sets

    return Rule("a mapping of set name to path ({} for none)", convert)


@dataclass(frozen=True)
class EvaluateParams(Section):
    """Extra labelled test sets the pipeline scores, each into its own metrics file."""

    SECTION: ClassVar[str] = "evaluate"
    sets: dict[str, Path] = param(
        {},
        set_paths(),
        "extra labelled test sets scored into reports/sets/<name>.json, e.g. {fer: data/fer.csv}",
    )

    def path(self, name: str) -> Path:
        """The set's path; a name not in ``evaluate.sets`` is a user error naming the key."""
        if not name.strip():
            known = ", ".join(self.sets) or "none"
            raise UserError(f"--set: a set's name cannot be empty (the sets are: {known})")
        if name not in self.sets:
            known = ", ".join(self.sets) or "none"
            raise UserError(
                f"evaluate.sets.{name}: missing key in params.yaml (the sets are: {known})"
            )
        return self.sets[name]


Params = TypeVar("Params", bound=Section)


def read_yaml(where: Path = PARAMS_FILE) -> Mapping[str, Any]:
    """The raw params file; a missing or malformed file is a user error naming it."""
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{where}: parameters file not found (run from the project root)") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{where}: not valid YAML{line}") from None
    if not isinstance(raw, Mapping):
        raise UserError(f"{where}: must be a mapping of sections")
    return raw


def load(kind: type[Params], raw: Mapping[str, Any] | None = None) -> Params:
    """Read and validate one section into its typed, frozen object."""
    section = _Section(read_yaml() if raw is None else raw, kind.SECTION)
    params = kind.read(section)
    section.finish()
    return params


def defaults(kind: type[Section]) -> dict[str, Any]:
    """A section's keys with their defaults, as they stand in ``params.yaml``."""
    return {f.name: f.metadata["default"] for f in dataclasses.fields(kind)}
