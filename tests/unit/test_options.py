"""Options stated once: every field of the run's dataclasses has its flag on ``hourglass train``, with the field's
default and help, and the flag refuses exactly what the dataclass refuses and accepts what it accepts."""

from __future__ import annotations

import math
from dataclasses import MISSING, fields

import pytest

from hourglass.cli import build_parser
from hourglass.cli.train import NOT_FLAGS, flag
from hourglass.data import PatchOptions, TableOptions
from hourglass.errors import HourglassError
from hourglass.training.config import TrainConfig
from hourglass.variants import VAE_OPTIONS, VQ_OPTIONS, ModelConfig

CONFIGS = (ModelConfig, TrainConfig, TableOptions, PatchOptions)
FIELDS = [(c, f) for c in CONFIGS for f in fields(c) if f.name not in NOT_FLAGS]
# Other options a field needs beside it to be taken at all (the VAE's options need model vae, a codebook's a
# codebook), so that the comparison is about the field's own values.
COMPANIONS = {**{name: {"model": "vae"} for name in VAE_OPTIONS}, **{name: {"codebook": 8} for name in VQ_OPTIONS}}


def candidates(f) -> list[str]:
    """Texts to type for field ``f``: its allowed values and their neighbours, every boundary and its sides,
    words and numbers of the wrong kind."""
    rule = f.metadata.get("allowed")
    texts = ["", "x", "nan", "inf", "-inf", "1e400", "0", "1", "-1", "2", "1.5", "0.5", "3,4", "8,0"]
    if rule is not None and rule.choices is not None:
        texts += [str(c) for c in rule.choices] + ["AUTO", "none", "True"]
    if rule is not None:
        for bound in (rule.minimum, rule.above, rule.below):
            if bound is not None:
                texts += [repr(bound + d) for d in (-1, -0.5, -1e-9, 0, 1e-9, 0.5, 1)]
                texts += [str(int(bound) + d) for d in (-1, 0, 1)]
    return list(dict.fromkeys(texts))


def flag_takes(parser, f, text: str):
    """The value the flag gives for ``text``, or None when argparse refuses it."""
    args = ["train", "digits", f"{flag(f.name)}={text}"]  # one token: argparse reads "-1" after a flag as a flag
    try:
        return True, getattr(parser.parse_args(args), f.name)
    except SystemExit:
        return False, None


def config_takes(config_class, f, value) -> bool:
    try:
        config_class(**{**COMPANIONS.get(f.name, {}), f.name: value})
    except HourglassError:
        return False
    return True


def as_field_value(f, text: str):
    """What a run file (TOML) could hold for ``text``, in the field's type; None when it cannot be that type."""
    kind = str(f.type).replace(" | None", "")
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            value = float(text)
            return value
        if kind.startswith("tuple[int"):
            return tuple(int(v) for v in text.split(",") if v)
    except ValueError:
        return None
    return text


@pytest.fixture(scope="module")
def parser():
    return build_parser()


@pytest.mark.parametrize(("config_class", "f"), FIELDS, ids=[f"{c.__name__}.{f.name}" for c, f in FIELDS])
def test_each_field_has_its_flag_with_its_default_and_help(parser, config_class, f):
    train = parser._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    actions = {a.dest: a for a in train._actions}
    assert f.name in actions, f"{config_class.__name__}.{f.name} has no flag"
    action = actions[f.name]
    assert flag(f.name) in action.option_strings
    assert action.help and action.help == f.metadata["help"]
    default = f.default if f.default is not MISSING else None
    assert action.default == default
    rule = f.metadata.get("allowed")
    if rule is not None and rule.choices is not None and not str(f.type).startswith("bool"):
        assert tuple(action.choices) == tuple(rule.choices)


VALUED = [(c, f) for c, f in FIELDS if not str(f.type).startswith("bool")]  # the switches are --x and --no-x


@pytest.mark.parametrize(("config_class", "f"), VALUED, ids=[f"{c.__name__}.{f.name}" for c, f in VALUED])
def test_each_flag_refuses_exactly_what_its_field_refuses(parser, config_class, f, capsys):
    for text in candidates(f):
        taken, value = flag_takes(parser, f, text)
        capsys.readouterr()
        if taken:
            assert config_takes(config_class, f, value), f"{flag(f.name)} {text!r} passed the flag, not the config"
            continue
        typed = as_field_value(f, text)
        if typed is None or (isinstance(typed, float) and not math.isfinite(typed) and "allowed" in f.metadata):
            continue  # not a value of the field's type: a run file could not hold it either
        assert not config_takes(config_class, f, typed), f"{flag(f.name)} refused {text!r}, which the config takes"


def test_switches_set_and_clear_their_field(parser):
    for _, f in FIELDS:
        if not str(f.type).startswith("bool"):
            continue
        on = parser.parse_args(["train", "digits", flag(f.name)])
        off = parser.parse_args(["train", "digits", "--no-" + flag(f.name)[2:]])
        assert getattr(on, f.name) is True and getattr(off, f.name) is False, f.name


def test_a_bad_flag_says_the_rule_in_one_line(parser, capsys):
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["train", "digits", "--codebook", "1"])
    assert exit_.value.code == 2
    assert "must be at least 2, got 1" in capsys.readouterr().err
