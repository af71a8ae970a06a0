"""The textbook's claims about autoencoders, each run on real data and judged against a criterion stated in advance.

Every claim is a function ``claim(lab) -> Claim``: it trains (or reuses) the models it needs through the
:class:`~hourglass.experiments.lab.Lab`, measures, draws its figures and returns :class:`Check` s — a metric, the
measured value, the criterion and whether it was met. :func:`run_claims` runs them all and writes ``claims.json``
and a self-contained ``report.html``.

Units: reconstruction errors are squared errors per image (summed over the 784 pixels in [0, 1], averaged over
the MNIST test set), as in Hinton & Salakhutdinov (2006).
"""

from __future__ import annotations

import json
import math
import platform
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import files
from .._version import __version__
from ..checkpoint import read_config
from ..corruptions import parse_noise
from ..data import Dataset, load_manifold
from ..demo import one_per_class
from ..metrics import (code_sparsity, compare_with_pca, corrupt, encode, fit_code_gaussian, mean_jacobian_norm,
                       psnr, reconstruct, squared_errors)
from ..nets import Architecture
from ..pca import PCABaseline
from ..report import (hourglass_diagram, image_grid, latent_scatter, layer_sizes, line_plot, point_clouds_3d,
                      score_quiver)
from ..workflow import RECOMMENDED, ModelConfig
from . import classifier as clf
from .lab import FULL, QUICK, Lab
from .measures import (knn_accuracy, laplacian_variance, mixture_dataset, perturbation_ratio, principal_subspace,
                       prior_coverage, score_accuracy, score_model_config)


# ----------------------------------------------------------------------------------------------------- the record


@dataclass
class Check:
    """One criterion: ``metric`` measured as ``value``, judged by ``criterion`` (e.g. "≤ 2").

    judged: False when the quick run is too small for this criterion; the value is reported, not judged.
    """

    metric: str
    value: float | None
    criterion: str
    passed: bool
    judged: bool = True

    def to_dict(self) -> dict:
        return {"metric": self.metric, "value": _plain(self.value), "criterion": self.criterion,
                "verdict": ("PASS" if self.passed else "FAIL") if self.judged else "NOT JUDGED"}


def at_most(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"≤ {bound:g}", bool(value <= bound), judged)


def at_least(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"≥ {bound:g}", bool(value >= bound), judged)


def below(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"< {bound:g}", bool(value < bound), judged)


def above(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"> {bound:g}", bool(value > bound), judged)


@dataclass
class Figure:
    path: Path
    caption: str


@dataclass
class Claim:
    """One claim's outcome: what it says, its checks, the other measurements, figures and wall-clock seconds."""

    number: int
    title: str
    statement: str
    checks: list[Check] = field(default_factory=list)
    measurements: dict = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def verdict(self) -> str:
        """PASS when every judged check passed, FAIL when one did not, ERROR when the experiment broke, NOT JUDGED
        when the (quick) run judged nothing."""
        if self.error:
            return "ERROR"
        judged = [c for c in self.checks if c.judged]
        if not judged:
            return "NOT JUDGED"
        return "PASS" if all(c.passed for c in judged) else "FAIL"

    @property
    def headline(self) -> Check | None:
        """The check to quote for the claim: the first that failed, else the first."""
        failed = [c for c in self.checks if c.judged and not c.passed]
        return (failed or self.checks or [None])[0]

    def to_dict(self, root: Path) -> dict:
        main = self.headline or Check("", None, "", False, False)
        return {"claim": self.number, "title": self.title, "statement": self.statement,
                "metric": main.metric, "value": main.value, "criterion": main.criterion, "verdict": self.verdict,
                "seconds": round(self.seconds, 1), "checks": [c.to_dict() for c in self.checks],
                "measurements": _plain(self.measurements), "notes": self.notes, "error": self.error,
                "figures": [{"file": str(f.path.relative_to(root)), "caption": f.caption} for f in self.figures]}


def _plain(value):
    """Numbers, strings, lists and dicts only (NumPy scalars become floats; arrays are left out)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, np.ndarray)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


# -------------------------------------------------------------------------------------------- shared ingredients

FAMILY_WIDTHS = (256, 64)  # the MLP hourglass 784→256→64→k used across k (claims 2, 6, 9)
FAMILY_KS = (2, 4, 8, 16, 30)
REFERENCE = {"widths": (512, 256), "latent_dim": 16}  # one architecture for AE, DAE and VAE (claims 4, 7, 8)
SAE_WIDTHS, SAE_CODE = (512,), 1000  # the recommended overcomplete sparse autoencoder, 784→512→1000 (ReLU)
SAE_LAMBDAS = (0.01, 0.03, 0.1, 0.3)
CAE_LAMBDAS = (0.01, 0.1, 1.0)
NOISES = ("gaussian:0.5", "mask:0.5", "salt-and-pepper:0.3")
HINTON_PCA_30, HINTON_DEEP_30 = 13.87, 3.00  # Hinton & Salakhutdinov (2006), Science 313(5786), 504–507
TIME_LIMIT_S = 15 * 60
DIAGRAMS = ("linear-k16", "ae-mlp-k2", "deep-mlp-k30", "conv-k30", "sae-l1-0.1", "vae-ref")  # drawn in claim 10


def family_model(lab: Lab, k: int):
    return lab.model(f"ae-mlp-k{k}", ModelConfig(widths=FAMILY_WIDTHS, latent_dim=k), lab.sizes.epochs)


def reference_model(lab: Lab, variant: str = "ae", noise: str | None = None):
    name = {"ae": "ae-ref", "vae": "vae-ref"}.get(variant) or f"dae-{noise.replace(':', '-')}"
    return lab.model(name, ModelConfig(model=variant, noise=noise, **REFERENCE), lab.sizes.epochs)


def signed_images(vectors: np.ndarray) -> np.ndarray:
    """Rows with positive and negative entries as grey images: 0.5 is zero, each row scaled by its own max |v|."""
    v = np.asarray(vectors, np.float64)
    return (0.5 + 0.5 * v / np.maximum(np.abs(v).max(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def as_images(x: np.ndarray) -> np.ndarray:
    """Clip generated or reconstructed pixels to [0, 1] (decoders with a linear output can overshoot)."""
    return np.clip(x, 0.0, 1.0)


def error_per_image(model, x: np.ndarray) -> float:
    """Mean squared reconstruction error per row of ``x`` (summed over pixels)."""
    return float(squared_errors(x, reconstruct(model, x)).mean())


# ------------------------------------------------------------------------------------------------------ claim 1


def claim_principal_subspace(lab: Lab) -> Claim:
    claim = Claim(1, "A linear autoencoder learns the principal subspace",
                  "A linear autoencoder trained with squared error spans the same subspace as the top-k principal "
                  "components (Baldi & Hornik 1989), with PCA's error — yet its weights are a mix of the components, "
                  "not the components themselves; an SVD of the weights recovers them.")
    data, k = lab.mnist, 16
    mean = data.x_train.mean(axis=0, dtype=np.float64).astype(np.float32)
    centred = Dataset(f"{data.name}-centred", *(x - mean for x in (data.x_train, data.x_val, data.x_test)),
                      shape=data.shape, source={**data.source, "centred": True})
    trained = lab.model("linear-k16", ModelConfig(arch="linear", latent_dim=k, loss="mse", scaling="none"),
                        lab.sizes.linear_epochs, data=centred)
    pca = PCABaseline(k).fit(centred.x_train)
    sub = principal_subspace(trained.model, pca, centred.x_train)
    ae, base = error_per_image(trained.model, centred.x_test), pca.squared_error_per_sample(centred.x_test)
    full = not lab.sizes.quick
    claim.checks = [at_most("mean principal angle to PCA's top 16 (°)", sub["mean_angle_deg"], 2.0, full),
                    at_most("largest principal angle (°)", sub["max_angle_deg"], 10.0, full),
                    at_most("test error, linear AE ÷ PCA", ae / base, 1.01, full),
                    at_least("components recovered from W by an SVD: smallest |cos| with PCA's",
                             sub["min_recovered_cosine"], 0.99, full)]
    claim.measurements = {"k": k, "linear_ae_error": ae, "pca_error": base,
                          "orthonormality_error": sub["orthonormality_error"],
                          "min_recovered_cosine": sub["min_recovered_cosine"],
                          "principal_angles_deg": sub["principal_angles_deg"], "train_seconds": trained.train_seconds}
    claim.notes.append(f"‖WᵀW − I‖_F/√k = {sub['orthonormality_error']:.3g}: the decoder's columns are not "
                       f"orthonormal; the components recovered from them by an SVD match PCA's with |cos| ≥ "
                       f"{sub['min_recovered_cosine']:.6f}.")
    w = trained.model.decoder.weight.detach().numpy().T  # (k, D): one column of W per row
    rows = [("PCA components", pca.pca_.components_), ("decoder columns W", w),
            ("recovered by SVD", sub["recovered_components"])]
    path = image_grid([(label, signed_images(v)) for label, v in rows], data.shape,
                      lab.figure("1-components.png"), title="Top-16 principal components and the linear AE's weights")
    claim.figures.append(Figure(path, "PCA's components, the linear autoencoder's decoder columns (the same "
                                      "subspace, mixed), and the components recovered from them by an SVD "
                                      "(grey is 0)."))
    return claim


# ------------------------------------------------------------------------------------------------------ claim 2


def claim_curved_manifolds(lab: Lab) -> Claim:
    claim = Claim(2, "Nonlinear autoencoders beat PCA on curved manifolds",
                  "A 2-D code can follow a curved 2-D sheet in 3-D that a plane (PCA) cannot; on MNIST a nonlinear "
                  "autoencoder reconstructs better than PCA at every code size.")
    panels = []
    for name in ("s-curve", "swiss-roll"):
        data = load_manifold(name, n_samples=lab.sizes.manifold_samples, seed=lab.seed)
        trained = lab.model(f"{name}-ae", ModelConfig(widths=(128, 128, 128), latent_dim=2, loss="mse",
                                                      scaling="standardize"),
                            lab.sizes.manifold_epochs, data=data, batch_size=64)
        x_train, x_test = trained.scaling.transform(data.x_train), trained.scaling.transform(data.x_test)
        result = compare_with_pca(trained.model, x_train, x_test)
        claim.checks.append(at_most(f"{name}: AE error ÷ PCA error (k = 2)", result["ratio_to_pca"], 0.2))
        claim.measurements[name] = {"ae_error": result["squared_error_per_sample"],
                                    "pca_error": result["pca_squared_error_per_sample"]}
        pca = PCABaseline(2).fit(x_train)
        panels.append((name, x_test, trained.model, pca, data.y_test))
    errors = {"k": list(FAMILY_KS), "ae": [], "pca": []}
    data = lab.mnist
    for k in FAMILY_KS:
        model = family_model(lab, k).model
        errors["ae"].append(error_per_image(model, data.x_test))
        errors["pca"].append(PCABaseline(k).fit(data.x_train).squared_error_per_sample(data.x_test))
    ratios = [a / p for a, p in zip(errors["ae"], errors["pca"])]
    claim.checks.append(below("MNIST: largest AE ÷ PCA error over k ∈ {2, 4, 8, 16, 30}", max(ratios), 1.0,
                              not lab.sizes.quick))
    claim.measurements["mnist"] = {**errors, "ratio": ratios,
                                   "architecture": f"784-{'-'.join(map(str, FAMILY_WIDTHS))}-k"}
    for name, x_test, model, pca, t in panels:
        ratio = claim.measurements[name]["ae_error"] / claim.measurements[name]["pca_error"]
        path = point_clouds_3d([("test points", x_test), ("autoencoder reconstruction (k = 2)",
                                                          reconstruct(model, x_test)),
                                ("PCA reconstruction (k = 2)", pca.reconstruct(x_test))], t,
                               lab.figure(f"2-{name}.png"), title=f"{name}: through a 2-d bottleneck")
        claim.figures.append(Figure(path, f"The {name}'s test points (standardised) and their reconstructions "
                                          "from two numbers, coloured by position along the sheet: the autoencoder "
                                          f"follows the curved sheet (error {ratio:.3f}× PCA's), PCA flattens it "
                                          "onto a plane."))
        path = latent_scatter([("autoencoder code", encode(model, x_test)), ("PCA projection", pca.encode(x_test))],
                              t, lab.figure(f"2-{name}-codes.png"), title=f"{name}: the 2-d codes")
        claim.figures.append(Figure(path, "The same points' 2-d codes. Only reconstruction is asked of the "
                                          "autoencoder, so its code need not be a flat, evenly stretched map of the "
                                          "sheet — only one that the decoder can invert."))
    path = line_plot([{"series": [("autoencoder", FAMILY_KS, errors["ae"]), ("PCA", FAMILY_KS, errors["pca"])],
                       "xlabel": "code size k", "ylabel": "test squared error per image", "logx": True,
                       "title": "MNIST: error vs k"}], lab.figure("2-error-vs-k.png"))
    claim.figures.append(Figure(path, "MNIST test error against the code size, autoencoder "
                                      f"784-{'-'.join(map(str, FAMILY_WIDTHS))}-k and PCA."))
    return claim


# ------------------------------------------------------------------------------------------------------ claim 3


def claim_deep_beats_pca(lab: Lab) -> Claim:
    claim = Claim(3, "Deep autoencoders crush PCA (Hinton & Salakhutdinov 2006)",
                  f"With a 30-d code PCA leaves a test error near {HINTON_PCA_30} per image; Hinton & Salakhutdinov's "
                  f"RBM-pretrained 784-1000-500-250-30 network reached {HINTON_DEEP_30}. The same MLP trained here "
                  "with Adam and a cosine schedule reaches ≤ 4.5, and hourglass's conv pair beats the published "
                  f"{HINTON_DEEP_30}, each in ≤ 15 minutes on a laptop-class CPU.")
    data, full = lab.mnist, not lab.sizes.quick
    mlp = lab.model("deep-mlp-k30", ModelConfig(widths=(1000, 500, 250), latent_dim=30, loss="mse"),
                    lab.sizes.deep_epochs, lr=1e-3)
    conv = lab.model("conv-k30", ModelConfig(arch="conv", widths=(32, 64), latent_dim=30), lab.sizes.conv_epochs)
    pca = PCABaseline(30).fit(data.x_train)
    errors = {"pca": pca.squared_error_per_sample(data.x_test), "mlp": error_per_image(mlp.model, data.x_test),
              "conv": error_per_image(conv.model, data.x_test)}
    claim.checks = [at_most("784-1000-500-250-30 MLP: test error", errors["mlp"], 4.5, full),
                    at_most("MLP: training time (s)", mlp.train_seconds, TIME_LIMIT_S, full),
                    at_most("conv pair, 30-d code: test error", errors["conv"], HINTON_DEEP_30, full),
                    at_most("conv pair: training time (s)", conv.train_seconds, TIME_LIMIT_S, full)]
    claim.measurements = {"pca_error": errors["pca"], "mlp_error": errors["mlp"], "conv_error": errors["conv"],
                          "mlp_train_seconds": mlp.train_seconds, "conv_train_seconds": conv.train_seconds,
                          "published_pca_error": HINTON_PCA_30, "published_deep_error": HINTON_DEEP_30,
                          "mlp_epochs": lab.sizes.deep_epochs, "conv_epochs": lab.sizes.conv_epochs}
    show = one_per_class(data.y_test)
    x = data.x_test[show]
    path = image_grid([("original", x), (f"MLP ({errors['mlp']:.2f})", as_images(reconstruct(mlp.model, x))),
                       (f"conv ({errors['conv']:.2f})", as_images(reconstruct(conv.model, x))),
                       (f"PCA ({errors['pca']:.2f})", as_images(pca.reconstruct(x)))],
                      data.shape, lab.figure("3-k30.png"), title="30-d codes: test digits and reconstructions")
    claim.figures.append(Figure(path, "Test digits reconstructed from 30 numbers (test squared error per image in "
                                      "brackets)."))
    return claim


# ------------------------------------------------------------------------------------------------------ claim 4


def claim_denoising(lab: Lab) -> Claim:
    claim = Claim(4, "Denoising autoencoders remove noise, and estimate the score",
                  "Trained to reconstruct the clean input from a corrupted one, a denoising autoencoder removes "
                  "Gaussian, masking and salt-and-pepper noise far better than a plain autoencoder of the same size; "
                  "and for small Gaussian noise σ, (g(f(x̃)) − x̃)/σ² estimates the score ∇ log p_σ(x̃) (Vincent 2011).")
    data, x = lab.mnist, lab.mnist.x_test
    plain = reference_model(lab, "ae").model
    show = one_per_class(data.y_test)
    rows = [("clean", x[show])]
    for spec in NOISES:
        dae = reference_model(lab, "dae", spec).model
        noisy = corrupt(parse_noise(spec, clip=True), x, seed=lab.seed)
        p = {"corrupted": psnr(x, noisy), "plain_ae": psnr(x, as_images(reconstruct(plain, noisy))),
             "dae": psnr(x, as_images(reconstruct(dae, noisy)))}
        claim.measurements[spec] = p
        claim.checks.append(at_least(f"{spec}: PSNR of DAE − plain AE (dB)", p["dae"] - p["plain_ae"], 1.0))
        claim.checks.append(above(f"{spec}: PSNR of DAE − corrupted input (dB)", p["dae"] - p["corrupted"], 0.0))
        rows += [(f"{spec}", noisy[show]), ("plain AE", as_images(reconstruct(plain, noisy[show]))),
                 ("DAE", as_images(reconstruct(dae, noisy[show])))]
    sigma = 0.2
    mixture = mixture_dataset(lab.sizes.score_train, lab.seed)
    scorer = lab.model("dae-mixture-2d", score_model_config(sigma), lab.sizes.score_epochs, data=mixture)
    score = score_accuracy(scorer.model, sigma, seed=lab.seed)
    claim.checks.append(at_least(f"score matching (σ = {sigma}): mean cosine with the true score",
                                 score["mean_cosine"], 0.9))
    claim.measurements["score_matching"] = {k: score[k] for k in ("sigma", "mean_cosine", "relative_error")}
    path = image_grid(rows, data.shape, lab.figure("4-denoising.png"), title="Denoising: one test digit per class")
    claim.figures.append(Figure(path, "Clean test digits; for each noise, the corrupted input, the plain "
                                      "autoencoder's reconstruction of it and the denoising autoencoder's."))
    path = score_quiver(score["points"], score["estimated"], score["true"], lab.figure("4-score.png"))
    claim.figures.append(Figure(path, "A 2-D Gaussian mixture: the true score of the noisy density (black) and the "
                                      "denoising autoencoder's estimate (orange) at noisy points."))
    return claim


# ------------------------------------------------------------------------------------------------------ claim 5


def claim_sparse_codes(lab: Lab) -> Claim:
    claim = Claim(5, "An L1 penalty gives sparse codes, even overcomplete ones",
                  "With an L1 penalty λ‖z‖₁ on a ReLU code, most code units are exactly zero for each input, more so "
                  "as λ grows, so a code wider than the input (1,000 units for 784 pixels) is still a bottleneck; "
                  "each code unit, alone, decodes to a part of a digit.")
    data, recommended = lab.mnist, RECOMMENDED["l1"]
    stats, models = [], {}
    for lam in SAE_LAMBDAS:
        config = ModelConfig(model="sae", widths=SAE_WIDTHS, latent_dim=SAE_CODE, l1=lam)
        models[lam] = model = lab.model(f"sae-l1-{lam:g}", config, lab.sizes.epochs).model
        z = encode(model, data.x_test)
        stats.append({"lambda": lam, **code_sparsity(z), "error": error_per_image(model, data.x_test)})
    zeros = [s["zero_fraction"] for s in stats]
    rec = next(s for s in stats if s["lambda"] == recommended)
    claim.checks = [above("smallest rise of the zero fraction from one λ to the next", min(np.diff(zeros)), 0.0),
                    at_least(f"zero activations at the recommended λ = {recommended:g}", rec["zero_fraction"], 0.9,
                             not lab.sizes.quick)]
    k_active = max(1, round(rec["mean_active"]))
    claim.measurements = {"by_lambda": stats, "pca_error_at_mean_active": PCABaseline(k_active).fit(
        data.x_train).squared_error_per_sample(data.x_test), "mean_active_at_recommended": rec["mean_active"]}
    path = line_plot([{"series": [("zero activations", SAE_LAMBDAS, zeros)], "xlabel": "λ", "logx": True,
                       "ylabel": "fraction of code units at 0", "title": "sparsity"},
                      {"series": [("active units", SAE_LAMBDAS, [s["mean_active"] for s in stats])], "xlabel": "λ",
                       "logx": True, "logy": True, "ylabel": "mean active units (of 1,000)", "title": "active units"},
                      {"series": [("test error", SAE_LAMBDAS, [s["error"] for s in stats])], "xlabel": "λ",
                       "logx": True, "ylabel": "test squared error per image", "title": "reconstruction"}],
                     lab.figure("5-sparsity.png"))
    claim.figures.append(Figure(path, "Sparsity, active units and reconstruction error against the L1 weight λ "
                                      f"(784-{SAE_WIDTHS[0]}-{SAE_CODE} encoder, ReLU code)."))
    atoms = decoder_atoms(models[recommended], data.x_test, 40)
    path = image_grid([(f"units {10 * r + 1}–{10 * r + 10}", signed_images(atoms[10 * r:10 * r + 10]))
                       for r in range(4)], data.shape, lab.figure("5-atoms.png"),
                      title=f"Decoder atoms of the 40 most used code units (λ = {recommended:g})")
    claim.figures.append(Figure(path, "What each of the 40 most used code units adds on its own at the recommended "
                                      "λ: g(a·e_j) − g(0), with a the unit's mean activation when active — strokes "
                                      "and parts of digits (grey is 0, lighter adds ink)."))
    return claim


def decoder_atoms(model, x: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` most used code units' atoms, (n, D): g(a_j e_j) − g(0), a_j the unit's mean activation over the
    inputs where it is active. For a linear decoder this is a_j times column j of its weight matrix."""
    z = encode(model, x)
    order = np.argsort((z > 0).mean(axis=0))[::-1][:n]
    typical = np.array([z[z[:, j] > 0, j].mean() if (z[:, j] > 0).any() else 1.0 for j in order])
    codes = np.zeros((n, z.shape[1]), np.float32)
    codes[np.arange(n), order] = typical
    with torch.no_grad():
        decoded = model.decode(torch.as_tensor(codes)) - model.decode(torch.zeros(1, z.shape[1]))
    return decoded.numpy()


# ------------------------------------------------------------------------------------------------------ claim 6


def claim_contractive(lab: Lab) -> Claim:
    claim = Claim(6, "Contractive encoders are insensitive to small perturbations",
                  "Penalising the encoder Jacobian's Frobenius norm ‖J_f(x)‖_F² makes the code move less when the "
                  "input moves a little: ‖f(x + δ) − f(x)‖/‖δ‖ falls well below a plain autoencoder's.")
    data, k = lab.mnist, 4
    x = data.x_test[:2000]
    plain = family_model(lab, k).model

    def measure(model, lam: float) -> dict:
        return {"lambda": lam, "jacobian_norm": mean_jacobian_norm(model, x),
                "perturbation_ratio": perturbation_ratio(model, x, seed=lab.seed), "error": error_per_image(model, x),
                "code_spread": float(np.sqrt(encode(model, x).var(axis=0).sum()))}

    rows = [measure(plain, 0.0)]
    for lam in CAE_LAMBDAS:
        rows.append(measure(lab.model(f"cae-{lam:g}", ModelConfig(model="cae", widths=FAMILY_WIDTHS, latent_dim=k,
                                                                  contractive=lam), lab.sizes.epochs).model, lam))
    rec = next(r for r in rows if r["lambda"] == RECOMMENDED["contractive"])
    relative = lambda r: r["perturbation_ratio"] / r["code_spread"]  # noqa: E731
    claim.checks = [at_most(f"‖f(x+δ) − f(x)‖/‖δ‖, CAE (λ = {rec['lambda']:g}) ÷ plain AE",
                            rec["perturbation_ratio"] / rows[0]["perturbation_ratio"], 0.5, not lab.sizes.quick)]
    claim.measurements = {"by_lambda": rows, "perturbation_scale": 0.01, "code_size": k}
    claim.notes.append(
        f"The CAE's test error is {rec['error'] / rows[0]['error']:.3f}× the plain AE's. Part of any contraction can be "
        f"a smaller code scale that the decoder undoes: the codes' spread (root of the summed variances) is "
        f"{rec['code_spread']:.3g} for the CAE vs {rows[0]['code_spread']:.3g} for the plain AE, so relative to its "
        f"spread the CAE's code moves {relative(rec) / relative(rows[0]):.3g}× as much as the plain AE's.")
    lams = [r["lambda"] for r in rows[1:]]
    flat = lambda key: ("plain AE (λ = 0)", [lams[0], lams[-1]], [rows[0][key]] * 2)  # noqa: E731
    path = line_plot([{"series": [("CAE", lams, [r["jacobian_norm"] for r in rows[1:]]), flat("jacobian_norm")],
                       "xlabel": "λ", "logx": True, "logy": True, "ylabel": "mean ‖J_f(x)‖_F",
                       "title": "encoder Jacobian"},
                      {"series": [("CAE", lams, [r["perturbation_ratio"] for r in rows[1:]]),
                                  flat("perturbation_ratio")],
                       "xlabel": "λ", "logx": True, "logy": True, "ylabel": "‖f(x+δ) − f(x)‖ / ‖δ‖",
                       "title": "code movement per input movement"},
                      {"series": [("CAE", lams, [r["error"] for r in rows[1:]]), flat("error")],
                       "xlabel": "λ", "logx": True, "ylabel": "test squared error per image",
                       "title": "reconstruction"}], lab.figure("6-contractive.png"))
    claim.figures.append(Figure(path, f"Contractive autoencoders (784-{'-'.join(map(str, FAMILY_WIDTHS))}-{k}) "
                                      "against the penalty weight λ, beside the plain autoencoder."))
    return claim


# ------------------------------------------------------------------------------------------------------ claim 7


def digit_classifier(lab: Lab):
    """The judge of claim 7: trained once per output folder and kept as safetensors."""
    path = lab.out / "models" / "digit-classifier.safetensors"
    recipe = {"epochs": lab.sizes.classifier_epochs, "seed": lab.seed, "data": lab.mnist.name}
    if path.exists():
        model, record = clf.load_classifier(path)
        if record.get("recipe") == recipe:
            return model, record
    data = lab.mnist
    lab.log(f"  digit classifier: training a small CNN for {recipe['epochs']} epochs")
    started = time.perf_counter()
    model = clf.train_classifier(data.x_train, data.y_train, epochs=recipe["epochs"], seed=lab.seed,
                                 log=(lambda line: lab.log(f"    {line}")) if lab.progress else None)
    accuracy = float((clf.predict_proba(model, data.x_test).argmax(axis=1) == data.y_test).mean())
    record = {"recipe": recipe, "test_accuracy": accuracy, "train_seconds": time.perf_counter() - started}
    clf.save_classifier(model, path, record)
    return model, record


def claim_generative(lab: Lab) -> Claim:
    claim = Claim(7, "A plain autoencoder is not a generative model; a VAE is",
                  "Nothing makes a plain autoencoder's codes fill N(0, I), so codes drawn from it decode mostly to "
                  "non-digits; a VAE's KL term makes its codes (draws from q(z|x)) cover the prior, so its samples "
                  "look like digits.")
    data, n = lab.mnist, lab.sizes.draws
    ae, vae = reference_model(lab, "ae").model, reference_model(lab, "vae").model
    judge, record = digit_classifier(lab)
    claim.checks.append(at_least("digit classifier: test accuracy", record["test_accuracy"], 0.99,
                                 not lab.sizes.quick))
    generator = lambda: torch.Generator().manual_seed(lab.seed)  # noqa: E731
    mean, scale_tril = fit_code_gaussian(ae, data.x_train)
    samples = {"AE, z ~ N(0, I)": ae.sample(n, generator()).numpy(),
               "AE, z ~ Gaussian fitted to its codes": ae.sample(n, generator(), mean, scale_tril).numpy(),
               "VAE, z ~ N(0, I)": vae.sample(n, generator()).numpy()}
    real = clf.features(judge, data.x_test)
    scores = {}
    for name, images in samples.items():
        images = as_images(images)
        scores[name] = {"frechet_distance": clf.frechet_distance(clf.features(judge, images), real),
                        "mean_confidence": float(clf.predict_proba(judge, images).max(axis=1).mean())}
    fd = {name: s["frechet_distance"] for name, s in scores.items()}
    claim.checks.insert(0, at_most("Fréchet distance, VAE ÷ plain AE decoding N(0, I)",
                                   fd["VAE, z ~ N(0, I)"] / fd["AE, z ~ N(0, I)"], 0.5, not lab.sizes.quick))
    coverage = {"plain AE": prior_coverage(ae, data.x_train, n_draws=n, seed=lab.seed),
                "VAE": prior_coverage(vae, data.x_train, n_draws=n, seed=lab.seed)}
    claim.checks.append(below("prior draws outside the training codes' region, VAE ÷ plain AE",
                              coverage["VAE"]["outside_fraction"] / max(coverage["plain AE"]["outside_fraction"], 1e-9),
                              1.0, not lab.sizes.quick))
    claim.measurements = {"samples": scores, "coverage": coverage, "n_samples": n,
                          "test_set_self_distance": clf.frechet_distance(clf.features(judge, data.x_val), real),
                          "classifier": record}
    claim.notes.append(
        f"Prior draws outside the training codes' region (nearest-code distance beyond the 99th percentile of the "
        f"codes' own; a VAE's codes are draws from q(z|x)): plain AE {coverage['plain AE']['outside_fraction']:.1%}, VAE "
        f"{coverage['VAE']['outside_fraction']:.1%}. For scale, the validation images' own Fréchet distance to the "
        f"test images is {claim.measurements['test_set_self_distance']:.3g}.")
    rows = []
    for name, images in samples.items():
        rows += [(f"{name.split(',')[0]}, {'N(0, I)' if 'N(0' in name else 'fitted'} ({r + 1})",
                  as_images(images[12 * r:12 * r + 12])) for r in range(2)]
    path = image_grid(rows, data.shape, lab.figure("7-samples.png"), title="Decoded draws")
    claim.figures.append(Figure(path, "Decoded codes: a plain autoencoder given z ~ N(0, I), the same autoencoder "
                                      "given draws from a Gaussian fitted to its training codes, and a VAE given "
                                      "z ~ N(0, I); same architecture and code size (16)."))
    return claim


# ------------------------------------------------------------------------------------------------------ claim 8


def claim_sharpness(lab: Lab) -> Claim:
    claim = Claim(8, "Plain autoencoders reconstruct more sharply than VAEs",
                  "With the same architecture and code size, a plain autoencoder reconstructs with lower error than "
                  "a VAE, whose KL term and noisy code blur the reconstructions: their sharpness (variance of the "
                  "Laplacian) is further from the originals'.")
    data, x = lab.mnist, lab.mnist.x_test
    ae, vae = reference_model(lab, "ae").model, reference_model(lab, "vae").model
    rec = {"AE": as_images(reconstruct(ae, x)), "VAE": as_images(reconstruct(vae, x))}
    errors = {name: float(squared_errors(x, r).mean()) for name, r in rec.items()}
    sharp = {"originals": laplacian_variance(x, data.shape),
             **{name: laplacian_variance(r, data.shape) for name, r in rec.items()}}
    gap = {name: abs(sharp[name] - sharp["originals"]) for name in rec}
    claim.checks = [below("test error, AE ÷ VAE", errors["AE"] / errors["VAE"], 1.0),
                    below("sharpness gap to the originals, AE ÷ VAE", gap["AE"] / gap["VAE"], 1.0)]
    claim.measurements = {"error": errors, "laplacian_variance": sharp}
    show = one_per_class(data.y_test)
    path = image_grid([("original", x[show]), (f"AE ({errors['AE']:.1f})", rec["AE"][show]),
                       (f"VAE ({errors['VAE']:.1f})", rec["VAE"][show])], data.shape, lab.figure("8-sharpness.png"),
                      title="Reconstructions with a 16-d code")
    claim.figures.append(Figure(path, "Test digits and their reconstructions by a plain autoencoder and a VAE of "
                                      "the same architecture (test squared error per image in brackets)."))
    return claim


# ------------------------------------------------------------------------------------------------------ claim 9


def claim_useful_codes(lab: Lab) -> Claim:
    claim = Claim(9, "The code is a useful representation",
                  "Nearest neighbours in the autoencoder's code agree on the digit at least as often as nearest "
                  "neighbours in PCA's projection of the same size.")
    data = lab.mnist
    acc = {"k": [2, 4, 16], "ae": [], "pca": []}
    for k in acc["k"]:
        model = family_model(lab, k).model
        acc["ae"].append(knn_accuracy(encode(model, data.x_train), data.y_train, encode(model, data.x_test),
                                      data.y_test))
        pca = PCABaseline(k).fit(data.x_train)
        acc["pca"].append(knn_accuracy(pca.encode(data.x_train), data.y_train, pca.encode(data.x_test), data.y_test))
    claim.checks = [at_least("smallest AE − PCA 5-NN test accuracy over k ∈ {2, 4, 16}",
                             min(a - p for a, p in zip(acc["ae"], acc["pca"])), 0.0, not lab.sizes.quick)]
    claim.measurements = {"knn_accuracy": acc, "neighbours": 5}
    model = family_model(lab, 2).model
    path = latent_scatter([("autoencoder code (k = 2)", encode(model, data.x_test)),
                           ("PCA projection (k = 2)", PCABaseline(2).fit(data.x_train).encode(data.x_test))],
                          data.y_test, lab.figure("9-codes.png"), title="MNIST test set in two dimensions")
    claim.figures.append(Figure(path, "The test set's 2-D codes coloured by digit, beside PCA's 2-D projection."))
    return claim


# ----------------------------------------------------------------------------------------------------- claim 10


def claim_hourglass(lab: Lab) -> Claim:
    claim = Claim(10, "The hourglass",
                  "Every model here is an encoder that narrows to a code and a decoder that widens back: the code sits "
                  "at the waist. (The overcomplete sparse code is the exception that proves the rule: its waist is "
                  "wide, and the penalty makes the bottleneck.) Checked on every MNIST model in the output folder.")
    waist_is_code = []
    for folder in sorted(p for p in (lab.out / "models").iterdir() if (p / "config.json").exists()):
        model = read_config(folder)["model"]
        arch, kind = Architecture.from_dict(model["architecture"]), model["kind"]
        if tuple(arch.input_shape) != tuple(lab.mnist.shape):  # the 2-D and 3-D toy data
            continue
        sizes = [n for _, n in layer_sizes(arch, kind)]
        if arch.latent_dim < lab.mnist.n_features:
            waist_is_code.append(min(sizes) == arch.latent_dim)
        if folder.name in DIAGRAMS:
            path = hourglass_diagram(arch, lab.figure(f"10-{folder.name}.svg"), kind,
                                     title=f"{folder.name}: {kind} {arch.kind}")
            claim.figures.append(Figure(path, f"{folder.name}, drawn by `hourglass diagram "
                                              f"{folder.relative_to(lab.out)} -o {path.name}`."))
    claim.checks = [at_least("undercomplete models whose narrowest layer is the code (fraction)",
                             float(np.mean(waist_is_code)) if waist_is_code else 0.0, 1.0)]
    claim.measurements = {"models_checked": len(waist_is_code), "diagrams": len(claim.figures)}
    return claim


CLAIMS = (claim_principal_subspace, claim_curved_manifolds, claim_deep_beats_pca, claim_denoising,
          claim_sparse_codes, claim_contractive, claim_generative, claim_sharpness, claim_useful_codes,
          claim_hourglass)


# ------------------------------------------------------------------------------------------------------ the run


def run_claims(out: str | Path = "claims-output", quick: bool = False, seed: int = 0, only: list[int] | None = None,
               progress: bool = True, log=print) -> list[Claim]:
    """Run the claims (all, or the numbers in ``only``) and return them, writing ``out/claims.json`` and
    ``out/report.html`` after each one. With ``only``, the results of the other claims from an earlier run of the
    same size and seed in ``out`` stay in both files. A claim whose experiment raises is recorded as ERROR with the
    message, and the others still run."""
    from ..report.html import write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lab = Lab(out, seed, QUICK if quick else FULL, progress, log)
    records = _earlier_records(out, lab) if only else {}
    results = []
    chosen = [c for i, c in enumerate(CLAIMS, 1) if not only or i in only]
    for i, run in enumerate(chosen, 1):
        number = CLAIMS.index(run) + 1
        name = run.__name__.removeprefix("claim_").replace("_", " ")
        log(f"[{i}/{len(chosen)}] claim {number}: {name}")
        started = time.perf_counter()
        try:
            claim = run(lab)
        except Exception as e:  # one broken experiment must not hide the others' results
            claim = Claim(number, name, "", error=f"{type(e).__name__}: {e}")
            claim.notes.append(traceback.format_exc(limit=-3))
        claim.seconds = time.perf_counter() - started
        results.append(claim)
        log(f"    {claim.verdict} ({claim.seconds:.0f} s)" + (f": {claim.error}" if claim.error else ""))
        records[number] = claim.to_dict(out)
        summary = write_summary(out, [records[n] for n in sorted(records)], lab)
        write_report(summary, out, out / "report.html")
    return results


def _earlier_records(out: Path, lab: Lab) -> dict[int, dict]:
    """The claims of an earlier run in ``out`` with the same size and seed, by number (none if it differs)."""
    try:
        earlier = json.loads((out / "claims.json").read_text())
    except (OSError, ValueError):
        return {}
    if earlier.get("format") != "hourglass-claims" or (earlier.get("mode"), earlier.get("seed")) != (
            lab.sizes.name, lab.seed):
        return {}
    return {c["claim"]: c for c in earlier.get("claims", [])
            if all((out / f["file"]).exists() for f in c.get("figures", []))}


def write_summary(out: Path, records: list[dict], lab: Lab) -> dict:
    """Write ``claims.json``: the run's settings and versions, and one record per claim (see :meth:`Claim.to_dict`).
    ``seconds`` is the sum of the claims' own times."""
    summary = {"format": "hourglass-claims", "mode": lab.sizes.name, "seed": lab.seed,
               "seconds": round(sum(r["seconds"] for r in records), 1), "data": lab.mnist.name,
               "hourglass_version": __version__, "torch_version": torch.__version__,
               "python_version": platform.python_version(), "machine": platform.machine(),
               "threads": torch.get_num_threads(), "claims": records}
    files.write_text(out / "claims.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary
