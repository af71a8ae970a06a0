"""Trained checkpoints that the export, service and explorer tests share: small real runs on digits and a table."""

import numpy as np
import pandas as pd
import pytest

from hourglass.data import DataSpec, TableOptions
from hourglass.training.loop import TrainConfig
from hourglass.workflow import ModelConfig, train


def customers(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A table with an ID column, three numeric columns on a curve, and a categorical column."""
    rng = np.random.default_rng(seed)
    t = rng.random(n)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(n)],
            "spend": 100 * t + rng.normal(0, 1, n),
            "visits": 20 * t**2 + rng.normal(0, 0.2, n),
            "basket": 5 + 3 * np.sin(3 * t) + rng.normal(0, 0.05, n),
            "region": rng.choice(["north", "south"], n),
        }
    )


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """name → checkpoint folder: "mlp", "conv" and "vae" on digits (8×8 images), "table" on :func:`customers`."""
    root = tmp_path_factory.mktemp("trained")
    tc = TrainConfig(epochs=25, batch_size=64, progress=False)  # enough for codes that decode to distinct digits
    configs = {
        "mlp": ModelConfig(latent_dim=2),
        "conv": ModelConfig(arch="conv", widths=(8, 16), latent_dim=3),
        "vae": ModelConfig(model="vae", latent_dim=3),
    }
    for name, mc in configs.items():
        train("digits", mc, tc, out=root / name)
    customers().to_csv(root / "customers.csv", index=False)
    table = TableOptions(id_column="customer_id", one_hot=True)
    train(DataSpec(root / "customers.csv", table=table), ModelConfig(latent_dim=2, widths=(16, 8)), tc, root / "table")
    return {name: root / name for name in (*configs, "table")} | {"customers.csv": root / "customers.csv"}
