"""The one exception hourglass raises for problems with the user's input, files or options."""

from __future__ import annotations


class HourglassError(ValueError):
    """A problem the user can fix, said in one line: what (file, field, parameter), what was found, what was expected.

    Messages name parameters as the Python API spells them (``latent_dim``); ``params`` lists the names a message
    mentions, so that a front end can say them its own way (the CLI prints ``--latent-dim`` and exits with status 2).

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    params : tuple[str, ...] or list[str], optional
        The parameters the message names, as the Python API spells them (a front end says them its own way: the CLI as
        flags).
    """

    def __init__(self, message: str, *, params: tuple[str, ...] | list[str] = ()):
        super().__init__(message)
        self.params = tuple(params)


class TrainingDiverged(HourglassError):
    """The loss became NaN or infinite; the model holds the last good weights. ``history`` has the epochs run.

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    history
        The epochs run before the loss went bad.
    params : tuple[str, ...], optional
        The parameters the message names, as the Python API spells them (a front end says them its own way: the CLI as
        flags).
    """

    def __init__(self, message: str, history=None, *, params: tuple[str, ...] = ()):
        super().__init__(message, params=params)
        self.history = history
