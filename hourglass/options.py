"""What each option may be, stated once: the config dataclasses check their fields with it, the config files check
their keys and types with it, and the CLI takes its ``choices`` from it — so a new option touches one place."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from .errors import HourglassError


@dataclass(frozen=True)
class Allowed:
    """The values an option may take: one of ``choices``; or a number (a whole number if ``whole``) of at least
    ``minimum`` / more than ``above``; ``None`` too if ``optional``."""

    choices: tuple | None = None
    whole: bool = False
    minimum: float | None = None
    above: float | None = None
    below: float | None = None
    optional: bool = False

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (None: nothing)."""
        if value is None:
            return None if self.optional else "must be given"
        if self.choices is not None:
            return None if value in self.choices else f"must be one of {', '.join(map(str, self.choices))}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a {'whole ' if self.whole else ''}number"
        if self.whole and not isinstance(value, int):
            return "must be a whole number"
        if not math.isfinite(value):
            return "must be a finite number"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}"
        if self.above is not None and value <= self.above:
            return f"must be more than {self.above:g}"
        if self.below is not None and value >= self.below:
            return f"must be less than {self.below:g}"
        return None

    def sklearn(self) -> list:
        """The same rule as scikit-learn's parameter constraints (``_parameter_constraints``)."""
        import numbers

        from sklearn.utils._param_validation import Interval, StrOptions

        if self.choices is not None:
            rules: list = [StrOptions(set(self.choices))]
        else:
            kind = numbers.Integral if self.whole else numbers.Real
            low = self.minimum if self.minimum is not None else self.above
            closed = "left" if self.minimum is not None else "neither"  # `below` and `above` are strict
            rules = [Interval(kind, low, self.below, closed=closed)]
        return rules + ([None] if self.optional else [])


def check(config, allowed: dict[str, Allowed] | None = None) -> None:
    """Refuse the first field of the dataclass ``config`` that ``allowed`` (default: the fields' own rules, stated
    with :func:`option`) does not allow, naming it and its value."""
    allowed = rules(type(config)) if allowed is None else allowed
    for f in fields(config):
        rule = allowed.get(f.name)
        value = getattr(config, f.name)
        if rule is not None and (problem := rule.problem(value)) is not None:
            raise HourglassError(f"{f.name} {problem}, got {value!r}", params=(f.name,))
        if value is not None and (validate := f.metadata.get("validate")) is not None:
            validate(value)


def option(
    default: Any,
    allowed: Allowed | None = None,
    help: str = "",
    metavar: str | None = None,
    validate: Callable[[Any], object] | None = None,
) -> Any:
    """A config field stated once: its default, the values it may take and its help text, from which the
    dataclass's check, the run files' check, the CLI's flag and the estimators' parameter constraints are all
    derived (``help`` may use ``%(default)s``). ``validate``: a parser of a given value that raises
    :class:`HourglassError` on a bad one (a noise spec), run by the dataclass and the flag alike."""
    metadata = {"allowed": allowed, "help": help, "metavar": metavar, "validate": validate}
    return field(default=default, metadata=metadata)


def rules(config_class) -> dict[str, Allowed]:
    """The :class:`Allowed` of each field of ``config_class`` that states one."""
    return {f.name: f.metadata["allowed"] for f in fields(config_class) if f.metadata.get("allowed") is not None}


def documented(config_class):
    """Append to ``config_class``'s docstring a numpydoc ``Parameters`` section made from its fields' types,
    defaults and help (:func:`option`), so a config's parameters are described once, where they are declared."""
    lines = ["", "Parameters", "----------"]
    for f in fields(config_class):
        help_ = f.metadata.get("help")
        if not help_:
            continue
        kind = str(f.type).replace(" | None", " or None").replace("tuple[int, ...]", "tuple of int")
        default = f.default if f.default is not MISSING else None
        lines.append(f"{f.name} : {kind}, default {default!r}")
        text = help_.replace(" (default %(default)s)", "").replace("%(default)s", repr(default))
        lines += ["    " + line for line in textwrap.wrap(text + ".", 112)]
    config_class.__doc__ = (config_class.__doc__ or "").rstrip() + "\n" + textwrap.indent("\n".join(lines), "    ")
    return config_class
