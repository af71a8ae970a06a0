"""Trainings on one machine share its cores instead of oversubscribing them."""

import os
import subprocess
import sys

import torch

import hourglass as hg
from hourglass.training import threads


def test_each_running_training_gets_its_share_of_the_cores(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / str(other.pid)).touch()  # another training is running
        (tmp_path / "999999999").touch()  # one that ended without cleaning up
        with threads.CoreShare(tmp_path) as share:
            assert (tmp_path / str(os.getpid())).exists()
            assert torch.get_num_threads() == 1 and threads.trainings(tmp_path) == 2  # 2 cores, 2 trainings
            assert not (tmp_path / "999999999").exists()  # the dead one is forgotten
            other.kill()
            other.wait()
            assert share.adjust() == 2 and torch.get_num_threads() == 2  # alone again: both cores
        assert not (tmp_path / str(os.getpid())).exists() and torch.get_num_threads() == 2
    finally:
        other.kill()
        torch.set_num_threads(before)


def test_a_thread_count_the_user_set_stands(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    before = torch.get_num_threads()
    (tmp_path / str(os.getppid())).touch()
    with threads.CoreShare(tmp_path) as share:
        assert share.adjust() == before and torch.get_num_threads() == before
    assert not (tmp_path / str(os.getpid())).exists()


def test_a_reused_process_id_is_not_a_running_training(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    (tmp_path / str(os.getppid())).write_text("1")  # alive, but not the process that registered (it started at 1)
    assert threads.trainings(tmp_path) == 0 and not (tmp_path / str(os.getppid())).exists()
    (tmp_path / str(os.getppid())).write_text(threads.started(os.getppid()))
    assert threads.trainings(tmp_path) == 1


class Threads(hg.Callback):
    def __init__(self):
        self.seen = []

    def on_epoch_end(self, trainer, record):
        self.seen.append(torch.get_num_threads())


def test_fit_leaves_the_thread_count_alone_unless_asked_to_share(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "registry", lambda: tmp_path)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / str(other.pid)).write_text(threads.started(other.pid))  # another training is running
        x = torch.rand(64, 6, generator=torch.Generator().manual_seed(0))
        model = hg.Autoencoder.from_architecture(hg.Architecture("mlp", (6,), (4,), latent_dim=2), "sigmoid", seed=0)
        config = hg.TrainConfig(epochs=1, progress=False)
        plain, shared = Threads(), Threads()
        hg.fit(model, hg.Objective("bce"), x[:48], x[48:], config, callbacks=[plain])
        hg.fit(model, hg.Objective("bce"), x[:48], x[48:], config, callbacks=[threads.ShareCores(), shared])
        assert plain.seen == [2] and shared.seen == [1] and torch.get_num_threads() == 2
    finally:
        other.kill()
        torch.set_num_threads(before)
