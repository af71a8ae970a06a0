"""Quantisers: the discrete code of the VQ-VAE (van den Oord et al. 2017), a layer q between f and g — a learned
codebook (:class:`VectorQuantizer`), or finite scalar quantisation (:class:`FiniteScalarQuantizer`).

The encoder's output is a grid of P vectors of d numbers (a code of k = P·d, stored position by position); each
vector is replaced by the nearest of K codebook entries. Every formula is written once, here:

- the nearest entry, argmin_j ‖z − e_j‖² (ibid., eq. 1);
- straight-through gradients, z_q = z + sg(e − z): the decoder sees e, the encoder gets the decoder's gradient as
  if there were no rounding (ibid., §3.1);
- the commitment loss ‖z − sg(e)‖² (weight β = 0.25) and, when the codebook learns by gradient, the codebook loss
  ‖sg(z) − e‖² (ibid., eq. 3);
- the exponential-moving-average codebook instead (ibid., appendix A.1; decay γ = 0.99, Laplace smoothing ε = 1e-5):
  N_j ← γ N_j + (1 − γ) n_j, m_j ← γ m_j + (1 − γ) Σ_{z → j} z, e_j = m_j / N_j;
- the entries start where codes are, not at random: as the k-means centres of the first training batch's vectors
  (Zeghidour et al. 2021, SoundStream §3.2; Łańcucki et al. 2020), or as randomly drawn vectors of it;
- a cosine lookup (Yu et al. 2021, ViT-VQGAN §3.2): vectors and entries are l2-normalised before the nearest is
  sought, so the distance is 2 − 2 cos θ and the entries live on the unit sphere (ViT-VQGAN's low-dimensional
  lookup is a small d: the encoder's last layer is the projection it adds);
- the restart of dead entries — an entry whose moving count N_j (an EMA of its usage) falls below ``dead_below``
  times the entries' mean count is moved onto a random encoder output of the batch (Dhariwal et al. 2020, Jukebox
  §2.4; Zeghidour et al. 2021, SoundStream §3.2);
- the codebook's perplexity exp(−Σ_j p_j log p_j), p_j the share of vectors assigned to entry j: K if all are used
  evenly, 1 if one is.

Finite scalar quantisation (Mentzer et al. 2023, "Finite Scalar Quantization: VQ-VAE Made Simple", §3) needs no
codebook: each of the d numbers of a grid position is bounded, ⌊L/2⌋ tanh(z) (shifted by half a level when L is
even), and rounded to one of its L integer levels; the code is the product of the levels' grids, Π L_i implicit
entries. Rounding passes gradients straight through (the bound's own gradient is kept), so there is no commitment
loss, no codebook to update and nothing to collapse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .errors import HourglassError

CODEBOOK_INITS = ("kmeans", "batch")  # the first batch's k-means centres, or vectors drawn from it
LOOKUPS = ("euclidean", "cosine")  # the nearest entry as is, or after l2-normalising vectors and entries


def nearest_entries(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """The index of the nearest codebook entry of each vector: z (M, d), codebook (K, d) → (M,) long."""
    distances = (z * z).sum(1, keepdim=True) - 2 * z @ codebook.T + (codebook * codebook).sum(1)
    return distances.argmin(1)


def straight_through(z: torch.Tensor, z_q: torch.Tensor) -> torch.Tensor:
    """z_q in the forward pass, the identity in the backward: z + sg(z_q − z)."""
    return z + (z_q - z).detach()


def perplexity(indices: torch.Tensor, entries: int) -> float:
    """exp(entropy) of the entries' usage in ``indices`` (any shape): between 1 and ``entries``."""
    p = torch.bincount(indices.flatten(), minlength=entries).double()
    p = p / p.sum()
    return float(torch.exp(-(p[p > 0] * p[p > 0].log()).sum()))


class VectorQuantizer(nn.Module):
    """The codebook: (N, P·d) codes → (N, P·d) quantised codes, each of the P d-vectors replaced by its nearest of
    the ``entries`` rows of the codebook.

    Parameters
    ----------
    entries : int
        K, the codebook's size.
    dim : int
        d, the numbers of each vector (the code holds P·d numbers).
    ema : bool, optional
        Update the codebook by moving averages (in training mode, as BatchNorm updates its statistics), else leave
        it to the codebook loss.
    decay : float, optional
        γ of the moving averages.
    dead_below : float, optional
        Restart entries whose moving count falls below this share of the mean count (0: never).
    init : str, optional
        How the first training batch sets the entries (:data:`CODEBOOK_INITS`): its k-means centres, or vectors
        drawn from it.
    lookup : str, optional
        :data:`LOOKUPS`: "euclidean", or "cosine" (vectors and entries l2-normalised; the quantised vectors are unit
        vectors).
    """

    codebook: torch.Tensor  # (K, d): a buffer with ema, else a parameter
    counts: torch.Tensor  # (K,): each entry's moving count of vectors
    sums: torch.Tensor  # (K, d): the moving sums of their vectors (ema)
    started: torch.Tensor  # 1 once the entries were set from data

    def __init__(
        self,
        entries: int,
        dim: int,
        ema: bool = True,
        decay: float = 0.99,
        dead_below: float = 0.1,
        init: str = "batch",
        lookup: str = "euclidean",
    ):
        super().__init__()
        self.entries, self.dim, self.ema, self.decay, self.dead_below = entries, dim, ema, decay, dead_below
        self.init, self.lookup = init, lookup
        codebook = self.looked_up(torch.randn(entries, dim) / dim**0.5)
        self.register_buffer(
            "started", torch.zeros(())
        )  # 1 once the entries are set from data (float: a checkpoint holds floats)
        if ema:
            self.register_buffer("codebook", codebook)
            self.register_buffer("counts", torch.ones(entries))
            self.register_buffer("sums", codebook.clone())
        else:
            self.codebook = nn.Parameter(codebook)
            self.register_buffer("counts", torch.ones(entries))

    def looked_up(self, v: torch.Tensor) -> torch.Tensor:
        """Vectors (M, d) as the lookup compares them: l2-normalised for a cosine lookup, else as they are."""
        return F.normalize(v, dim=1) if self.lookup == "cosine" else v

    def table(self) -> torch.Tensor:
        """The entries as the lookup compares them and the decoder receives them: (K, d)."""
        return self.looked_up(self.codebook)

    def vectors(self, z: torch.Tensor) -> torch.Tensor:
        """The code's P vectors per sample as the lookup sees them: (N, P·d) → (N·P, d)."""
        return self.looked_up(z.reshape(-1, self.dim))

    def indices(self, z: torch.Tensor) -> torch.Tensor:
        """Each code's entries: (N, P·d) → (N, P) long."""
        return nearest_entries(self.vectors(z.float()), self.table().float()).reshape(len(z), -1)

    def quantize(self, z: torch.Tensor) -> torch.Tensor:
        """The nearest entries, no update: (N, P·d) → (N, P·d)."""
        return self.table()[self.indices(z)].reshape(z.shape).to(z.dtype)

    def decoder_input(self, z: torch.Tensor, z_q: torch.Tensor) -> torch.Tensor:
        """What g receives: z_q forward, the gradient passed straight through to z (ibid., §3.1) — to z's unit
        vectors for a cosine lookup."""
        return straight_through(self.vectors(z).reshape(z.shape), z_q)

    def codes(self, indices: torch.Tensor) -> torch.Tensor:
        """The entries of each index, a code that quantises to them: (N, P) long → (N, P·d)."""
        return self.table()[indices].reshape(len(indices), -1)

    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The quantised code (N, P·d); in training mode, the codebook's moving averages (with ``ema``), the counts
        and the restarts are updated from this batch (``generator`` picks the restarted entries' new vectors)."""
        flat = self.vectors(z).float()
        index = nearest_entries(flat.detach(), self.table().float())
        if self.training:
            self._update(flat.detach(), index, generator)
        return self.table()[index].reshape(z.shape).to(z.dtype)

    @torch.no_grad()
    def _update(self, flat: torch.Tensor, index: torch.Tensor, generator: torch.Generator | None) -> None:
        if not self.started:
            self._start(flat, generator)
            index = nearest_entries(flat, self.table().float())
        one_hot = nn.functional.one_hot(index, self.entries).type(flat.dtype)  # (M, K)
        batch_counts = one_hot.sum(0)
        self.counts.mul_(self.decay).add_(batch_counts, alpha=1 - self.decay)
        if self.ema:
            self.sums.mul_(self.decay).add_(one_hot.T @ flat, alpha=1 - self.decay)
            n = self.counts.sum()
            smoothed = (self.counts + 1e-5) / (n + self.entries * 1e-5) * n  # Laplace smoothing: no division by 0
            self.codebook.copy_(self.looked_up(self.sums / smoothed.unsqueeze(1)))
        dead = self.counts < self.dead_below * self.counts.mean()
        if self.dead_below > 0 and dead.any():
            self._restart(dead, flat, generator)

    def _start(self, flat: torch.Tensor, generator: torch.Generator | None) -> None:
        """Set every entry from the first batch's vectors (M, d): their k-means centres (Lloyd's algorithm from
        k-means++ seeds, scikit-learn's), or, with init "batch" or fewer vectors than entries, vectors drawn."""
        everyone = torch.ones(self.entries, dtype=torch.bool, device=flat.device)
        if self.init == "kmeans" and len(flat) >= self.entries:
            from sklearn.cluster import KMeans

            seed = int(torch.randint(2**31 - 1, (), generator=generator))
            kmeans = KMeans(self.entries, n_init=1, max_iter=50, random_state=seed).fit(flat.cpu().double().numpy())
            centres = self.looked_up(torch.as_tensor(kmeans.cluster_centers_, dtype=flat.dtype, device=flat.device))
            self.codebook.data.copy_(centres)
            self.counts.fill_(1.0)
            if self.ema:
                self.sums.copy_(centres)
        else:
            self._restart(everyone, flat, generator)
        self.started.fill_(1.0)

    def _restart(self, which: torch.Tensor, flat: torch.Tensor, generator: torch.Generator | None) -> None:
        """Move the entries ``which`` (K,) bool onto encoder outputs of this batch, drawn at random."""
        rows = torch.randint(len(flat), (int(which.sum()),), generator=generator).to(flat.device)
        self.codebook.data[which] = flat[rows]
        self.counts[which] = 1.0
        if self.ema:
            self.sums[which] = flat[rows]


def parse_levels(spec: str) -> tuple[int, ...]:
    """The levels of a quantiser spec "fsq:L1,L2,...": each a whole number ≥ 2 (e.g. "fsq:8,5,5,5", 1,000 codes)."""
    kind, _, levels = str(spec).partition(":")
    try:
        values = tuple(int(v) for v in levels.split(","))
    except ValueError:
        values = ()
    if kind != "fsq" or not values or min(values) < 2:
        raise HourglassError(
            f"quantizer must be vq or fsq:L1,L2,... (levels, each at least 2; e.g. fsq:8,5,5,5), got {spec!r}",
            params=("quantizer",),
        )
    return values


class FiniteScalarQuantizer(nn.Module):
    """Finite scalar quantisation: (N, P·d) codes → (N, P·d), each of the d numbers at each of the P positions
    bounded and rounded to one of its ``levels`` (Mentzer et al. 2023), scaled into [−1, 1].

    It answers as :class:`VectorQuantizer` does — ``forward``, ``quantize``, ``indices`` (an index in
    [0, Π L_i) per position), ``entries`` — with no state to learn: ``ema`` and ``dead_below`` are off.

    Parameters
    ----------
    levels : tuple of int
        L_1, …, L_d: the levels of each of the d numbers at a grid position (each at least 2).
    """

    ema = False
    dead_below = 0.0
    level_counts: torch.Tensor  # (d,): L_i, as floats
    basis: torch.Tensor  # (d,): Π_{j<i} L_j, each digit's place in an index
    half_range: torch.Tensor  # (d,): the bound's half-range, (L − 1)(1 + ε)/2
    offset: torch.Tensor  # (d,): ½ for an even L (its levels straddle 0), else 0
    half_width: torch.Tensor  # (d,): ⌊L/2⌋, which scales the levels into [−1, 1]

    def __init__(self, levels: tuple[int, ...]):
        super().__init__()
        self.levels, self.dim, self.entries = tuple(levels), len(levels), math.prod(levels)
        counts = torch.tensor(levels, dtype=torch.float32)
        constants = {
            "level_counts": counts,
            "basis": torch.tensor([math.prod(levels[:i]) for i in range(len(levels))], dtype=torch.long),
            "half_range": (counts - 1) * (1 + 1e-3) / 2,
            "offset": torch.where(counts % 2 == 0, 0.5, 0.0),
            "half_width": torch.floor(counts / 2),
        }
        for name, value in constants.items():
            self.register_buffer(name, value, persistent=False)

    def bound(self, v: torch.Tensor) -> torch.Tensor:
        """Each number into (−L/2, L/2), so that rounding gives exactly L integers: (M, d) → (M, d)."""
        shift = torch.atanh(self.offset / self.half_range)
        return torch.tanh(v + shift) * self.half_range - self.offset

    def rounded(self, z: torch.Tensor) -> torch.Tensor:
        """The integer level of each number, −⌊L/2⌋ … ⌈L/2⌉ − 1, rounding passed straight through: (M, d)."""
        b = self.bound(z.reshape(-1, self.dim).float())
        return straight_through(b, torch.round(b))

    def quantize(self, z: torch.Tensor) -> torch.Tensor:
        """The quantised code, levels scaled by ⌊L/2⌋ into [−1, 1]: (N, P·d) → (N, P·d)."""
        return (self.rounded(z) / self.half_width).reshape(z.shape).to(z.dtype)

    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The quantised code (N, P·d), differentiable through the bound (``generator``: unused)."""
        return self.quantize(z)

    def decoder_input(self, z: torch.Tensor, z_q: torch.Tensor) -> torch.Tensor:
        """What g receives: z_q itself, whose gradient already passes the rounding straight through."""
        return z_q

    def indices(self, z: torch.Tensor) -> torch.Tensor:
        """Each position's code as one index, Σ_i digit_i Π_{j<i} L_j: (N, P·d) → (N, P) long."""
        digits = torch.round(self.bound(z.reshape(-1, self.dim).float())) + self.half_width
        return (digits.long() * self.basis).sum(1).reshape(len(z), -1)

    def codes(self, indices: torch.Tensor) -> torch.Tensor:
        """A code z whose quantisation has these indices (the bound's pre-image of each level), so that a grid
        drawn by a prior decodes as an encoded one does: (N, P) long → (N, P·d)."""
        digits = (indices.unsqueeze(-1) // self.basis) % self.level_counts.long()
        levels = digits - self.half_width
        z = torch.atanh((levels + self.offset) / self.half_range) - torch.atanh(self.offset / self.half_range)
        return z.reshape(len(indices), -1)


def _quantised(out, kind: str) -> torch.Tensor:
    if out.z_q is None:
        raise HourglassError(f"the {kind} loss is for a vector-quantised code (model vqvae)", params=(kind,))
    return out.z_q


@dataclass
class CommitmentPenalty:
    """β ‖z − sg(z_q)‖² per sample (summed over the code), averaged over the batch: keeps the encoder's outputs
    near the codebook entries that replace them (van den Oord et al. 2017, eq. 3; β = 0.25)."""

    weight: float = 0.25
    kind = "commitment"
    variational = "the commitment loss is for a vector-quantised code (model vqvae), not a VAE"

    def __call__(self, out, x_in, encoder=None, generator=None) -> torch.Tensor:
        return ((out.z - _quantised(out, self.kind).detach()) ** 2).sum(1).mean()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weight": self.weight}


@dataclass
class CodebookPenalty:
    """‖sg(z) − z_q‖² per sample, averaged over the batch: moves the codebook entries toward the codes they
    replace, when the codebook learns by gradient rather than by moving averages (van den Oord et al. 2017, eq. 3)."""

    weight: float = 1.0
    kind = "codebook"
    variational = "the codebook loss is for a vector-quantised code (model vqvae), not a VAE"

    def __call__(self, out, x_in, encoder=None, generator=None) -> torch.Tensor:
        return ((out.z.detach() - _quantised(out, self.kind)) ** 2).sum(1).mean()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weight": self.weight}
