"""Errors the user can fix. The CLI turns each into one red line and exit code 2."""


class UserError(Exception):
    """Bad input: a missing file, a wrong shape, a bad recipe key. The message says what to do.

    The message is always one line: text quoted from a library (a parser's multi-line report) is joined
    with "; ", so the CLI's one ``error:`` line holds all of it.
    """

    def __str__(self) -> str:
        lines = [line.strip() for line in super().__str__().splitlines()]
        return "; ".join(line for line in lines if line) or f"{type(self).__name__} (no details given)"


class ConfigError(UserError):
    """A recipe or override that does not validate; the message names the key path."""


class DataError(UserError):
    """Data that cannot be read or used as the recipe asks."""


class CheckpointError(UserError):
    """A checkpoint that does not fit the model, data or class list it is used with."""


class TrainingError(UserError):
    """Training that cannot go on (e.g. a NaN loss); the run folder and last good checkpoint are kept."""

    keep_run = True
