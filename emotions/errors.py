"""User-facing errors: one clear line, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn


class UserError(Exception):
    """A problem with the user's input (a file, a folder or a parameter), not a bug."""


EXIT_USER_ERROR = 2


def error_line(message: str) -> str:
    """``error: message``; under ``dvc repro`` with how to get back the outputs DVC removed before
    running the stage."""
    stage = os.environ.get("DVC_STAGE")  # set by DVC for a stage's command
    if stage:
        message += (
            f" (DVC removed stage {stage!r}'s outputs before running it: "
            f"`dvc checkout {stage}` brings back the last ones in dvc.lock)"
        )
    return f"error: {message}"


def fail(message: str) -> NoReturn:
    """Print the error line to stderr and exit with the user-error code."""
    print(error_line(message), file=sys.stderr)
    raise SystemExit(EXIT_USER_ERROR)


def run_cli(main: Callable[[], None]) -> None:
    """Run a stage's ``main``; a ``UserError`` becomes one line on stderr, not a traceback."""
    try:
        main()
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
    except UserError as err:
        fail(str(err))
    except KeyboardInterrupt:
        fail("interrupted")
    except BrokenPipeError:  # the reader left (`... | head`): stop quietly, as Unix tools do
        os.dup2(
            os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno()
        )  # so the flush at exit cannot fail again
        raise SystemExit(1) from None
