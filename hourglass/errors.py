"""The one exception hourglass raises for problems with the user's input, files or options."""


class HourglassError(ValueError):
    """A problem the user can fix, said in one line: what (file, field, option), what was found, what was expected.

    The CLI prints it as ``hourglass: error: <message>`` and exits with status 2; library callers catch it.
    """


class TrainingDiverged(HourglassError):
    """The loss became NaN or infinite; the model holds the last good weights. ``history`` has the epochs run."""

    def __init__(self, message: str, history=None):
        super().__init__(message)
        self.history = history
