"""Trainings on one machine share its cores instead of oversubscribing them."""

import os
import subprocess
import sys

import torch

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
