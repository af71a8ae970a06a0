"""The options of the commands that take a trained run to others: ``export`` (ONNX), ``serve`` (HTTP), ``explore``
(a page), and the two that show the library itself, ``demo`` and ``claims``."""

from __future__ import annotations


def add_sharing_commands(sub, command, data_help: str, device_help: str) -> None:
    """Add the subcommands to ``sub`` through ``command(parent, name, func, **kwargs)``, the parser's helper."""
    from ..demo import DEMO_EPOCHS, DEMO_PRECISION
    from ..devices import PRECISIONS
    from ..explorer import MAX_POINTS
    from ..export import PARTS
    from ..service import ServiceConfig
    from ..training.config import TrainConfig
    from .commands import cmd_claims, cmd_demo, cmd_explore, cmd_export, cmd_serve
    from .types import ints, positive_int, seed, whole_number

    tc = TrainConfig()
    x = command(
        sub,
        "export",
        cmd_export,
        help="write a checkpoint as an ONNX model",
        description="Write CKPT as one ONNX file for any ONNX runtime: raw rows in the data's units go in "
        "(the training scaling is folded into the graph), the batch axis is dynamic, and the "
        "file's metadata holds the version, feature names and the training-error quantiles. "
        "onnxruntime checks the graph against PyTorch before the file is written.",
    )
    x.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    x.add_argument("-o", "--output", required=True, metavar="FILE", help="output .onnx")
    x.add_argument(
        "--part",
        choices=list(PARTS),
        default="all",
        help="all: outputs code, reconstruction and score from x; encoder: code; decoder: code → "
        "reconstruction; reconstruct; score (default %(default)s)",
    )
    x.add_argument("--opset", type=positive_int, metavar="N", help="ONNX opset (default: the exporter's)")

    v = command(
        sub,
        "serve",
        cmd_serve,
        help="serve a checkpoint over HTTP: encode, reconstruct, score",
        description="Serve CKPT with FastAPI on uvicorn: POST /encode, /reconstruct, /score with JSON rows "
        '({"rows": [[...], ...]}, or objects keyed by column for table models); GET /health, '
        "/model; OpenAPI docs at /docs. Bad input is answered 4xx with a one-line message.",
    )
    v.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    v.add_argument(
        "--host",
        default=ServiceConfig.host,
        help="address to listen on (default %(default)s: this machine only; 0.0.0.0 listens on every "
        "interface and lets other machines reach the service — your explicit choice)",
    )
    v.add_argument("--port", type=whole_number(0), default=ServiceConfig.port, help="default %(default)s")
    v.add_argument(
        "--workers",
        type=positive_int,
        default=ServiceConfig.workers,
        help="processes, each with its own copy of the model (default %(default)s)",
    )
    v.add_argument(
        "--max-rows",
        type=positive_int,
        default=ServiceConfig.max_rows,
        help="rows one request may hold (default %(default)s)",
    )
    v.add_argument(
        "--max-body-bytes",
        type=positive_int,
        default=ServiceConfig.max_body_bytes,
        help="bytes one request body may hold (default %(default)s)",
    )
    v.add_argument("--device", default=ServiceConfig.device, help=device_help)

    o = command(
        sub,
        "explore",
        cmd_explore,
        help="write the latent explorer: codes and the decoder in one HTML page",
        description="Write one self-contained HTML page: the codes of DATA as a scatter (coloured by label; "
        "the first two principal directions when k > 2) beside the decoded sample under the "
        "pointer, computed in the browser from the decoder's weights in the page. Opens offline.",
    )
    o.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    o.add_argument("--data", metavar="DATA", help="codes of this data (default: the checkpoint's own dataset)")
    o.add_argument("--split", choices=["train", "val", "test", "all"], default="test", help="default %(default)s")
    o.add_argument("-o", "--output", required=True, metavar="FILE", help="output .html")
    o.add_argument(
        "--max-points",
        type=positive_int,
        default=MAX_POINTS,
        help="points in the scatter, a seeded sample beyond that (default %(default)s)",
    )
    o.add_argument("--seed", type=seed, default=0, help="seed of that sample (default %(default)s)")
    o.add_argument("--device", default="auto", help=device_help)

    m = command(
        sub,
        "demo",
        cmd_demo,
        help="the main job: the MNIST hourglass vs PCA, with pictures",
        description="Train the 784-256-64-16-4 MLP hourglass and a 2-d-code one on MNIST; write "
        "reconstructions.png, latent2d.png, metrics.json and checkpoints.",
    )
    m.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default %(default)s)")
    m.add_argument("--epochs", type=positive_int, default=DEMO_EPOCHS, help="epochs per model (default %(default)s)")
    m.add_argument("--seed", type=seed, default=0, help="default %(default)s")
    m.add_argument("--device", default=tc.device, help=device_help)
    m.add_argument(
        "--precision",
        choices=["auto", *PRECISIONS],
        default=DEMO_PRECISION,
        help="auto: bf16 where the hardware computes it natively (a CPU with AVX-512 BF16 or AMX, a CUDA "
        "GPU of compute capability 8+), else fp32 (default %(default)s)",
    )
    m.add_argument("--quiet", action="store_true", help="no progress output")

    cl = command(
        sub,
        "claims",
        cmd_claims,
        help="test the textbook's claims about autoencoders, with a report",
        description="Run an experiment for each of the textbook's claims on MNIST (and toy manifolds), "
        "judge each against its criterion, and write claims.json and a self-contained "
        "report.html. Trained models are kept in OUT/models, so a re-run trains only what is "
        "missing. Exit status 1 if a claim fails.",
    )
    cl.add_argument(
        "--quick",
        action="store_true",
        help="every experiment at reduced size (a few minutes); criteria meant for the full run are "
        "reported, not judged",
    )
    cl.add_argument("--out", metavar="DIR", help="output folder (default claims-output, or claims-quick with --quick)")
    cl.add_argument("--seed", type=seed, default=0, help="default %(default)s")
    cl.add_argument("--device", default="auto", help=device_help)
    cl.add_argument(
        "--only",
        type=ints,
        metavar="N,N",
        help="run only these claims, e.g. 1,3 (models the others share are trained as needed)",
    )
    cl.add_argument("--quiet", action="store_true", help="no progress output")
