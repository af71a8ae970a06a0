"""The docs' generated pages, so that none can fall behind the code: the API page from ``hourglass.__all__``
grouped by room (and the names one module deeper that the guides use), the command-line page from the parser
itself, every command and every option with its help and default. ``docs/gen_reference.py`` writes them when the
site is built (mkdocs-gen-files)."""

from __future__ import annotations

import argparse
import inspect

# The rooms, in the order data flows, each with the modules it holds (a name's room is its defining module's).
ROOMS = {
    "A run, and the whole journey in one call": ("hourglass.run", "hourglass.workflow"),
    "Data": ("hourglass.data", "hourglass.scaling"),
    "Networks and models": ("hourglass.nets", "hourglass.models", "hourglass.quantizers"),
    "Objectives: corruptions, penalties, losses, variants": (
        "hourglass.corruptions",
        "hourglass.penalties",
        "hourglass.losses",
        "hourglass.variants",
    ),
    "Training": ("hourglass.training",),
    "Run folders and checkpoints": ("hourglass.store",),
    "Priors on the codes": ("hourglass.priors",),
    "Measures, scores and explanations": ("hourglass.metrics", "hourglass.pca", "hourglass.scoring"),
    "Using a trained model": (
        "hourglass.use",
        "hourglass.sampling",
        "hourglass.denoising",
        "hourglass.maps",
        "hourglass.tiling",
        "hourglass.pretrained",
    ),
    "Export, MLflow and serving": ("hourglass.export", "hourglass.mlflow_model", "hourglass.service"),
    "The latent explorer": ("hourglass.explorer",),
    "The textbook's claims": ("hourglass.experiments",),
    "scikit-learn": ("hourglass.sklearn",),
    "Errors": ("hourglass.errors",),
}
# Names the guides use that are one module deeper than ``import hourglass`` (module → its members shown).
DEEPER = {
    "hourglass.run": ("read", "recorded", "to_toml"),
    "hourglass.data.spec": ("TableOptions", "PatchOptions", "TrainingData", "open_data"),
    "hourglass.data.mnist": ("fetch_mnist",),
    "hourglass.quantizers": ("VectorQuantizer", "FiniteScalarQuantizer", "CODEBOOK_INITS", "LOOKUPS"),
    "hourglass.training.loggers": ("CSVLogger", "TensorBoardLogger", "MLflowLogger", "Logger"),
    "hourglass.training.threads": ("ShareCores",),
    "hourglass.priors": ("AutoregressivePrior", "check_fits", "saved_prior", "KINDS", "EPOCHS"),
    "hourglass.use": ("encode_file", "reconstruct_file", "score_file", "denoise_file"),
    "hourglass.sampling": ("sample_file", "sampler"),
    "hourglass.denoising": ("denoise_photos", "estimate_sigma"),
    "hourglass.maps": ("score_images", "anomaly_map", "squared_error_map", "ssim_map", "heat_map", "MAP_KINDS"),
    "hourglass.tiling": ("reconstruct_tiled", "tile_plan", "blend_window"),
    "hourglass.pretrained": ("load_builtin", "verified_folder"),
    "hourglass.scoring": ("explanation_shares",),
    "hourglass.mlflow_model": ("predict", "log_run_model", "RunModel", "OUTPUTS"),
    "hourglass.sklearn": ("AutoencoderTransformer", "AutoencoderOutlierDetector"),
}


def room_of(module: str) -> str:
    """The heading of the room that holds ``module`` (its longest matching prefix)."""
    for heading, modules in ROOMS.items():
        if any(module == m or module.startswith(m + ".") for m in modules):
            return heading
    raise KeyError(f"{module} is in no room of the API page: add it to ROOMS")


def public_names() -> dict[str, str]:
    """Each name ``import hourglass`` exports (but ``__version__``) → the dotted path it is defined at."""
    import hourglass

    paths = {}
    for name in hourglass.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(hourglass, name)
        paths[name] = f"{obj.__module__}.{obj.__qualname__}"
    return paths


def api_entries() -> dict[str, list[str]]:
    """Room heading → the dotted names its section renders: the exported names, then the deeper ones."""
    entries: dict[str, list[str]] = {heading: [] for heading in ROOMS}
    for path in public_names().values():
        entries[room_of(path.rpartition(".")[0])].append(path)
    for module, members in DEEPER.items():
        for member in members:
            path = f"{module}.{member}"
            if path not in entries[room_of(module)]:
                entries[room_of(module)].append(path)
    return {heading: paths for heading, paths in entries.items() if paths}


def api_page() -> str:
    """The API reference in Markdown: one mkdocstrings ``:::`` block per name, a section per room."""
    lines = [
        "# API reference",
        "",
        "Generated from `hourglass.__all__` and the docstrings, a section per room in the order data flows. "
        "`import hourglass as hg` gives every name under its short form (`hg.fit`, `hg.ModelConfig`, "
        "`hg.VQVAE`, …); each section ends with the names one module deeper that the guides use.",
        "",
    ]
    for heading, paths in api_entries().items():
        lines += [f"## {heading}", ""]
        for path in paths:
            lines += [f"::: {path}", "    options:", "      show_root_full_path: false", ""]
    return "\n".join(lines)


def _commands(parser: argparse.ArgumentParser, prefix: str):
    """(name, parser) for every command under ``parser``, depth first (``data fetch`` under ``data``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from _commands(sub, f"{prefix} {name}")


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def cli_page() -> str:
    """The command-line reference in Markdown: each command's usage, description and options, from the parser."""
    from . import build_parser

    parser = build_parser()
    lines = [
        "# Command-line reference",
        "",
        "Generated from `hourglass`'s own parser: every command and every option, with its help and default, as "
        "`hourglass COMMAND --help` prints them. A wrong flag, value or argument is one line on stderr and exit "
        "status 2.",
        "",
    ]
    for name, sub in _commands(parser, "hourglass"):
        formatter = sub._get_formatter()
        lines += [f"## `{name}`", "", "```", sub.format_usage().strip(), "```", ""]
        if sub.description:
            lines += [inspect.cleandoc(sub.description), ""]
        rows = []
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help is None:
                continue
            flags = ", ".join(action.option_strings) or action.metavar or action.dest
            if action.option_strings and action.nargs != 0:
                flags += f" {formatter._format_args(action, formatter._get_default_metavar_for_optional(action))}"
            rows.append(f"| `{_cell(flags)}` | {_cell(formatter._expand_help(action))} |")
        if rows:
            lines += ["| argument | meaning |", "|---|---|", *rows, ""]
    return "\n".join(lines)
