"""Fixtures of the workflow tests: the CI configuration run once per session."""

from __future__ import annotations

import time

import pytest

from tests.workflow.helpers import CI_CONFIG, assert_ok, make_workdir, snakemake


@pytest.fixture(scope="session")
def test_run(tmp_path_factory):
    """.test/config/config.yaml run end to end (every figure), once for the session.

    Returns the working directory; Snakemake's output is kept in ``<workdir>/snakemake.out``
    and the run's wall time in ``<workdir>/elapsed_s``."""
    workdir = make_workdir(tmp_path_factory.mktemp("wf") / "run", CI_CONFIG)
    t0 = time.perf_counter()
    proc = snakemake(workdir, "--cores", "2", timeout=1500)
    (workdir / "elapsed_s").write_text(f"{time.perf_counter() - t0:.1f}\n")
    (workdir / "snakemake.out").write_text(proc.stdout)
    assert_ok(proc)
    return workdir
