"""Claims 4–6: denoising, sparse and contractive autoencoders do what the textbook says."""

from __future__ import annotations

import numpy as np
import torch

from ...corruptions import parse_noise
from ...metrics import code_sparsity, corrupt, encode, mean_jacobian_norm, psnr, reconstruct
from ...pca import PCABaseline
from ...report import image_grid, line_plot, one_per_class, score_quiver
from ...workflow import PRESETS, ModelConfig
from ..ingredients import (
    CAE_LAMBDAS,
    FAMILY_WIDTHS,
    NOISES,
    SAE_CODE,
    SAE_LAMBDAS,
    SAE_WIDTHS,
    WIDE_PRECISION,
    as_images,
    error_per_image,
    family_model,
    reference_model,
    signed_images,
)
from ..lab import Lab
from ..measures import mixture_dataset, perturbation_ratio, score_accuracy, score_model_config
from ..record import Claim, Figure, above, at_least, at_most


def claim_denoising(lab: Lab) -> Claim:
    claim = Claim(
        "Denoising autoencoders remove noise, and estimate the score",
        "Trained to reconstruct the clean input from a corrupted one, a denoising autoencoder removes "
        "Gaussian, masking and salt-and-pepper noise far better than a plain autoencoder of the same size; "
        "and for small Gaussian noise σ, (g(f(x̃)) − x̃)/σ² estimates the score ∇ log p_σ(x̃) (Vincent 2011).",
    )
    data, x = lab.mnist, lab.mnist.x_test
    plain = reference_model(lab, "ae").model
    show = one_per_class(data.labels("test"))
    rows = [("clean", x[show])]
    for spec in NOISES:
        dae = reference_model(lab, "dae", spec).model
        noisy = corrupt(parse_noise(spec, clip=True), x, seed=lab.seed)
        p = {
            "corrupted": psnr(x, noisy),
            "plain_ae": psnr(x, as_images(reconstruct(plain, noisy))),
            "dae": psnr(x, as_images(reconstruct(dae, noisy))),
        }
        claim.measurements[spec] = p
        claim.checks.append(at_least(f"{spec}: PSNR of DAE − plain AE (dB)", p["dae"] - p["plain_ae"], 1.0))
        claim.checks.append(above(f"{spec}: PSNR of DAE − corrupted input (dB)", p["dae"] - p["corrupted"], 0.0))
        rows += [
            (f"{spec}", noisy[show]),
            ("plain AE", as_images(reconstruct(plain, noisy[show]))),
            ("DAE", as_images(reconstruct(dae, noisy[show]))),
        ]
    sigma = 0.2
    mixture = mixture_dataset(lab.sizes.score_train, lab.seed)
    scorer = lab.model("dae-mixture-2d", score_model_config(sigma), lab.sizes.score_epochs, data=mixture)
    score = score_accuracy(scorer.model, sigma, seed=lab.seed)
    claim.checks.append(
        at_least(f"score matching (σ = {sigma}): mean cosine with the true score", score["mean_cosine"], 0.9)
    )
    claim.measurements["score_matching"] = {k: score[k] for k in ("sigma", "mean_cosine", "relative_error")}
    path = image_grid(rows, data.shape, lab.figure("4-denoising.png"), title="Denoising: one test digit per class")
    claim.figures.append(
        Figure(
            path,
            "Clean test digits; for each noise, the corrupted input, the plain "
            "autoencoder's reconstruction of it and the denoising autoencoder's.",
        )
    )
    path = score_quiver(score["points"], score["estimated"], score["true"], lab.figure("4-score.png"))
    claim.figures.append(
        Figure(
            path,
            "A 2-D Gaussian mixture: the true score of the noisy density (black) and the "
            "denoising autoencoder's estimate (orange) at noisy points.",
        )
    )
    return claim


# ------------------------------------------------------------------------------------------------------ claim 5


def claim_sparse_codes(lab: Lab) -> Claim:
    claim = Claim(
        "An L1 penalty gives sparse codes, even overcomplete ones",
        "With an L1 penalty λ‖z‖₁ on a ReLU code, most code units are exactly zero for each input, more so "
        "as λ grows, so a code wider than the input (1,000 units for 784 pixels) is still a bottleneck; "
        "each code unit, alone, decodes to a part of a digit.",
    )
    data, recommended = lab.mnist, PRESETS["sae"]["l1"]
    stats, models = [], {}
    for lam in SAE_LAMBDAS:
        config = ModelConfig(model="sae", widths=SAE_WIDTHS, latent_dim=SAE_CODE, l1=lam)
        models[lam] = model = lab.model(f"sae-l1-{lam:g}", config, lab.sizes.epochs, precision=WIDE_PRECISION).model
        z = encode(model, data.x_test)
        stats.append({"lambda": lam, **code_sparsity(z), "error": error_per_image(model, data.x_test)})
    zeros = [s["zero_fraction"] for s in stats]
    rec = next(s for s in stats if s["lambda"] == recommended)
    claim.checks = [
        above("smallest rise of the zero fraction from one λ to the next", min(np.diff(zeros)), 0.0),
        at_least(
            f"zero activations at the recommended λ = {recommended:g}", rec["zero_fraction"], 0.9, not lab.sizes.quick
        ),
    ]
    k_active = max(1, round(rec["mean_active"]))
    claim.measurements = {
        "by_lambda": stats,
        "pca_error_at_mean_active": PCABaseline(k_active).fit(data.x_train).squared_error_per_sample(data.x_test),
        "mean_active_at_recommended": rec["mean_active"],
    }
    path = line_plot(
        [
            {
                "series": [("zero activations", SAE_LAMBDAS, zeros)],
                "xlabel": "λ",
                "logx": True,
                "ylabel": "fraction of code units at 0",
                "title": "sparsity",
            },
            {
                "series": [("active units", SAE_LAMBDAS, [s["mean_active"] for s in stats])],
                "xlabel": "λ",
                "logx": True,
                "logy": True,
                "ylabel": "mean active units (of 1,000)",
                "title": "active units",
            },
            {
                "series": [("test error", SAE_LAMBDAS, [s["error"] for s in stats])],
                "xlabel": "λ",
                "logx": True,
                "ylabel": "test squared error per image",
                "title": "reconstruction",
            },
        ],
        lab.figure("5-sparsity.png"),
    )
    claim.figures.append(
        Figure(
            path,
            "Sparsity, active units and reconstruction error against the L1 weight λ "
            f"(784-{SAE_WIDTHS[0]}-{SAE_CODE} encoder, ReLU code).",
        )
    )
    atoms = decoder_atoms(models[recommended], data.x_test, 40)
    path = image_grid(
        [(f"units {10 * r + 1}–{10 * r + 10}", signed_images(atoms[10 * r : 10 * r + 10])) for r in range(4)],
        data.shape,
        lab.figure("5-atoms.png"),
        title=f"Decoder atoms of the 40 most used code units (λ = {recommended:g})",
    )
    claim.figures.append(
        Figure(
            path,
            "What each of the 40 most used code units adds on its own at the recommended "
            "λ: g(a·e_j) − g(0), with a the unit's mean activation when active — strokes "
            "and parts of digits (grey is 0, lighter adds ink).",
        )
    )
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
    claim = Claim(
        "Contractive encoders are insensitive to small perturbations",
        "Penalising the encoder Jacobian's Frobenius norm ‖J_f(x)‖_F² makes the code move less when the "
        "input moves a little: ‖f(x + δ) − f(x)‖/‖δ‖ falls well below a plain autoencoder's.",
    )
    data, k = lab.mnist, 4
    x = data.x_test[:2000]
    plain = family_model(lab, k).model

    def measure(model, lam: float) -> dict:
        return {
            "lambda": lam,
            "jacobian_norm": mean_jacobian_norm(model, x),
            "perturbation_ratio": perturbation_ratio(model, x, seed=lab.seed),
            "error": error_per_image(model, x),
            "code_spread": float(np.sqrt(encode(model, x).var(axis=0).sum())),
        }

    rows = [measure(plain, 0.0)]
    for lam in CAE_LAMBDAS:
        rows.append(
            measure(
                lab.model(
                    f"cae-{lam:g}",
                    ModelConfig(model="cae", widths=FAMILY_WIDTHS, latent_dim=k, contractive=lam),
                    lab.sizes.epochs,
                ).model,
                lam,
            )
        )
    rec = next(r for r in rows if r["lambda"] == PRESETS["cae"]["contractive"])
    relative = lambda r: r["perturbation_ratio"] / r["code_spread"]  # noqa: E731
    claim.checks = [
        at_most(
            f"‖f(x+δ) − f(x)‖/‖δ‖, CAE (λ = {rec['lambda']:g}) ÷ plain AE",
            rec["perturbation_ratio"] / rows[0]["perturbation_ratio"],
            0.5,
            not lab.sizes.quick,
        )
    ]
    claim.measurements = {"by_lambda": rows, "perturbation_scale": 0.01, "code_size": k}
    claim.notes.append(
        f"The CAE's test error is {rec['error'] / rows[0]['error']:.3f}× the plain AE's. Part of any contraction can "
        f"be "
        f"a smaller code scale that the decoder undoes: the codes' spread (root of the summed variances) is "
        f"{rec['code_spread']:.3g} for the CAE vs {rows[0]['code_spread']:.3g} for the plain AE, so relative to its "
        f"spread the CAE's code moves {relative(rec) / relative(rows[0]):.3g}× as much as the plain AE's."
    )
    lams = [r["lambda"] for r in rows[1:]]
    flat = lambda key: ("plain AE (λ = 0)", [lams[0], lams[-1]], [rows[0][key]] * 2)  # noqa: E731
    path = line_plot(
        [
            {
                "series": [("CAE", lams, [r["jacobian_norm"] for r in rows[1:]]), flat("jacobian_norm")],
                "xlabel": "λ",
                "logx": True,
                "logy": True,
                "ylabel": "mean ‖J_f(x)‖_F",
                "title": "encoder Jacobian",
            },
            {
                "series": [("CAE", lams, [r["perturbation_ratio"] for r in rows[1:]]), flat("perturbation_ratio")],
                "xlabel": "λ",
                "logx": True,
                "logy": True,
                "ylabel": "‖f(x+δ) − f(x)‖ / ‖δ‖",
                "title": "code movement per input movement",
            },
            {
                "series": [("CAE", lams, [r["error"] for r in rows[1:]]), flat("error")],
                "xlabel": "λ",
                "logx": True,
                "ylabel": "test squared error per image",
                "title": "reconstruction",
            },
        ],
        lab.figure("6-contractive.png"),
    )
    claim.figures.append(
        Figure(
            path,
            f"Contractive autoencoders (784-{'-'.join(map(str, FAMILY_WIDTHS))}-{k}) "
            "against the penalty weight λ, beside the plain autoencoder.",
        )
    )
    return claim
