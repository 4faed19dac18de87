"""The cores a process may use: its CPU affinity, not the machine's count."""

from __future__ import annotations

import os

import pytest

from dicomreg.core.cores import usable_cores


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_the_affinity_not_the_machine(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert usable_cores() == 1


def test_without_affinity_the_machine_count(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert usable_cores() == 6


@pytest.mark.parametrize(("text", "expected"), [("150000 100000\n", 2), ("max 100000\n", 8),
                                                ("50000 100000\n", 1), ("garbage\n", 8)])
def test_a_control_groups_quota_limits_them(tmp_path, monkeypatch, text, expected):
    """``docker --cpus=1.5`` writes "150000 100000" and leaves the affinity whole."""
    import dicomreg.core.cores as cores

    quota = tmp_path / "cpu.max"
    quota.write_text(text)
    monkeypatch.setattr(cores, "_CGROUP_V2", quota)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert usable_cores() == expected
