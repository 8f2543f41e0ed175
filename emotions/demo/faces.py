"""A deterministic generator of small synthetic grayscale face images.

A fresh clone of the project has no data, so this module draws simple cartoon faces
with OpenCV primitives (ellipses, lines, polylines) so that the whole pipeline can run
without a download. The expressions differ the way real ones do (mouth curvature, brow
slant, eye opening), every image is varied (pose, scale, lighting, noise, blur and the
feature geometry itself) so the task is learnable but not trivial, and the same arguments
always give byte-identical files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from emotions.files import write_png
from emotions.params import SampleParams

__all__ = ["EXPRESSIONS", "draw_face", "drawable", "write_sample"]

EXPRESSIONS: tuple[str, ...] = ("angry", "happy", "neutral", "sad", "surprise")
"""The expressions the generator can draw, sorted."""

# Faces are drawn this many times larger than the output, then shrunk with INTER_AREA,
# which gives anti-aliased strokes at a fraction of the cost of supersampling by hand.
_OVERSAMPLE = 4

# Random streams: one for the training faces, another for the "new" images, so that a
# new image is never a copy of a training face.
_PART_FACES = 0
_PART_NEW = 1

Point = tuple[float, float]


class _Canvas:
    """An upright drawing surface in face units: (0, 0) is the face centre, 1 is the head's
    half-width."""

    def __init__(self, image: np.ndarray, cx: float, cy: float, unit: float) -> None:
        self.image = image
        self.cx = cx
        self.cy = cy
        self.unit = unit

    def px(self, u: float, v: float) -> tuple[int, int]:
        """Pixel coordinates of the face point (u, v)."""
        return (int(round(self.cx + u * self.unit)), int(round(self.cy + v * self.unit)))

    def thick(self, t: float) -> int:
        """A stroke thickness in pixels for a thickness in face units."""
        return max(1, int(round(t * self.unit)))

    def ellipse(
        self,
        u: float,
        v: float,
        ru: float,
        rv: float,
        color: float,
        thickness: float = -1.0,
        angle: float = 0.0,
        start: float = 0.0,
        end: float = 360.0,
    ) -> None:
        """An ellipse (filled if thickness < 0) centred on (u, v) with half-axes (ru, rv)."""
        axes = (max(1, int(round(ru * self.unit))), max(1, int(round(rv * self.unit))))
        t = -1 if thickness < 0 else self.thick(thickness)
        cv2.ellipse(
            self.image, self.px(u, v), axes, angle, start, end, float(color), t, cv2.LINE_AA
        )

    def polyline(self, points: Sequence[Point], color: float, thickness: float) -> None:
        """An open curve through the given face points."""
        pts = np.array([self.px(u, v) for u, v in points], dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(self.image, [pts], False, float(color), self.thick(thickness), cv2.LINE_AA)

    def polygon(self, points: Sequence[Point], color: float) -> None:
        """A filled polygon through the given face points."""
        pts = np.array([self.px(u, v) for u, v in points], dtype=np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(self.image, [pts], float(color), cv2.LINE_AA)


def _curve(u0: float, u1: float, v0: float, v1: float, sag: float, n: int = 17) -> list[Point]:
    """Points on a parabola from (u0, v0) to (u1, v1) whose middle is ``sag`` lower (image y
    down)."""
    out = []
    for i in range(n):
        t = i / (n - 1)
        out.append((u0 + (u1 - u0) * t, v0 + (v1 - v0) * t + 4.0 * sag * t * (1.0 - t)))
    return out


def _geometry(expression: str, rng: np.random.Generator) -> dict[str, float]:
    """Random feature geometry, in face units, for one face of the given expression.

    Each expression has its own combination of mouth, brows and eyes (as the facial
    action units of real expressions do), with ranges wide enough that two faces of one
    class never look the same.
    """
    u = rng.uniform
    g: dict[str, float] = {
        # Mouth: half-width, sag of the lip line (+ = smile, - = frown), openness.
        "mouth_w": u(0.30, 0.42),
        "mouth_sag": u(-0.03, 0.03),
        "mouth_open": 0.0,
        "mouth_round": 0.0,
        "teeth": 0.0,
        "clenched": 0.0,
        "lip_t": u(0.08, 0.10),
        # Brows: height above the eye, inner-end lift (+ = inner end higher), arch.
        "brow_h": u(0.28, 0.34),
        "brow_inner": u(-0.03, 0.03),
        "brow_arch": u(0.0, 0.05),
        "brow_t": u(0.11, 0.14),
        # Eyes: half-width, opening (height / width), lid slant (+ = outer end lower).
        "eye_w": u(0.14, 0.18),
        "eye_open": u(0.50, 0.70),
        "lid_slant": 0.0,
        "lid_drop": 0.0,
        "smile_eyes": 0.0,
        # Extras.
        "cheeks": 0.0,
        "frown_lines": 0.0,
        # Expression-free accessories, so that no single region of pixels gives the class away.
        "glasses": 1.0 if rng.random() < 0.2 else 0.0,
        "moustache": 1.0 if rng.random() < 0.12 else 0.0,
    }
    if expression == "happy":
        g["mouth_w"] = u(0.40, 0.55)
        g["mouth_sag"] = u(0.18, 0.32)
        if rng.random() < 0.5:
            g["mouth_open"] = u(0.4, 0.8)
            g["teeth"] = 1.0 if rng.random() < 0.7 else 0.0
        g["brow_h"] = u(0.32, 0.40)
        g["brow_inner"] = u(-0.02, 0.04)
        g["brow_arch"] = u(0.05, 0.10)
        g["eye_open"] = u(0.35, 0.60)
        g["smile_eyes"] = 1.0 if rng.random() < 0.3 else 0.0
        g["cheeks"] = 1.0 if rng.random() < 0.6 else 0.0
    elif expression == "sad":
        g["mouth_w"] = u(0.32, 0.44)
        g["mouth_sag"] = -u(0.18, 0.30)
        g["lip_t"] = u(0.09, 0.11)
        g["brow_h"] = u(0.28, 0.36)
        g["brow_inner"] = u(0.16, 0.26)
        g["brow_arch"] = u(-0.02, 0.03)
        g["eye_open"] = u(0.45, 0.65)
        g["lid_slant"] = u(0.10, 0.22)
        g["lid_drop"] = u(0.25, 0.45)
        if rng.random() < 0.25:
            g["mouth_open"] = u(0.3, 0.6)  # crying, an open frown
    elif expression == "angry":
        g["mouth_w"] = u(0.24, 0.34)
        g["mouth_sag"] = u(-0.04, 0.01)
        g["lip_t"] = u(0.10, 0.13)
        g["clenched"] = 1.0 if rng.random() < 0.35 else 0.0
        g["brow_h"] = u(0.16, 0.22)
        g["brow_inner"] = -u(0.20, 0.30)
        g["brow_arch"] = u(-0.02, 0.02)
        g["brow_t"] = u(0.13, 0.17)
        g["eye_open"] = u(0.30, 0.50)
        g["lid_slant"] = -u(0.10, 0.22)
        g["lid_drop"] = u(0.20, 0.40)
        g["frown_lines"] = 1.0 if rng.random() < 0.75 else 0.0
    elif expression == "surprise":
        g["mouth_w"] = u(0.14, 0.24)
        g["mouth_round"] = u(0.22, 0.36)
        g["brow_h"] = u(0.42, 0.52)
        g["brow_inner"] = u(-0.02, 0.04)
        g["brow_arch"] = u(0.10, 0.16)
        g["eye_w"] = u(0.15, 0.19)
        g["eye_open"] = u(0.80, 1.00)
    # "neutral" keeps the defaults.
    return g


def _draw_eye(
    c: _Canvas, side: int, g: dict[str, float], eye_v: float, skin: float, ink: float, white: float
) -> None:
    """One eye at u = side * 0.38: a white, a pupil, an outline and the expression's lid."""
    eu = side * 0.38
    ew = g["eye_w"]
    eh = ew * g["eye_open"]
    if g["smile_eyes"]:
        # A closed, smiling eye: an upward arc "^".
        c.polyline(_curve(eu - ew, eu + ew, eye_v + 0.03, eye_v + 0.03, -0.12), ink, 0.05)
        return
    c.ellipse(eu, eye_v, ew, eh, white)
    c.ellipse(eu, eye_v, min(eh, ew * 0.5) * 0.95, min(eh, ew * 0.5) * 0.95, ink)
    c.ellipse(eu, eye_v, ew, eh, ink, thickness=0.035)
    drop = g["lid_drop"]
    if drop > 0:
        # The upper lid covers the top of the eye with a slanted edge: the outer end lower
        # for sad (droopy), the inner end lower for angry (narrowed, glaring).
        top = eye_v - eh - 0.05
        inner_u, outer_u = eu - side * (ew + 0.04), eu + side * (ew + 0.04)
        edge = eye_v - eh + 2 * eh * drop
        inner_v = edge - g["lid_slant"] * ew
        outer_v = edge + g["lid_slant"] * ew
        c.polygon([(inner_u, top), (outer_u, top), (outer_u, outer_v), (inner_u, inner_v)], skin)
        c.polyline([(inner_u + side * 0.02, inner_v), (outer_u - side * 0.02, outer_v)], ink, 0.04)
    if g["cheeks"]:
        # Raised cheeks push a lower-lid line up under a happy eye.
        c.polyline(
            _curve(eu - ew, eu + ew, eye_v + eh + 0.06, eye_v + eh + 0.06, -0.04), ink, 0.025
        )


def _draw_brow(c: _Canvas, side: int, g: dict[str, float], eye_v: float, ink: float) -> None:
    """One eyebrow: a thick curve whose inner end rises (sad) or falls toward the nose (angry)."""
    base = eye_v - g["brow_h"]
    inner_u, outer_u = side * 0.12, side * 0.62
    inner_v = base - g["brow_inner"]
    outer_v = base + 0.2 * g["brow_inner"]
    c.polyline(_curve(inner_u, outer_u, inner_v, outer_v, -g["brow_arch"]), ink, g["brow_t"])


def _draw_mouth(
    c: _Canvas,
    g: dict[str, float],
    mouth_v: float,
    skin: float,
    ink: float,
    white: float,
    dark: float,
) -> None:
    """The mouth: a curved line, an open smile with teeth, or a round 'O'."""
    w = g["mouth_w"]
    if g["mouth_round"]:
        c.ellipse(0.0, mouth_v + 0.05, w, g["mouth_round"], dark)
        c.ellipse(0.0, mouth_v + 0.05, w, g["mouth_round"], ink, thickness=0.05)
        return
    sag = g["mouth_sag"]
    # The corners carry the curvature: a smile lifts them, a frown lowers them.
    corner_v = mouth_v - sag * 0.5
    if sag >= 0:
        upper = _curve(-w, w, corner_v, corner_v, sag * (1.0 - 0.6 * bool(g["mouth_open"])))
        lower = _curve(-w, w, corner_v, corner_v, sag + g["mouth_open"] * 0.25)
    else:
        upper = _curve(-w, w, corner_v, corner_v, sag)
        lower = _curve(
            -w,
            w,
            corner_v,
            corner_v,
            sag * (1.0 - 0.6 * bool(g["mouth_open"])) + g["mouth_open"] * 0.1,
        )
    if g["clenched"]:
        # Bared, clenched teeth: a flat band of teeth between tight lips.
        w += 0.06
        lower = _curve(-w, w, corner_v + 0.04, corner_v + 0.04, sag + 0.05)
        upper = _curve(-w, w, corner_v - 0.06, corner_v - 0.06, sag - 0.02)
        c.polygon(upper + lower[::-1], white)
        c.polyline(_curve(-w, w, corner_v - 0.01, corner_v - 0.01, sag + 0.015), ink, 0.025)
        for k in range(1, 6):
            x = -w + 2.0 * w * k / 6.0
            c.polyline([(x, corner_v - 0.055), (x, corner_v + 0.035)], ink, 0.02)
        c.polyline(upper + lower[::-1] + upper[:1], ink, 0.045)
    elif g["mouth_open"]:
        c.polygon(upper + lower[::-1], dark)
        if g["teeth"]:
            teeth_lower = [
                (pu, min(pv + 0.07, lv)) for (pu, pv), (_, lv) in zip(upper, lower, strict=True)
            ]
            c.polygon(upper + teeth_lower[::-1], white)
        c.polyline(upper + lower[::-1] + upper[:1], ink, 0.04)
    else:
        c.polyline(upper, ink, g["lip_t"])
    if g["cheeks"]:
        for side in (-1, 1):
            cu = side * (w + 0.06)
            c.polyline(
                _curve(cu, cu + side * 0.08, corner_v - 0.10, corner_v + 0.08, -0.03), ink, 0.03
            )


def _draw_upright(
    expression: str, rng: np.random.Generator, big: int, bg: float, skin: float
) -> np.ndarray:
    """The whole face drawn upright and centred on a ``big`` x ``big`` canvas."""
    img = np.full((big, big), bg, dtype=np.float32)
    unit = big * rng.uniform(0.42, 0.46)
    # Centre the features (brows to chin), not the head: a tight crop, as in face datasets.
    c = _Canvas(img, big / 2.0, big / 2.0 - 0.15 * unit, unit)
    head_v = rng.uniform(1.22, 1.36)  # head half-height / half-width

    ink = max(0.0, skin - rng.uniform(110.0, 150.0))  # brows, lids, lip lines
    dark = max(0.0, skin - rng.uniform(110.0, 160.0))  # inside of an open mouth
    white = min(255.0, skin + rng.uniform(15.0, 50.0))  # eye whites, teeth
    shade = skin - rng.uniform(25.0, 50.0)  # nose, ears, neck
    hair = float(
        np.clip(
            rng.choice([rng.uniform(10, 60), rng.uniform(60, 140), rng.uniform(150, 230)]), 0, 255
        )
    )

    # Neck and ears behind the head.
    c.polygon([(-0.45, 0.6), (0.45, 0.6), (0.55, 2.0), (-0.55, 2.0)], shade)
    for side in (-1, 1):
        c.ellipse(side * 0.98, -0.05, 0.14, 0.26, shade)
    # Hair: a cap behind the head, then the head, then the fringe over the forehead.
    has_hair = rng.random() < 0.8
    hairline = rng.uniform(-0.95, -0.72)
    if has_hair:
        c.ellipse(0.0, -0.12, 1.08, head_v * 0.98 + 0.05, hair, start=180, end=360)
    c.ellipse(0.0, 0.0, 1.0, head_v, skin)
    if has_hair:
        # The fringe: the part of the head above a curved hairline.
        top, bottom = [], []
        for x in np.linspace(-0.999, 0.999, 41):
            half = head_v * math.sqrt(1.0 - x * x)
            fringe = hairline + 0.25 * x * x
            if fringe > -half:
                top.append((float(x), -half))
                bottom.append((float(x), min(fringe, half)))
        if len(top) > 2:
            c.polygon(top + bottom[::-1], hair)

    g = _geometry(expression, rng)
    # Small per-face jitter of where features sit, so position alone gives nothing away.
    eye_v = rng.uniform(-0.25, -0.12)
    mouth_v = rng.uniform(0.50, 0.64)
    for side in (-1, 1):
        _draw_eye(c, side, g, eye_v, skin, ink, white)
    if g["glasses"]:
        frame = min(ink + rng.uniform(0.0, 60.0), skin - 40.0)
        r = rng.uniform(0.21, 0.25)
        for side in (-1, 1):
            c.ellipse(side * 0.38, eye_v + 0.02, r, r * 0.8, frame, thickness=0.03)
        c.polyline(_curve(-0.38 + r, 0.38 - r, eye_v, eye_v, -0.03, n=5), frame, 0.03)
    for side in (-1, 1):
        _draw_brow(c, side, g, eye_v, ink)
    if g["frown_lines"]:
        for side in (-1, 1):
            c.polyline([(side * 0.05, eye_v - 0.22), (side * 0.07, eye_v - 0.06)], ink, 0.025)
    # Nose: a bridge line and a base curve.
    nose_v = (eye_v + mouth_v) / 2.0 + 0.08
    c.polyline([(0.04, eye_v + 0.08), (0.08, nose_v)], shade, 0.035)
    c.polyline(_curve(-0.12, 0.12, nose_v, nose_v, 0.05), shade, 0.04)
    if g["moustache"]:
        top_v = (nose_v + mouth_v) / 2.0 - 0.02
        half = rng.uniform(0.28, 0.4)
        c.polygon(
            _curve(-half, half, top_v + 0.06, top_v + 0.06, -0.10)
            + _curve(half, -half, top_v + 0.10, top_v + 0.10, -0.04),
            min(hair, skin - 70.0),
        )
    _draw_mouth(c, g, mouth_v, skin, ink, white, dark)
    return img


def draw_face(expression: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Draw one varied face with the given expression; a uint8 image of shape (size, size).

    Everything random comes from ``rng``, so the same generator state gives the same image.
    """
    if expression not in EXPRESSIONS:
        raise ValueError(f"cannot draw {expression!r} (it draws: {', '.join(EXPRESSIONS)})")
    big = size * _OVERSAMPLE

    # Face and background intensities differ enough that the head stands out.
    skin = rng.uniform(130.0, 225.0)
    bg = rng.uniform(0.0, 255.0)
    if abs(bg - skin) < 35.0:
        bg = (
            skin - 35.0
            if skin - 35.0 >= 0.0 and (rng.random() < 0.5 or skin + 35.0 > 255.0)
            else skin + 35.0
        )
    img = _draw_upright(expression, rng, big, bg, skin)

    # Pose: rotation about the centre, scale, a slight turn (horizontal squash) and shift.
    angle = rng.uniform(-15.0, 15.0)
    scale = rng.uniform(0.78, 1.22)
    squash = rng.uniform(0.9, 1.0)
    shift = rng.uniform(-0.055, 0.055, size=2) * big
    m = cv2.getRotationMatrix2D((big / 2.0, big / 2.0), angle, scale).astype(np.float64)
    m[:, 0] *= squash
    centre = np.array([big / 2.0, big / 2.0])
    m[:, 2] = centre - m[:, :2] @ centre + shift
    img = cv2.warpAffine(
        img,
        m,
        (big, big),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=float(bg),
    )
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)

    # Lighting: contrast, brightness and a linear gradient in a random direction.
    contrast = rng.uniform(0.8, 1.15)
    brightness = rng.uniform(-25.0, 25.0)
    theta = rng.uniform(0.0, 2.0 * math.pi)
    amp = rng.uniform(0.0, 50.0)
    ramp = (np.arange(size, dtype=np.float32) - (size - 1) / 2.0) / size
    gradient = amp * (ramp[None, :] * math.cos(theta) + ramp[:, None] * math.sin(theta))
    img = (img - 128.0) * contrast + 128.0 + brightness + gradient

    # Camera: a little blur and sensor noise.
    sigma = rng.uniform(0.0, 0.8)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma)
    img = img + rng.normal(0.0, rng.uniform(2.0, 7.0), size=img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def tinted(face: np.ndarray, tint: Sequence[float]) -> np.ndarray:
    """A drawn gray face in colour: each channel is the face's level times the tint's share (red,
    green, blue, each 0 to 1), as uint8 RGB (size, size, 3)."""
    coloured = face[..., np.newaxis].astype(np.float32) * np.asarray(tint, np.float32)
    return np.clip(np.round(coloured), 0, 255).astype(np.uint8)


def drawable(name: str) -> bool:
    """Whether the generator can draw the class ``name`` (in any case, as folder names match)."""
    return name.lower() in EXPRESSIONS


def write_sample(
    out_dir: Path, p: SampleParams, classes: Sequence[str], extra_classes: Sequence[str] = ()
) -> dict[str, int]:
    """Write a synthetic sample so the pipeline can run without a download; return the count per
    class.

    Training faces go to ``out_dir/faces/<class>/<class>_<NNNN>.png`` for every class of ``classes``
    and ``extra_classes`` the generator can draw (the others are left out: a data set of your own
    has them), and unseen images for prediction of ``classes`` to ``out_dir/new/<class>_<N>.png``.
    Each class and part has its own random stream, derived from the seed and the class's position in
    ``EXPRESSIONS`` (not in ``classes``), so a class's images do not change when other classes are
    added or reordered, and ``new/`` images never repeat a training face.
    """
    out_dir = Path(out_dir)
    faces_dir = out_dir / "faces"
    new_dir = out_dir / "new"
    counts: dict[str, int] = {}
    for name in [*classes, *extra_classes]:
        if not drawable(name):
            continue
        expression = name.lower()
        index = EXPRESSIONS.index(expression)
        class_dir = faces_dir / name
        class_dir.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(np.random.SeedSequence([p.seed, index, _PART_FACES]))
        for i in range(p.per_class):
            write_png(class_dir / f"{name}_{i:04d}.png", draw_face(expression, rng, p.image_size))
        counts[name] = p.per_class
        if p.new_per_class and name in classes:
            new_dir.mkdir(parents=True, exist_ok=True)
            rng = np.random.default_rng(np.random.SeedSequence([p.seed, index, _PART_NEW]))
            for i in range(p.new_per_class):
                write_png(new_dir / f"{name}_{i}.png", draw_face(expression, rng, p.image_size))
    return counts
