"""What predict is given: files, folders (searched recursively) and glob patterns, expanded into
images and videos, each with the reason it cannot be read, if any."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from emotions.data.imaging import broken_link, is_image_file, listed

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv"}
)


def is_video_file(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def _found(path: Path) -> tuple[Path, str | None]:
    """A file listed in a folder or matched by a pattern; a link that leads nowhere is named as one
    rather than left out."""
    return path, broken_link(path)


def expand_inputs(items: Sequence[str]) -> list[tuple[Path, str | None]]:
    """Files, folders (searched recursively for images and videos) and glob patterns, each with an
    error or None."""
    found: list[tuple[Path, str | None]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if listed(p) and (is_image_file(p) or is_video_file(p))
            )
            found += [_found(p) for p in files] or [(path, "folder has no images or videos")]
        elif path.exists() or path.is_symlink():
            found.append(_found(path))
        elif glob.has_magic(item):
            matches = sorted(p for p in map(Path, glob.glob(item, recursive=True)) if listed(p))
            found += [_found(p) for p in matches] or [(path, "pattern matches no file")]
        else:
            found.append((path, "no such file or folder"))
    return found
