"""The exceptions custseg raises; the CLI turns each into a one-line message."""


class CustsegError(Exception):
    """Base class of every error custseg reports to a user."""

    exit_code = 1


class DataError(CustsegError):
    """The input data cannot be used (missing file, bad column, bad value)."""

    exit_code = 1


class UsageError(CustsegError):
    """The options are inconsistent or invalid (bad k range, unknown preset)."""

    exit_code = 2


class NotFittedError(CustsegError, ValueError):
    """A model method was called before `fit`."""

    exit_code = 2
