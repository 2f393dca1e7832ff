"""What every CLI command shares: turning library errors into one line and an exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from .._errors import CustsegError

console = Console(highlight=False)
error_console = Console(stderr=True, highlight=False)


@contextmanager
def reported_errors(debug: bool = False) -> Iterator[None]:
    """Run a command body; a custseg error becomes `Error: ...` and its exit code."""
    try:
        yield
    except CustsegError as exc:
        if debug:
            raise
        error_console.print(f"Error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        error_console.print("Interrupted.", markup=False)
        raise typer.Exit(130) from None
    except OSError as exc:
        if debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        error_console.print(f"Error:{where} {exc.strerror or exc}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None


def split_list(text: str | None) -> tuple[str, ...] | None:
    """'a, b,c' -> ('a', 'b', 'c'); None stays None."""
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else None
