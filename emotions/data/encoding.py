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

    def as_json(self) -> dict[str, object]:
        return {
            "classes": list(self.classes),
            "image_size": self.image_size,
            "face_detect": self.face_detect,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Encoding:
        """Read what ``as_json`` wrote; a missing key raises KeyError, a value of the wrong kind
        ValueError or TypeError (the callers name the file)."""
        return cls(tuple(raw["classes"]), int(raw["image_size"]), bool(raw["face_detect"]))
