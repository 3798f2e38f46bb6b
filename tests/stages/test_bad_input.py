"""Hostile-but-fair input to every stage: one line naming the problem, exit status 2, no
traceback, before any expensive work — and nothing the project did not write is touched.

The cases are tables (``TRAIN``, ``STORAGE``, ``OTHER``): a case is a name, a function that
prepares its input in a scratch directory and returns the command line, and the fragment the
one-line message must contain.  Every case also checks that each file that existed before the
run is still there with the same bytes.  The MPI cases of the ground-state stage (2 ranks,
under a timeout, so that a hang fails the test) are in ``test_ground_state_bad_input.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nqsgen.stages import aggregate, cluster_files, plot, train, vmc
from nqsgen.storage import sha256_file


@pytest.fixture(scope="module")
def ground_state(tmp_path_factory):
    """kagome_12 at J2 = 0.5 (full basis) and square_16 at J2 = 0 (symmetric), once."""
    from tests.conftest import run_module

    base = tmp_path_factory.mktemp("gs")
    run_module("nqsgen.stages.ground_state", "--cluster", "kagome_12", "--j2", "0.5", "--out",
               base / "kagome_12", "--solver", "scipy")
    run_module("nqsgen.stages.ground_state", "--cluster", "square_16", "--j2", "0", "--out",
               base / "square_16", "--symmetries", "full", "--sectors", "trivial")
    return base


def snapshot(root: Path) -> dict:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run_case(main, argv, capsys, root: Path) -> str:
    """Run a stage's ``main``; check exit 2, one ``error:`` line, no traceback, no file
    touched; return the message."""
    before = snapshot(root)
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert "Traceback" not in err[0]
    after = snapshot(root)
    assert {p: b for p, b in after.items() if p in before} == before, "a file was changed"
    return err[0]


# ----------------------------------------------------------------------------- train
def _train(gs: Path, out, *extra) -> list[str]:
    return ["--cluster", "kagome_12", "--j2", "0.5", "--target", "sign", "--arch", "dense1",
            "--eps", "0.2", "--seed", "0", "--max-epochs", "2", "--ground-state", str(gs),
            "--out", str(out), *map(str, extra)]


def _user_dir(tmp, gs):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.tex").write_text("precious")
    return _train(gs, tmp / "mine")


def _existing_file(tmp, gs):
    (tmp / "notes.txt").write_text("precious")
    return _train(gs, tmp / "notes.txt")


def _edit(tmp, gs, change):
    """A copy of the ground state with ``change(metadata)`` applied to its metadata.json."""
    copy = tmp / "gs"
    shutil.copytree(gs, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta = change(meta) or meta
    (copy / "metadata.json").write_text(json.dumps(meta))
    return copy


def _metadata_case(change):
    return lambda tmp, gs: _train(_edit(tmp, gs, change), tmp / "run")


def _set(key, value):
    def change(meta):
        meta[key] = value
    return change


def _drop_sha(meta):
    del meta["shards"][0]["sha256"]


def _drop(key):
    def change(meta):
        del meta[key]
    return change


def _shifted_states(tmp, gs):
    """Shard states replaced by other (valid Sz = 0) states, checksum updated to match: only
    the check of the stored states against the basis can tell."""
    copy = _edit(tmp, gs, lambda meta: None)
    meta = json.loads((copy / "metadata.json").read_text())
    shard = copy / meta["shards"][0]["file"]
    table = pq.read_table(shard)
    states = table.column("state").to_numpy()
    table = table.set_column(0, "state", pa.array(states[::-1].copy()))
    pq.write_table(table, shard)
    meta["shards"][0]["sha256"] = sha256_file(shard)
    (copy / "metadata.json").write_text(json.dumps(meta))
    return _train(copy, tmp / "run")


def _yaml_error(tmp, gs):
    (tmp / "c.yaml").write_text("clusters: {kagome_12: [\n")
    return [*_train(gs, tmp / "run"), "--config", str(tmp / "c.yaml")]


TRAIN = {
    "out is a user's directory": (_user_dir, "is an existing directory without metrics.parquet"),
    "out is an existing file": (_existing_file, "is an existing file"),
    "out is the ground state": (lambda tmp, gs: _train(gs, gs), "is or contains the input"),
    "out contains the ground state": (lambda tmp, gs: _train(gs, gs.parent),
                                      "is or contains the input"),
    "out is the current directory": (lambda tmp, gs: _train(gs, "."),
                                     "refusing to replace the current"),
    "out cannot be created": (lambda tmp, gs: _train(gs, "/proc/nqsgen/run"),
                              "cannot write in /proc/nqsgen"),
    "threads 0": (lambda tmp, gs: _train(gs, tmp / "run", "--threads", 0),
                  "--threads must be ≥ 1, got 0"),
    "threads -1": (lambda tmp, gs: _train(gs, tmp / "run", "--threads", -1),
                   "--threads must be ≥ 1, got -1"),
    "eps nan": (lambda tmp, gs: [*_train(gs, tmp / "run"), "--eps", "nan"],
                "eps (εtrain) must be in (0, 1], got nan"),
    "mc-se above 1": (lambda tmp, gs: _train(gs, tmp / "run", "--mc-se", 2),
                      "--mc-se 2.0: input should be less than 1"),
    "config missing": (lambda tmp, gs: [*_train(gs, tmp / "run"), "--config", "/nope.yaml"],
                       "config file /nope.yaml does not exist"),
    "config YAML syntax": (_yaml_error, "is not valid YAML: line 2, column 1"),
    # the ground state's metadata, checked against itself, the data and the cluster
    "n_sites edited": (_metadata_case(_set("n_sites", 14)),
                       "n_up = 6, the ground states are in Sz = 0 (n_up = 7)"),
    "n_sites and n_up edited": (_metadata_case(lambda m: m.update(n_sites=14, n_up=7)),
                                "dimension = 924 is not C(14, 7) = 3,432"),
    "dimension edited": (_metadata_case(_set("dimension", 1000)),
                         "dimension = 1,000 is not C(12, 6) = 924"),
    "energy edited": (_metadata_case(lambda m: m.update(energy=m["energy"] * 1.001)),
                      "not an eigenstate with the stored energy"),
    "shard without sha256": (_metadata_case(_drop_sha), "lacks the key 'sha256'"),
    "shards not a list": (_metadata_case(_set("shards", "part-00000-0000.parquet")),
                          "'shards' is 'part-00000-0000.parquet', not a list"),
    "shard file outside": (_metadata_case(lambda m: m["shards"][0].update(file="../x.parquet")),
                           "is not a shard name"),
    "no fingerprint": (_metadata_case(_drop("cluster_fingerprint")),
                       "has no cluster_fingerprint"),
    "metadata not a mapping": (_metadata_case(lambda m: [m]), "is not a JSON mapping"),
    "states not the basis": (_shifted_states, "does not hold the states the metadata describes"),
}


@pytest.mark.parametrize("case", list(TRAIN))
def test_train_stage_refuses(case, ground_state, tmp_path, capsys):
    prepare, fragment = TRAIN[case]
    argv = prepare(tmp_path, ground_state / "kagome_12")
    message = run_case(train.main, argv, capsys, tmp_path)
    assert fragment in message, message
    assert not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------- symmetric state
def _sym_edit(change):
    def prepare(tmp, gs):
        copy = _edit(tmp, gs, change)
        return ["--cluster", "square_16", "--j2", "0", "--target", "sign", "--arch", "dense1",
                "--eps", "0.1", "--seed", "0", "--ground-state", str(copy), "--out",
                str(tmp / "run")]
    return prepare


SYMMETRIC = {
    "representatives edited": (_sym_edit(lambda m: m.update(n_representatives=10**6)),
                               "n_representatives = 1,000,000 is not in"),
    "characters truncated": (_sym_edit(lambda m: m["sector"].update(
        characters=m["sector"]["characters"][:3])), "one character ±1 per group element"),
    "group malformed": (_sym_edit(lambda m: m["group"].pop("permutations") and None),
                        "the symmetry group or sector is malformed"),
    "energy edited": (_sym_edit(lambda m: m.update(energy=m["energy"] + 1e-3)),
                      "not an eigenstate with the stored energy"),
}


@pytest.mark.parametrize("case", list(SYMMETRIC))
def test_symmetric_ground_state_metadata_is_not_trusted(case, ground_state, tmp_path, capsys):
    prepare, fragment = SYMMETRIC[case]
    message = run_case(train.main, prepare(tmp_path, ground_state / "square_16"), capsys,
                       tmp_path)
    assert fragment in message, message


# ----------------------------------------------------------------------------- other stages
def _vmc(gs, out, *extra):
    return ["--cluster", "kagome_12", "--j2", "0.5", "--seed", "0", "--iterations", "2",
            "--ground-state", str(gs), "--out", str(out), *map(str, extra)]


OTHER = {
    "vmc out is a user's directory": (vmc.main, lambda tmp, gs: _user_dir(tmp, gs) and _vmc(
        gs, tmp / "mine"), "is an existing directory without metrics.parquet"),
    "vmc out is the ground state": (vmc.main, lambda tmp, gs: _vmc(gs, gs),
                                    "is or contains the input"),
    "vmc threads 0": (vmc.main, lambda tmp, gs: _vmc(gs, tmp / "run", "--threads", 0),
                      "--threads must be ≥ 1"),
    "aggregate unreadable run": (aggregate.main, lambda tmp, gs: [
        "--experiment", "x", "--kind", "eps_sweep", "--runs", str(tmp / "none.parquet"),
        "--tables", str(tmp / "tables")], "cannot read"),
    "aggregate unknown kind": (aggregate.main, lambda tmp, gs: [
        "--experiment", "x", "--kind", "sweep"], "argument --kind: invalid choice: 'sweep'"),
    "plot missing tables": (plot.main, lambda tmp, gs: [
        "--kind", "scaling", "--tables", str(tmp / "nope"), "--out", str(tmp / "f.pdf")],
        "nope.critical.parquet does not exist (run the experiment's aggregation first)"),
    "plot clusters without names": (plot.main, lambda tmp, gs: [
        "--kind", "clusters", "--out", str(tmp / "f.pdf")], "--clusters is needed"),
    "cluster definition not a mapping": (cluster_files.main, lambda tmp, gs: [
        "--cluster", "mine", "--definition", "[1, 2]", "--json", str(tmp / "m.json")],
        "--definition must be a YAML mapping"),
    "cluster unknown": (cluster_files.main, lambda tmp, gs: [
        "--cluster", "square_99", "--json", str(tmp / "m.json")], "unknown cluster 'square_99'"),
}


@pytest.mark.parametrize("case", list(OTHER))
def test_other_stages_refuse(case, ground_state, tmp_path, capsys):
    main, prepare, fragment = OTHER[case]
    message = run_case(main, prepare(tmp_path, ground_state / "kagome_12"), capsys, tmp_path)
    assert fragment in message, message
