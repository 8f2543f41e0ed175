"""Typed, validated parameters: ``params.yaml`` is read once per stage, and a bad value names its key."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import yaml

from emotions.errors import UserError

PARAMS_FILE = Path("params.yaml")
T = TypeVar("T")


def positive_number(value: str | float) -> float | None:
    """``value`` as a finite number above 0, or None: text that is no number, nan, infinity, 0 and
    less all fail alike, so every caller words one error for them."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


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
        self._name = name
        self._read: set[str] = set()

    def nested(self, key: str, read: Callable[[_Section], T]) -> T:
        """A section inside this one, read by ``read`` and checked for unknown keys like a top one."""
        self._read.add(key)
        section = _Section(self._values, key, parent=f"{self._name}.")
        value = read(section)
        section.finish()
        return value

    def _get(self, key: str) -> Any:
        self._read.add(key)
        if key not in self._values:
            raise UserError(f"{self._name}.{key}: missing key in params.yaml")
        return self._values[key]

    def _bad(self, key: str, wanted: str, value: Any) -> UserError:
        return UserError(f"{self._name}.{key}: must be {wanted}, got {value!r}")

    def integer(self, key: str, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._get(key)
        wanted = "an integer" + (f" >= {minimum}" if minimum is not None else "")
        if maximum is not None:
            wanted += f" and <= {maximum}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(key, wanted, value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self._bad(key, wanted, value)
        return value

    def fraction(self, key: str, allow_zero: bool = False) -> float:
        """A number strictly between 0 and 1 (or 0 itself, where ``allow_zero``)."""
        value = self._get(key)
        wanted = "a number in [0, 1)" if allow_zero else "a number in (0, 1)"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._bad(key, wanted, value)
        low_ok = value >= 0 if allow_zero else value > 0
        if not (low_ok and value < 1):
            raise self._bad(key, wanted, value)
        return float(value)

    def positive(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self._bad(key, "a number > 0", value)
        return float(value)

    def number(self, key: str, minimum: float = 0.0) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise self._bad(key, f"a number >= {minimum:g}", value)
        return float(value)

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false", value)
        return value

    def aliases(self, key: str) -> dict[str, str]:
        """Folder-name spellings mapped onto class names, compared in lower case."""
        value = self._get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise self._bad(key, "a mapping of folder name to class name", value)
        return {k.strip().lower(): v for k, v in value.items()}

    def file_name(self, key: str) -> str | None:
        """The name of a file inside the data folder, or None for ``none``."""
        value = self._get(key)
        if value == "none":
            return None
        if not isinstance(value, str) or not value.strip() or value.startswith(("/", "..")):
            raise self._bad(key, "none or a file name inside the data.source folder", value)
        return value

    def switch(self, key: str) -> str:
        """``auto``, true or false, as "auto", "on" or "off"."""
        value = self._get(key)
        if value == "auto":
            return "auto"
        if not isinstance(value, bool):
            raise self._bad(key, "auto, true or false", value)
        return "on" if value else "off"

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self._get(key)
        if value not in choices:
            raise self._bad(key, "one of " + ", ".join(choices), value)
        return str(value)

    def path(self, key: str) -> Path:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self._bad(key, "a path", value)
        return Path(value)

    def counts(self, key: str, length: tuple[int, int], each: tuple[int, int]) -> tuple[int, ...]:
        """A list of ``length`` (min, max) integers, each within ``each`` (min, max)."""
        value = self._get(key)
        wanted = f"a list of {length[0]} to {length[1]} integers, each from {each[0]} to {each[1]}"
        if (
            not isinstance(value, list)
            or not length[0] <= len(value) <= length[1]
            or not all(isinstance(v, int) and not isinstance(v, bool) and each[0] <= v <= each[1] for v in value)
        ):
            raise self._bad(key, wanted, value)
        return tuple(value)

    def names(self, key: str, at_least: int = 2) -> tuple[str, ...]:
        """A list of distinct names usable as folder names."""
        value = self._get(key)
        if not isinstance(value, list) or len(value) < at_least:
            raise self._bad(key, f"a list of at least {at_least} class names", value)
        for name in value:
            if not isinstance(name, str) or not name.strip() or "/" in name or name.startswith("."):
                raise self._bad(key, "a list of folder names", name)
        first: dict[str, str] = {}  # folder names match in any case, so 'Sad' and 'sad' are one class
        for name in value:
            other = first.get(name.strip().lower())
            if other is not None:
                same = "" if other == name else f" (the same as {other!r}: case does not matter)"
                raise UserError(f"{self._name}.{key}: duplicate class name {name!r}{same}")
            first[name.strip().lower()] = name
        return tuple(value)

    def finish(self) -> None:
        """Reject keys nobody reads: a typo must not be silently ignored."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise UserError(f"{self._name}.{unknown[0]}: unknown key in params.yaml")


@dataclass(frozen=True)
class DataParams:
    SECTION: ClassVar[str] = "data"
    source: Path
    format: str  # "auto", "folders" or "csv"
    new: Path
    classes: tuple[str, ...]
    extra_classes: tuple[str, ...]  # read and learned from, never predicted: their faces only train
    aliases: dict[str, str]
    csv_emotions: tuple[str, ...]
    votes: str | None  # a crowd-votes CSV in the data.source folder; None: no votes (FER+'s layout has its own)

    @classmethod
    def read(cls, s: _Section) -> DataParams:
        classes = s.names("classes")
        extra_classes = s.names("extra_classes", at_least=0)
        both = sorted(set(classes) & set(extra_classes))
        if both:
            raise UserError(f"data.extra_classes: {both[0]!r} is in data.classes already")
        aliases = s.aliases("aliases")
        known = {c.lower() for c in classes + extra_classes}
        unknown = sorted(v for v in aliases.values() if v.strip().lower() not in known)
        if unknown:
            raise UserError(f"data.aliases: maps onto {unknown[0]!r}, which is not in data.classes or data.extra_classes")
        return cls(
            source=s.path("source"),
            format=s.choice("format", ("auto", "folders", "csv")),
            new=s.path("new"),
            classes=classes,
            extra_classes=extra_classes,
            aliases=aliases,
            csv_emotions=s.names("csv_emotions", at_least=1),
            votes=s.file_name("votes"),
        )


@dataclass(frozen=True)
class SampleParams:
    """The synthetic demo data set that a fresh clone trains on; its classes are ``data.classes`` (and
    ``data.extra_classes``), those the generator can draw."""

    SECTION: ClassVar[str] = "sample"
    per_class: int
    new_per_class: int
    image_size: int
    seed: int

    @classmethod
    def read(cls, s: _Section) -> SampleParams:
        return cls(
            per_class=s.integer("per_class", minimum=3),
            new_per_class=s.integer("new_per_class", minimum=0),
            image_size=s.integer("image_size", minimum=16),
            seed=s.integer("seed", minimum=0),
        )


@dataclass(frozen=True)
class PrepareParams:
    SECTION: ClassVar[str] = "prepare"
    image_size: int
    on_bad_image: str  # "skip" lists a bad file in the manifest; "error" stops
    min_std: float  # pixel standard deviation below which an image counts as blank; 0 keeps all
    dedupe: bool  # drop exact duplicates, conflicting labels, and held-out images found in training
    face_detect: bool  # crop the largest face (Haar cascade); images without a face are reported

    @classmethod
    def read(cls, s: _Section) -> PrepareParams:
        return cls(
            image_size=s.integer("image_size", minimum=8, maximum=1024),
            on_bad_image=s.choice("on_bad_image", ("skip", "error")),
            min_std=s.number("min_std"),
            dedupe=s.boolean("dedupe"),
            face_detect=s.boolean("face_detect"),
        )


@dataclass(frozen=True)
class SplitParams:
    SECTION: ClassVar[str] = "split"
    val_fraction: float
    test_fraction: float
    seed: int

    @classmethod
    def read(cls, s: _Section) -> SplitParams:
        val = s.fraction("val_fraction")
        test = s.fraction("test_fraction")
        if val + test >= 1:
            raise UserError(f"split.val_fraction + split.test_fraction: must sum to less than 1, got {val + test:g}")
        return cls(val_fraction=val, test_fraction=test, seed=s.integer("seed", minimum=0))


@dataclass(frozen=True)
class TrainParams:
    SECTION: ClassVar[str] = "train"
    epochs: int
    batch_size: int
    learning_rate: float
    seed: int
    augment: bool  # on-the-fly augmentation with the ``augment`` section's strengths
    class_weights: bool  # weigh classes inversely to their frequency
    early_stopping: int  # epochs without validation improvement before stopping; 0 never stops early
    lr_schedule: str  # "constant", "plateau" (halve when validation stalls) or "cosine"
    weight_decay: float  # decoupled weight decay (AdamW); 0 is plain Adam
    label_smoothing: float  # share of each label's probability spread over the other classes
    precision: str  # "auto" (mixed where the hardware computes it natively), "float32" or "mixed"
    onednn: str  # "auto" (on for x86-64 and bfloat16), "on" or "off": TensorFlow's oneDNN kernels
    target: str  # "label" (one person's), "majority" (the crowd's) or "votes" (the crowd's distribution)
    low_res_size: int  # the first low_res_epochs train on faces shrunk to this size (cheaper steps); 0: off
    low_res_epochs: int
    calibrate: bool  # fit a temperature on the validation part and bake it into the saved model

    @classmethod
    def read(cls, s: _Section) -> TrainParams:
        epochs = s.integer("epochs", minimum=1)
        low_res_size, low_res_epochs = s.integer("low_res_size", minimum=0), s.integer("low_res_epochs", minimum=0)
        if low_res_size and not 1 <= low_res_epochs < epochs:
            raise UserError(
                f"train.low_res_epochs: must be from 1 to train.epochs - 1 ({epochs - 1}) when train.low_res_size "
                f"is set, got {low_res_epochs}"
            )
        return cls(
            epochs=epochs,
            batch_size=s.integer("batch_size", minimum=1),
            learning_rate=s.positive("learning_rate"),
            seed=s.integer("seed", minimum=0),
            augment=s.boolean("augment"),
            class_weights=s.boolean("class_weights"),
            early_stopping=s.integer("early_stopping", minimum=0),
            lr_schedule=s.choice("lr_schedule", ("constant", "plateau", "cosine")),
            weight_decay=s.number("weight_decay"),
            label_smoothing=s.fraction("label_smoothing", allow_zero=True),
            precision=s.choice("precision", ("auto", "float32", "mixed")),
            onednn=s.switch("onednn"),
            target=s.choice("target", ("label", "majority", "votes")),
            low_res_size=low_res_size,
            low_res_epochs=low_res_epochs,
            calibrate=s.boolean("calibrate"),
        )


@dataclass(frozen=True)
class AugmentParams:
    SECTION: ClassVar[str] = "augment"
    flip: bool  # mirror left-right half of the time (expressions are symmetric enough)
    shift: float  # largest shift, as a fraction of the side
    rotation: float  # largest turn, in degrees
    zoom: float  # largest zoom in or out, as a fraction
    brightness: float  # largest brightness change, on the [0, 1] pixel scale
    contrast: float  # largest contrast change, as a fraction

    @classmethod
    def read(cls, s: _Section) -> AugmentParams:
        return cls(
            flip=s.boolean("flip"),
            shift=s.fraction("shift", allow_zero=True),
            rotation=s.number("rotation"),
            zoom=s.fraction("zoom", allow_zero=True),
            brightness=s.fraction("brightness", allow_zero=True),
            contrast=s.fraction("contrast", allow_zero=True),
        )


# A set's name goes into a file name and, quoted, into its stage's command: nothing a shell expands.
_SET_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9 _.-]*[A-Za-z0-9_.-])?")


@dataclass(frozen=True)
class EvaluateParams:
    """Extra labelled test sets the pipeline scores, each into its own metrics file."""

    SECTION: ClassVar[str] = "evaluate"
    sets: dict[str, Path]  # set name (names a DVC stage and reports/sets/<name>.json) -> folder tree or CSV

    @classmethod
    def read(cls, s: _Section) -> EvaluateParams:
        value = s._get("sets")
        if not isinstance(value, Mapping):  # DVC's foreach refuses anything else, null included
            raise s._bad("sets", "a mapping of set name to path ({} for none)", value)
        sets: dict[str, Path] = {}
        for name, path in value.items():
            if not isinstance(name, str) or not _SET_NAME.fullmatch(name):
                raise UserError(
                    f"evaluate.sets: set name {name!r} must be letters, digits, spaces, '_', '.' or '-', "
                    "starting with a letter or digit"
                )
            if not isinstance(path, str) or not path.strip():
                raise UserError(f"evaluate.sets.{name}: must be a path (a folder tree or a FER-2013 CSV), got {path!r}")
            sets[name] = Path(path)
        return cls(sets=sets)

    def path(self, name: str) -> Path:
        """The set's path; a name not in ``evaluate.sets`` is a user error naming the key."""
        if name not in self.sets:
            known = ", ".join(self.sets) or "none"
            raise UserError(f"evaluate.sets.{name}: missing key in params.yaml (the sets are: {known})")
        return self.sets[name]


class _SectionParams(Protocol):
    SECTION: ClassVar[str]

    @classmethod
    def read(cls, s: _Section) -> Any: ...


Params = TypeVar("Params", bound=_SectionParams)


def read_yaml(path: Path = PARAMS_FILE) -> Mapping[str, Any]:
    """The raw params file; a missing or malformed file is a user error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: parameters file not found (run from the project root)") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise UserError(f"{path}: not valid YAML{line}") from None
    if not isinstance(raw, Mapping):
        raise UserError(f"{path}: must be a mapping of sections")
    return raw


def load(kind: type[Params], raw: Mapping[str, Any] | None = None) -> Params:
    """Read and validate one section into its typed, frozen object."""
    section = _Section(read_yaml() if raw is None else raw, kind.SECTION)
    params = kind.read(section)
    section.finish()
    return params
