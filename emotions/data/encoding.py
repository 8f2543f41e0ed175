"""How a face becomes a model input and what the model's outputs mean: one object that the prepared
data carries and the trained model keeps beside it, so predict crops, resizes and names classes
exactly as prepare did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Encoding:
    classes: tuple[str, ...]  # the outputs, in order
    image_size: int  # inputs are image_size x image_size (``emotions.data.imaging.model_inputs``)
    face_detect: bool  # inputs are the faces found in an image (Haar cascade), not the whole image
    color: str = "gray"  # "gray": one channel; "rgb": three, in that order

    @property
    def channels(self) -> int:
        return 3 if self.color == "rgb" else 1

    def as_json(self) -> dict[str, object]:
        return {
            "classes": list(self.classes),
            "image_size": self.image_size,
            "face_detect": self.face_detect,
            "color": self.color,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Encoding:
        """Read what ``as_json`` wrote; a missing key raises KeyError, a value of the wrong kind
        ValueError or TypeError (the callers name the file). A description from before colour
        was an option is of a grayscale model."""
        classes, size, face_detect = (
            tuple(raw["classes"]),
            int(raw["image_size"]),
            bool(raw["face_detect"]),
        )
        color = raw.get("color", "gray")
        if color not in ("gray", "rgb"):
            raise ValueError(f"color must be gray or rgb, got {color!r}")
        return cls(classes, size, face_detect, color)
