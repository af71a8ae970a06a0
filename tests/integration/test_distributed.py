"""Training on several processes: `hourglass train --nproc 2` (PyTorch's elastic launcher, gloo, 127.0.0.1) gives
the weights one process gives, survives nothing silently, and resumes in another world size."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

import hourglass as hg
from hourglass.store import runfolder

from .test_cli import assert_one_line_error, hourglass

RUN = ("train", "digits", "--latent-dim", "3", "--batch-size", "64", "--quiet")


def weights(folder):
    return hg.load(folder).model.state_dict()


def test_two_processes_end_with_the_weights_of_one(tmp_path):
    hourglass(*RUN, "--epochs", "3", "--out", tmp_path / "one")
    done = hourglass(*RUN, "--epochs", "3", "--out", tmp_path / "two", "--nproc", "2", process=True)
    assert done.stdout.count("saved to") == 1  # rank 0 alone reports ...
    assert sorted(p.name for p in (tmp_path / "two").iterdir() if p.name.startswith("snapshot")) != []
    one, two = weights(tmp_path / "one"), weights(tmp_path / "two")
    for name in one:  # ... and the step is the global batch's, up to rounding
        scale = one[name].abs().max().clamp(min=1e-3)
        assert ((one[name] - two[name]).abs().max() / scale) <= 1e-5, name
    h1 = hg.load(tmp_path / "one").config["history"]
    h2 = hg.load(tmp_path / "two").config["history"]
    assert abs(h1["best_val_loss"] - h2["best_val_loss"]) <= 1e-5 * h1["best_val_loss"]  # validation all-reduced


def test_a_two_process_run_resumes_in_one(tmp_path):
    hourglass(*RUN, "--epochs", "2", "--out", tmp_path / "r", "--nproc", "2", process=True)
    hourglass(*RUN, "--epochs", "4", "--out", tmp_path / "r", "--resume")
    history = hg.load(tmp_path / "r").config["history"]
    assert history["epochs_run"] == 4 and history["stopped"] == "completed"


def rank_pids(launcher_pid: int) -> dict[int, int]:
    """rank → pid of the worker processes under ``launcher_pid`` (from /proc: their RANK variable)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if ppid == launcher_pid and b"WORLD_SIZE=2" in env:
            found[int(next(v for v in env if v.startswith(b"RANK=")).split(b"=")[1])] = int(entry.name)
    return found


def test_a_killed_rank_ends_the_job_with_one_line_and_the_checkpoint_intact(tmp_path):
    out = tmp_path / "k"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    job = subprocess.Popen(
        [sys.executable, "-m", "hourglass", *RUN, "--epochs", "500", "--out", str(out), "--nproc", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and runfolder.current(out) is None:
            time.sleep(0.2)
        assert runfolder.current(out) is not None, "no checkpoint was published"
        pids = rank_pids(job.pid)
        assert set(pids) == {0, 1}
        os.kill(pids[1], signal.SIGKILL)
        _, stderr = job.communicate(timeout=120)
    finally:
        job.kill()
    done = subprocess.CompletedProcess(job.args, job.returncode, "", stderr)
    assert_one_line_error(done, "rank 1 was killed by signal 9", f"{out} keeps its last complete checkpoint")
    saved = hg.load(out)  # loads: the snapshot published before the kill is whole
    assert saved.config["history"]["epochs_run"] >= 1
    assert all(torch.isfinite(v).all() for v in saved.model.state_dict().values())
