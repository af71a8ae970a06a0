"""Claim 11: a plain autoencoder with a denoising model on its codes is a generative model — and so is a discrete
code with an autoregressive model of its grid.

The account's last line — "for generation, use a VAE, GAN, normalizing flow, or diffusion model; the plain
autoencoder is the conceptual ancestor of all of these" — made testable. Claim 7's plain AE (the same 16-d MLP,
the same digit CNN judging) is given four priors on its codes: N(0, I), a fitted Gaussian, a Gaussian mixture
(Ghosh et al. 2020) and latent diffusion (Rombach et al. 2022), beside claim 7's VAE. Two discrete codes — a VQ-VAE
(van den Oord et al. 2017) and finite scalar quantisation (Mentzer et al. 2023) — are given an autoregressive prior
over their 7 × 7 grids of indices, as van den Oord et al. gave theirs a PixelCNN.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from ...metrics import codebook_usage, encode
from ...priors import AutoregressivePrior, DiffusionPrior, GaussianPrior, MixturePrior, grid_of
from ...priors.saved import load_prior, save_prior
from ...report import image_grid
from ...store import checkpoint as ckpt
from ...training.loop import TrainConfig
from ...workflow import ModelConfig
from .. import classifier as clf
from ..ingredients import as_images, error_per_image, reference_model
from ..lab import Lab
from ..record import Claim, Figure, at_least, at_most
from .codes import digit_classifier
from .pca import conv_reference

PRIOR_TIME_S, SAMPLE_TIME_S = 10 * 60, 60  # the latent diffusion prior: training, and 10,000 samples by 50 DDIM steps
AR_TIME_S, AR_SAMPLE_TIME_S = 15 * 60, 120  # an autoregressive prior: training, and 10,000 samples decoded
FSQ_LEVELS = "fsq:8,5,5,5"  # Mentzer et al.'s levels for about 2¹⁰ codes: 1,000, ≈ 10 bits per grid position
DISCRETE_FD = 66.0  # a discrete code's draws: half the VAE's Fréchet distance, fixed when the criterion was set


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3, chunk: int = 2000) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019) in a feature space: precision, the share of fake
    samples within the k-NN ball of some real sample; recall, the share of real samples within that of some fake."""
    a, b = torch.as_tensor(real, dtype=torch.float32), torch.as_tensor(fake, dtype=torch.float32)

    def radii(x):
        return torch.cat(
            [torch.cdist(x[i : i + chunk], x).kthvalue(k + 1, dim=1).values for i in range(0, len(x), chunk)]
        )

    def covered(points, centres, r):
        return torch.cat(
            [(torch.cdist(points[i : i + chunk], centres) <= r).any(dim=1) for i in range(0, len(points), chunk)]
        )

    ra, rb = radii(a), radii(b)
    return {"precision": float(covered(b, a, ra).float().mean()), "recall": float(covered(a, b, rb).float().mean())}


def _prior(lab: Lab, name: str, trained, make, recipe: dict):
    """The prior ``name`` of a lab model: loaded from its folder when fitted with the same ``recipe`` to the same
    weights, else fitted now by ``make()`` and saved. Returns (prior, seconds to fit)."""
    checkpoint = ckpt.load(trained.folder)
    try:
        prior = load_prior(checkpoint, name)
        import json

        record = json.loads((trained.folder / "priors" / f"{name}.json").read_text())
        if record.get("recipe") == recipe:
            lab.log(f"  {trained.folder.name}: {name} prior fitted earlier ({record['fit_seconds']:.0f} s), loaded")
            return prior, record["fit_seconds"]
    except ValueError:
        pass
    lab.log(f"  {trained.folder.name}: fitting the {name} prior")
    started = time.perf_counter()
    prior = make()
    seconds = time.perf_counter() - started
    save_prior(prior, checkpoint, {"recipe": recipe, "fit_seconds": seconds})
    return prior, seconds


def bits_per_image(model) -> float:
    """What a discrete code holds: its positions P times log2 of the codes each can take."""
    return model.latent_dim / model.quantizer.dim * math.log2(model.quantizer.entries)


def discrete_prior(lab: Lab, trained, epochs: int):
    """The autoregressive prior over a discrete model's grids of training codes (validated on the validation
    split's), fitted once per recipe and kept in the lab model's folder. Returns (prior, seconds to fit)."""
    model, data = trained.model, lab.mnist
    grids = [grid_of(model, encode(model, x)) for x in (data.x_train, data.x_val)]
    config = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, seed=lab.seed, progress=lab.progress,
                         device=lab.device)  # fmt: skip
    recipe = {"epochs": epochs, "seed": lab.seed, "sizes": lab.sizes.name}
    net = {"width": lab.sizes.ar_width, "layers": lab.sizes.ar_layers}
    fit = lambda: AutoregressivePrior.fit(grids[0], model.quantizer.entries, lab.seed, config, grids[1], **net)  # noqa: E731
    return _prior(lab, "autoregressive", trained, fit, recipe)


def claim_generation(lab: Lab) -> Claim:
    claim = Claim(
        "A plain autoencoder with a denoising model on its codes is a generative model",
        "A prior fitted after training to a plain autoencoder's codes draws codes inside the region they occupy; "
        "a denoising diffusion model on the codes — the denoising autoencoder, trained at every noise level — "
        "draws them best, and the decoder turns them into digits as good as a VAE's, or better. A discrete code "
        "(a VQ-VAE's, or finite scalar quantisation's) uses its codes, reconstructs about as well as a continuous "
        "one, and with an autoregressive prior over its grid of indices draws digits better than the VAE's.",
    )
    data, n, quick = lab.mnist, lab.sizes.draws, lab.sizes.quick
    ae, vae = reference_model(lab, "ae"), reference_model(lab, "vae")
    discrete = {
        "VQ-VAE": lab.model("vqvae", ModelConfig(model="vqvae"), lab.sizes.vq_epochs),
        "FSQ": lab.model(FSQ_LEVELS.replace(":", "-").replace(",", "."), ModelConfig(quantizer=FSQ_LEVELS),
                         lab.sizes.vq_epochs),
    }  # fmt: skip
    conv = conv_reference(lab)
    judge, record = digit_classifier(lab)
    epochs = lab.sizes.prior_epochs
    config = TrainConfig(
        epochs=epochs, batch_size=512, lr=1e-3, seed=lab.seed, progress=lab.progress, device=lab.device
    )
    codes = {"ae": (encode(ae.model, data.x_train), encode(ae.model, data.x_val))}
    recipe = {"epochs": epochs, "seed": lab.seed, "sizes": lab.sizes.name}
    components = 5 if quick else None  # the quick run skips the BIC search over the grid
    gmm, gmm_s = _prior(lab, "gmm", ae, lambda: MixturePrior.fit(codes["ae"][0], lab.seed, components), recipe)
    diffusion, diffusion_s = _prior(
        lab, "diffusion", ae, lambda: DiffusionPrior.fit(codes["ae"][0], lab.seed, config, codes["ae"][1]), recipe
    )
    autoregressive = {name: discrete_prior(lab, m, lab.sizes.ar_epochs) for name, m in discrete.items()}
    gaussian = GaussianPrior.fit(codes["ae"][0])
    g = lambda: torch.Generator().manual_seed(lab.seed)  # noqa: E731

    def timed(draw):
        started = time.perf_counter()
        images = draw()
        return images, time.perf_counter() - started

    def decoded(model, prior, grids=False):
        def codes(m):  # an autoregressive prior draws grids of indices, which the quantiser makes codes
            return model.quantizer.codes(prior.sample(m, generator)) if grids else prior.sample(m, generator)

        return lambda: np.concatenate(
            [model.decode(codes(min(1000, n - i))).detach().numpy() for i in range(0, n, 1000)]
        )

    generator = g()
    samplers = {
        "AE + N(0, I)": lambda: ae.model.sample(n, g()).numpy(),
        "AE + fitted Gaussian": decoded(ae.model, gaussian),
        "AE + GMM": decoded(ae.model, gmm),
        "AE + latent diffusion": decoded(ae.model, diffusion),
        "VAE + N(0, I)": lambda: vae.model.sample(n, g()).numpy(),
        **{f"{name} + autoregressive": decoded(m.model, autoregressive[name][0], grids=True)
           for name, m in discrete.items()},
    }  # fmt: skip
    real = clf.features(judge, data.x_test)
    scores, shown = {}, {}
    for name, draw in samplers.items():
        generator.manual_seed(lab.seed)
        images, seconds = timed(draw)
        images = as_images(images)
        feats = clf.features(judge, images)
        scores[name] = {
            "frechet_distance": clf.frechet_distance(feats, real),
            "mean_confidence": float(clf.predict_proba(judge, images).max(axis=1).mean()),
            **precision_recall(real, feats),
            "samples_per_s": n / seconds,
        }
        shown[name] = images[:24]
    fd = {name: s["frechet_distance"] for name, s in scores.items()}
    usage = {name: codebook_usage(m.model, data.x_test) for name, m in discrete.items()}
    errors = {name: error_per_image(m.model, data.x_test) for name, m in [*discrete.items(), ("conv", conv)]}
    best = min(discrete, key=lambda name: fd[f"{name} + autoregressive"])  # the target is met by either
    judged = not quick
    fsq_used = usage["FSQ"]["codebook_used"] / usage["FSQ"]["codebook_entries"]
    claim.checks += [
        at_most("Fréchet distance, AE + latent diffusion ÷ VAE", fd["AE + latent diffusion"] / fd["VAE + N(0, I)"],
                0.35, judged),
        at_least("recall, AE + latent diffusion − VAE", scores["AE + latent diffusion"]["recall"]
                 - scores["VAE + N(0, I)"]["recall"], 0.0, judged),
        at_most("Fréchet distance, AE + GMM ÷ AE + fitted Gaussian", fd["AE + GMM"] / fd["AE + fitted Gaussian"],
                0.5, judged),
        at_most("Fréchet distance, AE + GMM ÷ VAE", fd["AE + GMM"] / fd["VAE + N(0, I)"], 1.0, judged),
        at_most("latent diffusion prior: training seconds", diffusion_s, PRIOR_TIME_S, judged),
        at_most(f"latent diffusion: seconds for {n:,} samples (50 DDIM steps, decoded)",
                n / scores["AE + latent diffusion"]["samples_per_s"], SAMPLE_TIME_S, judged),
        at_most(f"Fréchet distance, {best} + autoregressive (the better discrete code)",
                fd[f"{best} + autoregressive"], DISCRETE_FD, judged),
        at_least(f"recall, {best} + autoregressive − VAE", scores[f"{best} + autoregressive"]["recall"]
                 - scores["VAE + N(0, I)"]["recall"], 0.0, judged),
        at_least("FSQ: share of its codes used on the test set", fsq_used, 0.95, judged),
        at_least(f"VQ-VAE codebook perplexity (of {usage['VQ-VAE']['codebook_entries']})",
                 usage["VQ-VAE"]["codebook_perplexity"], usage["VQ-VAE"]["codebook_entries"] / 2, judged),
        *(at_most(f"{name} test error ÷ claim 3's conv pair (30-d code)", errors[name] / errors["conv"], 1.25,
                  judged) for name in discrete),
        at_most("autoregressive priors: training seconds (the slower)",
                max(seconds for _, seconds in autoregressive.values()), AR_TIME_S, judged),
        at_most(f"autoregressive priors: seconds for {n:,} samples, decoded (the slower)",
                max(n / scores[f"{name} + autoregressive"]["samples_per_s"] for name in discrete), AR_SAMPLE_TIME_S,
                judged),
    ]  # fmt: skip
    claim.measurements = {
        "samples": scores,
        "n_samples": n,
        "prior_seconds": {
            "gmm": gmm_s,
            "diffusion": diffusion_s,
            **{f"{name} autoregressive": seconds for name, (_, seconds) in autoregressive.items()},
        },
        "gmm_components": len(gmm.weights),
        "gmm_bic": gmm.bic,
        "discrete": {
            name: {
                **usage[name],
                "test_error": errors[name],
                "bits_per_image": bits_per_image(m.model),
            }
            for name, m in discrete.items()
        },
        "conv_test_error": errors["conv"],
        "classifier": record,
    }
    claim.notes.append(
        "Precision and recall after Kynkäänniemi et al. (2019), k = 3, in the digit CNN's feature space, against the "
        f"{len(real):,} test images. The GMM has {len(gmm.weights)} components"
        + (f" (BIC over {', '.join(map(str, sorted(gmm.bic)))})" if gmm.bic else "")
        + ". The VQ-VAE's code is a 7 × 7 grid of 16-d vectors, each one "
        f"of {usage['VQ-VAE']['codebook_entries']} entries (started as k-means centres, restarted when unused); "
        f"FSQ's a 7 × 7 grid of {FSQ_LEVELS[4:]} levels, {usage['FSQ']['codebook_entries']:,} codes. Their "
        f"autoregressive priors are causal transformers over the 49 indices (width {lab.sizes.ar_width}, "
        f"{lab.sizes.ar_layers} layers, {lab.sizes.ar_epochs} epochs), sampled at temperature 1 from all codes."
    )
    rows = [(name, images[:12]) for name, images in shown.items()]
    path = image_grid(rows, data.shape, lab.figure("11-samplers.png"), title="Decoded draws, one sampler a row")
    claim.figures.append(
        Figure(
            path,
            "Decoded draws from each sampler: the plain AE with four priors on its codes, the VAE, and "
            "the two discrete codes with autoregressive priors over their grids.",
        )  # fmt: skip
    )
    return claim
