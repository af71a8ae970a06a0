"""The guarantees, as a user meets them from the command line: killed runs, a second writer, crafted files,
careless paths and options — each ends in a usable run or one clear line, never a traceback."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import torch

import hourglass as hg
from hourglass.store import runfolder

from .test_cli import assert_one_line_error, hourglass


def train_for(epochs):
    return (
        "train",
        "digits",
        "--widths",
        "32",
        "--latent-dim",
        "4",
        "--epochs",
        str(epochs),
        "--batch-size",
        "32",
        "--quiet",
    )


RUN = train_for(25)


def weights(folder):
    return hg.load(folder).model.state_dict()


def test_random_sigkills_leave_a_run_that_evaluates_and_resumes_to_the_same_weights(tmp_path):
    hourglass(*RUN, "--out", tmp_path / "reference")
    reference = weights(tmp_path / "reference")
    rng = np.random.default_rng(0)
    mid_run = 0
    for trial in range(5):
        out = tmp_path / f"killed-{trial}"
        process = subprocess.Popen(
            [sys.executable, "-m", "hourglass", *RUN, "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if trial == 0:  # during start-up, before anything is saved
            time.sleep(rng.uniform(0.2, 1.0))
        else:  # once training is under way: a random moment of it
            deadline = time.monotonic() + 60
            while not runfolder.holds_run(out) and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if runfolder.holds_run(out):
            assert "autoencoder" in hourglass("evaluate", out).stdout
            mid_run += hg.load(out).config["history"]["epochs_run"] < 25
        hourglass(*RUN, "--out", out, "--resume")  # also where nothing was saved yet: the run starts
        assert all(torch.equal(v, weights(out)[k]) for k, v in reference.items()), f"trial {trial}"
    assert mid_run >= 2  # kills landed mid-training, not only before the first checkpoint or after the last


def test_resuming_a_finished_run_says_so_and_exits_0(tmp_path):
    hourglass(*train_for(3), "--out", tmp_path / "r")
    done = hourglass(*train_for(3), "--out", tmp_path / "r", "--resume")
    assert "already trained 3 epochs" in done.stdout
    assert_one_line_error(
        hourglass(*train_for(3), "--out", tmp_path / "r", "--resume", "--seed", "2", check=False),
        "cannot resume: --seed was 0, now 2",
    )


def test_a_second_writer_is_refused_with_the_holders_pid_and_a_dead_holder_does_not_block(tmp_path):
    out = tmp_path / "r"
    with runfolder.writer(out):
        assert_one_line_error(
            hourglass(*RUN, "--out", out, check=False), f"another process (PID {os.getpid()}) is writing this run"
        )
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from hourglass.store import runfolder\n"
            f"with runfolder.writer({str(out)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    hourglass(*train_for(2), "--out", out)  # the lock died with its process


def test_a_crafted_config_cannot_make_load_allocate(tmp_path):
    hourglass(*train_for(1), "--out", tmp_path / "r")
    config = runfolder.current(tmp_path / "r") / "config.json"
    cfg = json.loads(config.read_text())
    cfg["model"]["architecture"]["widths"] = [1_000_000, 1_000_000]  # 4 TB of weights, if it were believed
    config.write_text(json.dumps(cfg))
    # VmHWM is this process's own peak resident memory; ru_maxrss would also count the pytest process it was
    # forked from (Linux keeps the high-water mark across fork and exec).
    probe = (
        f"import hourglass as hg\ntry:\n    hg.load({str(tmp_path / 'r')!r})\nexcept hg.HourglassError as e:\n"
        "    print(e)\nprint(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    message, peak_kb = done.stdout.strip().splitlines()
    assert "weights do not fit" in message or "the architecture needs F32 (1000000, 64)" in message
    assert int(peak_kb) < 1_500_000  # importing torch is most of it


def test_careless_paths_and_options_get_one_line(tmp_path):
    hourglass(*train_for(2), "--out", tmp_path / "r")
    (tmp_path / "t.csv").write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(40)))
    hourglass("train", tmp_path / "t.csv", "--epochs", "2", "--latent-dim", "1", "--quiet", "--out", tmp_path / "t")
    before = (tmp_path / "t.csv").read_bytes()
    for command in ("encode", "score"):
        assert_one_line_error(
            hourglass(command, tmp_path / "t", tmp_path / "t.csv", "-o", tmp_path / "t.csv", check=False),
            "is an input of this command",
        )
    assert (tmp_path / "t.csv").read_bytes() == before
    (tmp_path / "file").write_text("x")
    assert_one_line_error(hourglass(*RUN, "--out", tmp_path / "file", check=False), "is a file")
    (tmp_path / "folder.npy").mkdir()
    assert_one_line_error(
        hourglass("encode", tmp_path / "r", "digits", "-o", tmp_path / "folder.npy", check=False), "is a folder"
    )
    assert_one_line_error(
        hourglass("encode", tmp_path / "r", "digits", "-o", tmp_path / "file" / "z.npy", check=False),
        "file is a file, not a folder",
    )
    assert_one_line_error(
        hourglass(*RUN, "--weight-decay", "nan", check=False), "argument --weight-decay: must be a finite"
    )
    for bad in (["--seed", "-1"], ["--epochs", "0"], ["--lr", "fast"]):
        done = hourglass(*RUN, *bad, check=False)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "see: hourglass train --help" in done.stderr
