"""An autoregressive prior over a discrete code's grid: p(c) = Π_i p(c_i | c_<i), the P positions in raster order,
each a categorical over the K codes (van den Oord et al. 2017 fit a PixelCNN; this is a small causal transformer).

A transformer rather than a gated PixelCNN (van den Oord et al. 2016): on a grid this small (7 × 7 for MNIST) every
position can attend to all earlier ones at little cost, so there is no blind spot to design around and no pair of
stacks to keep aligned — one masked attention does it, and it is the smaller program. Its blocks are GPT-2's
(Radford et al. 2019: pre-norm attention and MLP, learned position embeddings), written out as nanoGPT writes them.

Training is next-code prediction, the cross-entropy −log p(c_i | c_<i) summed over the positions and averaged over
the batch, through hourglass's trainer. Sampling runs in raster order with the keys and values of earlier
positions cached, at a ``temperature`` and, optionally, from the ``top_k`` likeliest codes at each step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position i sees positions ≤ i only: (N, T, W) → (N, T, W)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, h: torch.Tensor, cache: list | None = None) -> torch.Tensor:
        n, t, w = h.shape
        q, k, v = (a.view(n, t, self.heads, w // self.heads).transpose(1, 2) for a in self.qkv(h).split(w, dim=2))
        if cache is not None:  # sampling: this step's keys and values join the earlier steps'
            if cache:
                k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
            cache[:] = [k, v]
            out = F.scaled_dot_product_attention(q, k, v)  # one new position sees every cached one
        else:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(n, t, w))


class Block(nn.Module):
    """h + attention(LN(h)), then h + MLP(LN(h)) (GPT-2's pre-norm block)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attention = CausalSelfAttention(width, heads)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, h: torch.Tensor, cache: list | None = None) -> torch.Tensor:
        h = h + self.attention(self.ln1(h), cache)
        return h + self.mlp(self.ln2(h))


class CodeTransformer(nn.Module):
    """Logits of p(c_i | c_<i) for each of the P positions: codes (N, P) → (N, P, K). Position i reads a start
    token and the codes before it, so each row is one ``model(...)`` call in training."""

    def __init__(self, codes: int, positions: int, width: int = 128, layers: int = 4, heads: int = 4):
        super().__init__()
        self.codes, self.positions, self.width, self.layers, self.heads = codes, positions, width, layers, heads
        self.embed = nn.Embedding(codes + 1, width)  # the last one: the start token
        self.position = nn.Parameter(torch.zeros(positions, width))
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, codes)
        nn.init.normal_(self.position, std=0.02)

    def forward(self, codes: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        tokens = codes.long()
        start = torch.full((len(tokens), 1), self.codes, dtype=torch.long, device=tokens.device)
        return self.logits(self.embed(torch.cat([start, tokens[:, :-1]], dim=1)) + self.position)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """The blocks and the head over embedded inputs: (N, P, W) → (N, P, K); row i reads inputs 0..i only."""
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h))

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0, top_k: int | None = None
    ) -> torch.Tensor:
        """n grids of codes drawn in raster order: (n, P) long."""
        device = self.position.device
        caches: list[list] = [[] for _ in self.blocks]
        token = torch.full((n, 1), self.codes, dtype=torch.long, device=device)
        out = torch.empty(n, self.positions, dtype=torch.long, device=device)
        for i in range(self.positions):
            h = self.embed(token) + self.position[i]
            for block, cache in zip(self.blocks, caches, strict=True):
                h = block(h, cache)
            logits = self.head(self.ln(h))[:, -1] / temperature
            if top_k is not None and top_k < self.codes:
                kth = torch.topk(logits, top_k, dim=1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, -math.inf)
            probs = torch.softmax(logits.float(), dim=1).cpu()
            token = torch.multinomial(probs, 1, generator=generator).to(device)
            out[:, i] = token[:, 0]
        return out


class NextCodeObjective:
    """−log p(c_i | c_<i) summed over the positions, averaged over the batch, in the trainer's protocol
    (:class:`hourglass.training.step.Objective`); ``bits_per_grid`` is the same in bits."""

    def check(self, model) -> None:
        pass

    def inputs(self, codes: torch.Tensor, generator: torch.Generator | None = None):
        return codes.long(), codes

    def __call__(self, logits, codes, x_in=None, encoder=None, generator=None, training=False):
        loss = F.cross_entropy(logits.transpose(1, 2), codes, reduction="none").sum(dim=1).mean()
        return loss, {"bits_per_grid": loss.detach() / math.log(2)}


class AutoregressivePrior:
    """p(c) over a discrete code's grids (a VQ-VAE's or FSQ's indices, (N, P) in [0, K)) by a
    :class:`CodeTransformer`; ``sample`` gives grids of indices, which the model's quantiser turns into codes.

    Parameters
    ----------
    net : CodeTransformer
        The trained network.
    """

    kind = "autoregressive"

    def __init__(self, net: CodeTransformer):
        self.net = net

    @classmethod
    def fit(cls, grids, codes: int, seed: int = 0, config=None, val_grids=None, **net) -> AutoregressivePrior:
        """Train the transformer on ``grids`` (N, P) of indices in [0, ``codes``) with the next-code cross-entropy,
        through hourglass's trainer (``config``: a TrainConfig; net: ``width``, ``layers``, ``heads``)."""
        from ..nets import init_seed
        from ..training.loop import TrainConfig, fit

        train = torch.as_tensor(grids, dtype=torch.float32)  # indices < 2²⁴: exact as float32 rows
        val = train if val_grids is None else torch.as_tensor(val_grids, dtype=torch.float32)
        with init_seed(seed):
            model = CodeTransformer(codes, train.shape[1], **net)
        config = config or TrainConfig(epochs=30, batch_size=128, lr=1e-3, progress=False)
        fit(model, NextCodeObjective(), train, val, config)
        return cls(model.cpu().eval())

    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0, top_k: int | None = None
    ) -> torch.Tensor:
        return self.net.sample(n, generator, temperature, top_k)

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        net = self.net
        return tensors, {"codes": net.codes, "positions": net.positions, "width": net.width, "layers": net.layers,
                         "heads": net.heads}  # fmt: skip

    @classmethod
    def from_state(cls, tensors: dict, settings: dict) -> AutoregressivePrior:
        net = CodeTransformer(settings["codes"], settings["positions"], settings["width"], settings["layers"],
                              settings["heads"])  # fmt: skip
        net.load_state_dict({k[len("net.") :]: v for k, v in tensors.items() if k.startswith("net.")})
        return cls(net.eval())
