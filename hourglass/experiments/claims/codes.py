"""Claims 7–10: a VAE generates and a plain AE does not; plain AEs are sharper; codes are useful; the hourglass."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ...metrics import encode, fit_code_gaussian, reconstruct, squared_errors
from ...pca import PCABaseline
from ...report import hourglass_diagram, image_grid, latent_scatter, one_per_class
from ...store import checkpoint as ckpt
from ...store import runfolder
from .. import classifier as clf
from ..ingredients import DIAGRAMS, as_images, family_model, reference_model
from ..lab import Lab
from ..measures import knn_accuracy, laplacian_variance, prior_coverage, waist
from ..record import Claim, Figure, at_least, at_most, below


def digit_classifier(lab: Lab):
    """The judge of claim 7: trained once per output folder and kept as safetensors."""
    path = lab.out / "models" / "digit-classifier.safetensors"
    recipe: dict[str, Any] = {
        "epochs": lab.sizes.classifier_epochs,
        "seed": lab.seed,
        "data": lab.mnist.name,
        "trainer": "fit",
    }
    if path.exists():
        model, record = clf.load_classifier(path)
        if record.get("recipe") == recipe:
            return model, record
    data = lab.mnist
    lab.log(f"  digit classifier: training a small CNN for {recipe['epochs']} epochs")
    started = time.perf_counter()
    model = clf.train_classifier(
        data.x_train,
        data.labels("train"),
        data.x_val,
        data.labels("val"),
        epochs=recipe["epochs"],
        seed=lab.seed,
        progress=lab.progress,
        device=lab.device,
    )
    accuracy = float((clf.predict_proba(model, data.x_test).argmax(axis=1) == data.labels("test")).mean())
    record = {"recipe": recipe, "test_accuracy": accuracy, "train_seconds": time.perf_counter() - started}
    clf.save_classifier(model, path, record)
    return model, record


def claim_generative(lab: Lab) -> Claim:
    claim = Claim(
        "A plain autoencoder is not a generative model; a VAE is",
        "Nothing makes a plain autoencoder's codes fill N(0, I), so codes drawn from it decode mostly to "
        "non-digits; a VAE's KL term makes its codes (draws from q(z|x)) cover the prior, so its samples "
        "look like digits.",
    )
    data, n = lab.mnist, lab.sizes.draws
    ae, vae = reference_model(lab, "ae").model, reference_model(lab, "vae").model
    judge, record = digit_classifier(lab)
    claim.checks.append(at_least("digit classifier: test accuracy", record["test_accuracy"], 0.99, not lab.sizes.quick))
    generator = lambda: torch.Generator().manual_seed(lab.seed)  # noqa: E731
    mean, scale_tril = fit_code_gaussian(ae, data.x_train)
    samples = {
        "AE, z ~ N(0, I)": ae.sample(n, generator()).numpy(),
        "AE, z ~ Gaussian fitted to its codes": ae.sample(n, generator(), mean, scale_tril).numpy(),
        "VAE, z ~ N(0, I)": vae.sample(n, generator()).numpy(),
    }
    real = clf.features(judge, data.x_test)
    scores = {}
    for name, images in samples.items():
        images = as_images(images)
        scores[name] = {
            "frechet_distance": clf.frechet_distance(clf.features(judge, images), real),
            "mean_confidence": float(clf.predict_proba(judge, images).max(axis=1).mean()),
        }
    fd = {name: s["frechet_distance"] for name, s in scores.items()}
    claim.checks.insert(
        0,
        at_most(
            "Fréchet distance, VAE ÷ plain AE decoding N(0, I)",
            fd["VAE, z ~ N(0, I)"] / fd["AE, z ~ N(0, I)"],
            0.5,
            not lab.sizes.quick,
        ),
    )
    coverage = {
        "plain AE": prior_coverage(ae, data.x_train, n_draws=n, seed=lab.seed),
        "VAE": prior_coverage(vae, data.x_train, n_draws=n, seed=lab.seed),
    }
    claim.checks.append(
        below(
            "prior draws outside the training codes' region, VAE ÷ plain AE",
            coverage["VAE"]["outside_fraction"] / max(coverage["plain AE"]["outside_fraction"], 1e-9),
            1.0,
            not lab.sizes.quick,
        )
    )
    claim.measurements = {
        "samples": scores,
        "coverage": coverage,
        "n_samples": n,
        "test_set_self_distance": clf.frechet_distance(clf.features(judge, data.x_val), real),
        "classifier": record,
    }
    claim.notes.append(
        f"Prior draws outside the training codes' region (nearest-code distance beyond the 99th percentile of the "
        f"codes' own; a VAE's codes are draws from q(z|x)): plain AE "
        f"{coverage['plain AE']['outside_fraction']:.1%}, VAE "
        f"{coverage['VAE']['outside_fraction']:.1%}. For scale, the validation images' own Fréchet distance to the "
        f"test images is {claim.measurements['test_set_self_distance']:.3g}."
    )
    rows = []
    for name, images in samples.items():
        rows += [
            (
                f"{name.split(',')[0]}, {'N(0, I)' if 'N(0' in name else 'fitted'} ({r + 1})",
                as_images(images[12 * r : 12 * r + 12]),
            )
            for r in range(2)
        ]
    path = image_grid(rows, data.shape, lab.figure("7-samples.png"), title="Decoded draws")
    claim.figures.append(
        Figure(
            path,
            "Decoded codes: a plain autoencoder given z ~ N(0, I), the same autoencoder "
            "given draws from a Gaussian fitted to its training codes, and a VAE given "
            "z ~ N(0, I); same architecture and code size (16).",
        )
    )
    return claim


# ------------------------------------------------------------------------------------------------------ claim 8


def claim_sharpness(lab: Lab) -> Claim:
    claim = Claim(
        "Plain autoencoders reconstruct more sharply than VAEs",
        "With the same architecture and code size, a plain autoencoder reconstructs with lower error than "
        "a VAE, whose KL term and noisy code blur the reconstructions: their sharpness (variance of the "
        "Laplacian) is further from the originals'.",
    )
    data, x = lab.mnist, lab.mnist.x_test
    ae, vae = reference_model(lab, "ae").model, reference_model(lab, "vae").model
    rec = {"AE": as_images(reconstruct(ae, x)), "VAE": as_images(reconstruct(vae, x))}
    errors = {name: float(squared_errors(x, r).mean()) for name, r in rec.items()}
    sharp = {
        "originals": laplacian_variance(x, data.shape),
        **{name: laplacian_variance(r, data.shape) for name, r in rec.items()},
    }
    gap = {name: abs(sharp[name] - sharp["originals"]) for name in rec}
    claim.checks = [
        below("test error, AE ÷ VAE", errors["AE"] / errors["VAE"], 1.0),
        below("sharpness gap to the originals, AE ÷ VAE", gap["AE"] / gap["VAE"], 1.0),
    ]
    claim.measurements = {"error": errors, "laplacian_variance": sharp}
    show = one_per_class(data.labels("test"))
    path = image_grid(
        [
            ("original", x[show]),
            (f"AE ({errors['AE']:.1f})", rec["AE"][show]),
            (f"VAE ({errors['VAE']:.1f})", rec["VAE"][show]),
        ],
        data.shape,
        lab.figure("8-sharpness.png"),
        title="Reconstructions with a 16-d code",
    )
    claim.figures.append(
        Figure(
            path,
            "Test digits and their reconstructions by a plain autoencoder and a VAE of "
            "the same architecture (test squared error per image in brackets).",
        )
    )
    return claim


# ------------------------------------------------------------------------------------------------------ claim 9


def claim_useful_codes(lab: Lab) -> Claim:
    claim = Claim(
        "The code is a useful representation",
        "Nearest neighbours in the autoencoder's code agree on the digit at least as often as nearest "
        "neighbours in PCA's projection of the same size.",
    )
    data = lab.mnist
    acc: dict[str, list] = {"k": [2, 4, 16], "ae": [], "pca": []}
    for k in acc["k"]:
        model = family_model(lab, k).model
        acc["ae"].append(
            knn_accuracy(
                encode(model, data.x_train), data.labels("train"), encode(model, data.x_test), data.labels("test")
            )
        )
        pca = PCABaseline(k).fit(data.x_train)
        acc["pca"].append(
            knn_accuracy(pca.encode(data.x_train), data.labels("train"), pca.encode(data.x_test), data.labels("test"))
        )
    claim.checks = [
        at_least(
            "smallest AE − PCA 5-NN test accuracy over k ∈ {2, 4, 16}",
            min(a - p for a, p in zip(acc["ae"], acc["pca"], strict=True)),
            0.0,
            not lab.sizes.quick,
        )
    ]
    claim.measurements = {"knn_accuracy": acc, "neighbours": 5}
    model = family_model(lab, 2).model
    path = latent_scatter(
        [
            ("autoencoder code (k = 2)", encode(model, data.x_test)),
            ("PCA projection (k = 2)", PCABaseline(2).fit(data.x_train).encode(data.x_test)),
        ],
        data.labels("test"),
        lab.figure("9-codes.png"),
        title="MNIST test set in two dimensions",
    )
    claim.figures.append(Figure(path, "The test set's 2-D codes coloured by digit, beside PCA's 2-D projection."))
    return claim


# ----------------------------------------------------------------------------------------------------- claim 10


def claim_hourglass(lab: Lab) -> Claim:
    claim = Claim(
        "The hourglass",
        "Every model here is an encoder that narrows to a code and a decoder that widens back: the code sits "
        "at the waist. (The overcomplete sparse code is the exception that proves the rule: its waist is "
        "wide, and the penalty makes the bottleneck.) Checked on every MNIST model in the output folder.",
    )
    family_model(lab, 2), reference_model(lab, "vae")  # two of the drawn models, trained here if run alone
    waist_is_code, shapes = [], []
    for folder in sorted(p for p in (lab.out / "models").iterdir() if runfolder.holds_run(p)):
        model = ckpt.load(folder).model
        arch = model.architecture
        if tuple(arch.input_shape) != tuple(lab.mnist.shape):  # the 2-D and 3-D toy data
            continue
        measured = waist(model)  # the built network, layer by layer: not the config it came from
        if measured["code"] < lab.mnist.n_features:
            waist_is_code.append(measured["narrowest"] == measured["code"])
            shapes.append({"model": folder.name, "sizes": measured["sizes"]})
        if folder.name in DIAGRAMS:
            path = hourglass_diagram(
                arch, lab.figure(f"10-{folder.name}.svg"), model.kind, title=f"{folder.name}: {model.kind} {arch.kind}"
            )
            claim.figures.append(
                Figure(
                    path, f"{folder.name}, drawn by `hourglass diagram {folder.relative_to(lab.out)} -o {path.name}`."
                )
            )
    claim.checks = [
        at_least(
            "undercomplete models whose narrowest layer is the code (fraction)",
            float(np.mean(waist_is_code)) if waist_is_code else 0.0,
            1.0,
        )
    ]
    claim.measurements = {"models_checked": len(waist_is_code), "diagrams": len(claim.figures), "layer_sizes": shapes}
    return claim
