"""Claim 11: a plain autoencoder with a denoising model on its codes is a generative model.

The account's last line — "for generation, use a VAE, GAN, normalizing flow, or diffusion model; the plain
autoencoder is the conceptual ancestor of all of these" — made testable. Claim 7's plain AE (the same 16-d MLP,
the same digit CNN judging) is given four priors on its codes: N(0, I), a fitted Gaussian, a Gaussian mixture
(Ghosh et al. 2020) and latent diffusion (Rombach et al. 2022), beside claim 7's VAE and a VQ-VAE whose prior is
latent diffusion on its grid before quantisation (van den Oord et al. 2017).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ...losses import Objective
from ...metrics import codebook_usage, encode
from ...models import Autoencoder
from ...priors import DiffusionPrior, GaussianPrior, MixturePrior
from ...priors.saved import load_prior, save_prior
from ...report import image_grid
from ...store import checkpoint as ckpt
from ...training.loop import TrainConfig, fit
from ...workflow import ModelConfig
from .. import classifier as clf
from ..ingredients import as_images, error_per_image, reference_model
from ..lab import Lab
from ..record import Claim, Figure, at_least, at_most
from .codes import digit_classifier

PRIOR_TIME_S, SAMPLE_TIME_S = 10 * 60, 60  # the latent diffusion prior: training, and 10,000 samples by 50 DDIM steps


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


def continuous_twin(lab: Lab, vq: Autoencoder) -> Autoencoder:
    """The VQ-VAE's nets without the quantiser — the same encoder, decoder and grid of 7 × 7 × 16 continuous
    numbers — trained with the same recipe. (Trained here, not through the lab: a continuous code as wide as the
    image is refused by ``train`` for the identity it could learn; here it is the point of comparison.)"""
    data = lab.mnist
    assert vq.architecture is not None, "a VQ-VAE built from an Architecture"
    model = Autoencoder.from_architecture(vq.architecture, "sigmoid", seed=lab.seed)
    config = TrainConfig(
        epochs=lab.sizes.vq_epochs, lr=3e-3, batch_size=lab.sizes.batch_size, seed=lab.seed, progress=lab.progress,
        device=lab.device,
    )  # fmt: skip
    lab.log(f"  the VQ-VAE's continuous twin: training for {config.epochs} epochs")
    fit(model, Objective("bce"), data.x_train, data.x_val, config)
    return model.cpu().eval()


def claim_generation(lab: Lab) -> Claim:
    claim = Claim(
        "A plain autoencoder with a denoising model on its codes is a generative model",
        "A prior fitted after training to a plain autoencoder's codes draws codes inside the region they occupy; "
        "a denoising diffusion model on the codes — the denoising autoencoder, trained at every noise level — "
        "draws them best, and the decoder turns them into digits as good as a VAE's, or better.",
    )
    data, n, quick = lab.mnist, lab.sizes.draws, lab.sizes.quick
    ae, vae = reference_model(lab, "ae"), reference_model(lab, "vae")
    vq = lab.model("vqvae", ModelConfig(model="vqvae"), lab.sizes.vq_epochs)
    grid_ae = continuous_twin(lab, vq.model)
    judge, record = digit_classifier(lab)
    epochs = lab.sizes.prior_epochs
    config = TrainConfig(
        epochs=epochs, batch_size=512, lr=1e-3, seed=lab.seed, progress=lab.progress, device=lab.device
    )
    codes = {name: (encode(m.model, data.x_train), encode(m.model, data.x_val)) for name, m in (("ae", ae), ("vq", vq))}
    recipe = {"epochs": epochs, "seed": lab.seed, "sizes": lab.sizes.name}
    components = 5 if quick else None  # the quick run skips the BIC search over the grid
    gmm, gmm_s = _prior(lab, "gmm", ae, lambda: MixturePrior.fit(codes["ae"][0], lab.seed, components), recipe)
    diffusion, diffusion_s = _prior(
        lab, "diffusion", ae, lambda: DiffusionPrior.fit(codes["ae"][0], lab.seed, config, codes["ae"][1]), recipe
    )
    vq_diffusion, vq_diffusion_s = _prior(
        lab, "diffusion", vq, lambda: DiffusionPrior.fit(codes["vq"][0], lab.seed, config, codes["vq"][1]), recipe
    )
    gaussian = GaussianPrior.fit(codes["ae"][0])
    g = lambda: torch.Generator().manual_seed(lab.seed)  # noqa: E731

    def timed(draw):
        started = time.perf_counter()
        images = draw()
        return images, time.perf_counter() - started

    def decoded(model, prior):
        return lambda: np.concatenate(
            [model.decode(prior.sample(min(1000, n - i), generator)).detach().numpy() for i in range(0, n, 1000)]
        )

    generator = g()
    samplers = {
        "AE + N(0, I)": lambda: ae.model.sample(n, g()).numpy(),
        "AE + fitted Gaussian": decoded(ae.model, gaussian),
        "AE + GMM": decoded(ae.model, gmm),
        "AE + latent diffusion": decoded(ae.model, diffusion),
        "VAE + N(0, I)": lambda: vae.model.sample(n, g()).numpy(),
        "VQ-VAE + latent diffusion": decoded(vq.model, vq_diffusion),
    }
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
    usage = codebook_usage(vq.model, data.x_test)
    vq_error, grid_error = error_per_image(vq.model, data.x_test), error_per_image(grid_ae, data.x_test)
    judged = not quick
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
        at_most("VQ-VAE test error ÷ its continuous twin (same nets and grid)", vq_error / grid_error,
                1.25, judged),
        at_least(f"VQ-VAE codebook perplexity (of {usage['codebook_entries']})", usage["codebook_perplexity"], 64,
                 judged),
    ]  # fmt: skip
    claim.measurements = {
        "samples": scores,
        "n_samples": n,
        "prior_seconds": {"gmm": gmm_s, "diffusion": diffusion_s, "vq_diffusion": vq_diffusion_s},
        "gmm_components": len(gmm.weights),
        "gmm_bic": gmm.bic,
        "vqvae": {**usage, "test_error": vq_error, "continuous_test_error": grid_error},
        "classifier": record,
    }
    claim.notes.append(
        "Precision and recall after Kynkäänniemi et al. (2019), k = 3, in the digit CNN's feature space, against the "
        f"{len(real):,} test images. The GMM has {len(gmm.weights)} components"
        + (f" (BIC over {', '.join(map(str, sorted(gmm.bic)))})" if gmm.bic else "")
        + ". The VQ-VAE's code is a 7 × 7 grid of 16-d vectors, each one "
        f"of {usage['codebook_entries']} entries; its continuous twin has the same nets and a "
        f"{grid_ae.latent_dim}-d grid, not quantised."
    )
    rows = [(name, images[:12]) for name, images in shown.items()]
    path = image_grid(rows, data.shape, lab.figure("11-samplers.png"), title="Decoded draws, one sampler a row")
    claim.figures.append(
        Figure(
            path,
            "Decoded draws from each sampler: the plain AE with four priors on its codes, the VAE, and "
            "the VQ-VAE with latent diffusion on its grid.",
        )  # fmt: skip
    )
    return claim
