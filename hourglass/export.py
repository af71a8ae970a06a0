"""A trained model as one ONNX file: raw rows in, code, reconstruction and anomaly score out — for any runtime.

The graph is the checkpoint's whole pipeline, so a user of the ONNX file needs nothing of hourglass:

    x (N, D) in the data's own units ─(x − shift) / scale─▶ x_m ─f─▶ z ─g─▶ x̂_m ─x̂_m · scale + shift─▶ x̂
    score = ‖x_m − x̂_m‖²  (the squared error per row in the model's space, as ``hourglass score`` computes it)

For a VAE the code is the mean μ(x) of q(z|x) and x̂ decodes it (what ``hourglass encode`` / ``reconstruct`` give).
The batch axis is dynamic. The file's metadata (``metadata_props``) holds the hourglass version, the variant,
the architecture, the feature names of a table model, and the training-error quantiles that turn a score into a
percentile or an anomaly flag. Every export is checked before it is written: onnxruntime runs the graph on
sample rows and its outputs must match PyTorch's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ._version import __version__
from .errors import HourglassError
from .extras import needs
from .losses import squared_error_per_sample
from .store import checkpoint as ckpt
from .store.files import check_output, write_bytes

PARTS = {  # part → (input names, output names)
    "all": (["x"], ["code", "reconstruction", "score"]),
    "encoder": (["x"], ["code"]),
    "decoder": (["code"], ["reconstruction"]),
    "reconstruct": (["x"], ["reconstruction"]),
    "score": (["x"], ["score"]),
}
TOLERANCE = 1e-5  # largest |ONNX − PyTorch| allowed, relative to the largest |PyTorch| value of each output


class Deployed(nn.Module):
    """The checkpoint's model with its scaling folded in, computing the outputs of one of :data:`PARTS`.

    Inputs are float32 rows in the data's units: x (N, D), or for the decoder a code (N, k). Outputs: code (N, k),
    reconstruction (N, D) in the data's units, score (N,) in the model's space.
    """

    shift: torch.Tensor  # buffers: the training scaling, x_model = (x − shift) / scale
    scale: torch.Tensor

    def __init__(self, checkpoint: ckpt.Checkpoint, part: str = "all"):
        super().__init__()
        if part not in PARTS:
            raise HourglassError(f"unknown part {part!r}; expected one of {', '.join(PARTS)}", params=("part",))
        self.model, self.part = checkpoint.model.eval(), part
        scaling = checkpoint.scaling
        self.register_buffer("shift", torch.as_tensor(np.asarray(scaling.shift, dtype=np.float32)))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scaling.scale, dtype=np.float32)))

    def forward(self, x: torch.Tensor):
        if self.part == "decoder":
            return self.model.decode(x) * self.scale + self.shift
        x_model = (x - self.shift) / self.scale
        z = self.model.encode(x_model)
        if self.part == "encoder":
            return z
        x_hat = self.model.decode(z)
        reconstruction, score = x_hat * self.scale + self.shift, squared_error_per_sample(x_hat, x_model)
        return {"all": (z, reconstruction, score), "reconstruct": reconstruction, "score": score}[self.part]


def metadata(checkpoint: ckpt.Checkpoint, part: str) -> dict[str, str]:
    """The strings stored in the ONNX file's ``metadata_props`` (JSON where a value is structured)."""
    arch = checkpoint.model.architecture
    quantiles = (checkpoint.config.get("anomaly") or {}).get("train_error_quantiles")
    return {
        "producer": f"hourglass {__version__}",
        "hourglass_version": __version__,
        "part": part,
        "variant": checkpoint.variant,
        "model_kind": checkpoint.model.kind,
        "architecture": json.dumps(arch.to_dict()),
        "feature_names": json.dumps(checkpoint.data.get("columns") or [f"x{i + 1}" for i in range(arch.n_features)]),
        "input_units": "the data's own units: the training scaling is folded into the graph",
        "score": "squared reconstruction error per row, in the model's scaled space",
        "train_error_quantiles": json.dumps(quantiles or []),
        "data": json.dumps({k: v for k, v in checkpoint.data.items() if k != "columns"}, default=str),
    }


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter reports each stage and warns about optional packages (torchvision); none of it is the user's."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def sample_inputs(checkpoint: ckpt.Checkpoint, part: str, n: int = 64, seed: int = 0) -> np.ndarray:
    """Rows to check an export with: codes from N(0, I) for the decoder, else Gaussian rows in the model's space
    (clipped to [0, 1] for a Bernoulli model) mapped to the data's units."""
    rng = np.random.default_rng(seed)
    arch = checkpoint.model.architecture
    if part == "decoder":
        return rng.standard_normal((n, arch.latent_dim)).astype(np.float32)
    x_model = rng.standard_normal((n, arch.n_features))
    if checkpoint.model.output == "sigmoid":
        x_model = rng.random((n, arch.n_features))
    return checkpoint.scaling.inverse_transform(x_model)


def export_onnx(checkpoint, output: str | Path, part: str = "all", opset: int | None = None) -> dict:
    """Export ``checkpoint`` (a folder or a loaded checkpoint) to the ONNX file ``output`` (see the module's text).

    Returns the output path, the part, its input and output names, and ``max_relative_error``: the largest
    difference between onnxruntime and PyTorch on sample rows, per output relative to that output's largest value.

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    output : str or Path
        The .onnx file to write.
    part : str, optional
        "all" (codes, reconstruction and score), or one of them.
    opset : int, optional
        The ONNX opset; None: the exporter's default.

    Returns
    -------
    dict
        What was written and checked.
    """
    output = check_output(output, (".onnx",))
    onnx = needs("onnx", "hourglass export")
    needs("onnxscript", "hourglass export")  # what PyTorch's exporter builds the graph with
    ort = needs("onnxruntime", "hourglass export")  # what checks it against PyTorch
    checkpoint = checkpoint if isinstance(checkpoint, ckpt.Checkpoint) else ckpt.load(checkpoint)
    if getattr(getattr(checkpoint.model, "architecture", None), "noise_map", False):
        raise HourglassError(
            "this model is told its noise level as a map beside each image, which the exported graph's one input "
            "has no place for; clean photos with hourglass denoise",
            params=("checkpoint",),
        )
    module = Deployed(checkpoint, part)
    inputs, outputs = PARTS[part]
    example = torch.from_numpy(sample_inputs(checkpoint, part, n=4))
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            module,
            (example,),
            dynamo=True,
            input_names=inputs,
            output_names=outputs,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=opset,
            verbose=False,
        )
    assert program is not None  # dynamo=True always returns the program
    proto = program.model_proto
    for key, value in metadata(checkpoint, part).items():
        proto.metadata_props.add(key=key, value=value)
    blob = proto.SerializeToString()
    onnx.checker.check_model(onnx.load_from_string(blob))

    rows = sample_inputs(checkpoint, part)
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    got = session.run(outputs, {inputs[0]: rows})
    with torch.no_grad():
        want = module(torch.from_numpy(rows))
    want = [w.numpy() for w in (want if isinstance(want, tuple) else (want,))]
    error = max(float(np.abs(g - w).max() / max(np.abs(w).max(), 1e-12)) for g, w in zip(got, want, strict=True))
    if not error <= TOLERANCE:
        raise HourglassError(
            f"the exported graph differs from PyTorch by {error:.2g} (relative) on sample rows; "
            f"{output} was not written"
        )
    write_bytes(output, blob)
    return {
        "output": output,
        "part": part,
        "inputs": inputs,
        "outputs": outputs,
        "max_relative_error": error,
        "opset": next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None),
    }
