"""The bench's CPU readings per party (bench/cpu.py): what each process group spent, and per decision."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from zhiyi.bench import cpu

pytestmark = pytest.mark.skipif(not cpu.PROC.is_dir(), reason="CPU readings come from Linux's /proc")

BUSY = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"


def test_a_server_group_and_a_load_generator_are_told_apart():
    server: subprocess.Popen | None = None
    sampler = cpu.Sampler(lambda: server.pid if server else -1, every=0.05)
    sampler.start()
    time.sleep(0.1)
    began = time.time()  # a reading before the window
    # its own group, as the bench's
    server = subprocess.Popen([sys.executable, "-c", BUSY], start_new_session=True)
    client = subprocess.Popen([sys.executable, "-c", BUSY])  # a plain child: a load generator
    server.wait()
    client.wait()
    ended = time.time()
    sampler.stop()  # a last reading after the window
    used = sampler.between(began, ended)
    # both ended before the last reading: each keeps what it was last seen to spend
    assert 0.2 <= used["server"] <= 1.5 and 0.2 <= used["clients"] <= 1.5
    per = cpu.per_decision(used, 100)
    assert per["server"] == round(used["server"] * 10, 3) and per["clients"] == round(used["clients"] * 10, 3)


def test_a_window_without_readings_around_it_has_no_figure():
    sampler = cpu.Sampler(lambda: -1)
    sampler.samples = [(100.0, dict.fromkeys(cpu.PARTIES, 1.0)), (200.0, dict.fromkeys(cpu.PARTIES, 3.0))]
    assert sampler.between(150.0, 250.0) is None  # nothing read after the window
    assert sampler.between(50.0, 150.0) is None  # nothing read before it
    assert sampler.between(100.0, 200.0) == dict.fromkeys(cpu.PARTIES, 2.0)
    assert cpu.per_decision(None, 10) is None and cpu.per_decision(dict.fromkeys(cpu.PARTIES, 1.0), 0) is None
    assert cpu.per_decision({"server": 0.0, "db": 0.5, "clients": 1.0}, 1000) == {
        "server": None,
        "db": 0.5,
        "clients": 1.0,
    }
