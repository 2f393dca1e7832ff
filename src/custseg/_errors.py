"""The exceptions custseg raises; the CLI turns each into a one-line message."""


class CustsegError(Exception):
    """Base class of every error custseg reports to a user."""

    exit_code = 1


class DataError(CustsegError, ValueError):
    """The input data cannot be used (missing file, bad column, bad value)."""

    exit_code = 1


class UsageError(CustsegError, ValueError):
    """The options are inconsistent or invalid (bad k range, unknown preset)."""

    exit_code = 2


class Interrupted(CustsegError):
    """Ctrl-C or SIGTERM stopped a command that first put its work in order (a push reads its jobs back)."""

    exit_code = 130


class EngineError(CustsegError, RuntimeError):
    """The data engine failed for a reason that is not the input (a setting it refused, a failure of its own)."""

    exit_code = 1


class NotFittedError(CustsegError, ValueError, AttributeError):
    """A model method was called before `fit`."""

    exit_code = 2


def check_param(owner: str, name: str, value, kind: type, low: float, high: float = float("inf")) -> None:
    """Raise UsageError unless `value` is a `kind` (not a bool) in [low, high], scikit-learn style.

    >>> check_param("Segmenter", "n_init", 10, int, 1)
    """
    if not isinstance(value, kind) or isinstance(value, bool) or not low <= value <= high:
        raise UsageError(f"The {name!r} parameter of {owner} must be {kind.__name__} in [{low}, {high}]; got {value!r} instead.")
