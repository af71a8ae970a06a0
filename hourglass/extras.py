"""Optional dependencies: each feature beyond the core comes from an extra of the ``hourglass-ae`` package, and a
feature used without its extra says so in one line (``import hourglass`` imports none of them).

    tables       pandas, pyarrow              CSV and Parquet files, CSV outputs
    export       onnx, onnxscript, onnxruntime   hourglass export
    serve        fastapi, uvicorn             hourglass serve
    plots        matplotlib                   figures: --png, diagram, demo, claims
    tensorboard  tensorboard                  TensorBoardLogger, --log tensorboard
    mlflow       mlflow                       MLflowLogger, --log mlflow
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import HourglassError

OPTIONAL = {
    "pandas": "tables", "pyarrow": "tables", "onnx": "export", "onnxscript": "export", "onnxruntime": "export",
    "fastapi": "serve", "uvicorn": "serve", "matplotlib": "plots", "tensorboard": "tensorboard", "mlflow": "mlflow",
}  # fmt: skip


def needs(module: str, what: str) -> ModuleType:
    """``module`` imported, or one line naming the extra that brings it: "``what`` needs the 'tables' extra: pip
    install 'hourglass-ae[tables]'"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = OPTIONAL[module.split(".")[0]]
        raise HourglassError(f"{what} needs the '{extra}' extra: pip install 'hourglass-ae[{extra}]'") from None
