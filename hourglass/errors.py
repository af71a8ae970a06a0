"""The one exception hourglass raises for problems with the user's input, files or options."""

from __future__ import annotations


class HourglassError(ValueError):
    """A problem the user can fix, said in one line: what (file, field, parameter), what was found, what was expected.

    Messages name parameters as the Python API spells them (``latent_dim``); ``params`` lists the names a message
    mentions, so that a front end can say them its own way (the CLI prints ``--latent-dim`` and exits with status 2).
    """

    def __init__(self, message: str, *, params: tuple[str, ...] | list[str] = ()):
        super().__init__(message)
        self.params = tuple(params)


class TrainingDiverged(HourglassError):
    """The loss became NaN or infinite; the model holds the last good weights. ``history`` has the epochs run."""

    def __init__(self, message: str, history=None, *, params: tuple[str, ...] = ()):
        super().__init__(message, params=params)
        self.history = history
