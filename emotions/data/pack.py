"""Pack a folder tree of images into a few tar files, so that DVC hashes a handful of files instead
of one per face (a packed source reads the same faces, in the same order).

    python -m emotions.data.pack FOLDER PACKED [--per-tar 10000]

Then set ``data.source: PACKED``. Each ``PACKED/part-NNNNN.tar`` holds up to ``--per-tar`` files at
their paths below FOLDER (``train/angry/x.png``); hidden files and links are left out. The files
are stored as they are (images are compressed already), with times, owners and modes fixed, so the
same tree packs to the same bytes.
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

from emotions.data.sources import visible_files
from emotions.errors import UserError, run_cli
from emotions.files import atomic_dir
from emotions.progress import progress

PER_TAR = 10_000
NAME = "part-{:05d}.tar"


def pack(folder: Path, target: Path, per_tar: int = PER_TAR) -> int:
    """Write ``target`` (replacing it whole, once complete) from the files below ``folder``; the
    number of files packed."""
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder to pack")
    if target.resolve().is_relative_to(folder.resolve()):
        raise UserError(f"{target}: must not lie inside {folder}")
    count = 0
    with atomic_dir(target) as tmp:
        archive: tarfile.TarFile | None = None
        for path in progress(visible_files(folder), "pack", unit="file"):
            if path.is_symlink() or not path.is_file():
                continue
            if archive is None or count % per_tar == 0:
                if archive is not None:
                    archive.close()
                archive = tarfile.open(
                    tmp / NAME.format(count // per_tar), "w", format=tarfile.PAX_FORMAT
                )
            info = archive.gettarinfo(str(path), arcname=path.relative_to(folder).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = (
                0,
                0,
                0,
                "",
                "",
                0o644,
            )
            with path.open("rb") as handle:
                archive.addfile(info, handle)
            count += 1
        if archive is not None:
            archive.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("packed", type=Path)
    parser.add_argument(
        "--per-tar", type=int, default=PER_TAR, help=f"files per tar file (default {PER_TAR})"
    )
    args = parser.parse_args()
    if args.per_tar < 1:
        parser.error("--per-tar must be at least 1")
    count = pack(args.folder, args.packed, args.per_tar)
    archives = -(-count // args.per_tar)
    print(f"pack: {count} files into {args.packed} ({archives} tar file{'s' * (archives != 1)})")


if __name__ == "__main__":
    run_cli(main)
