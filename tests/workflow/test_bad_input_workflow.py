"""The workflow under bad input, run with Snakemake for real: a bad configuration file, a bad
`--config` value or an impossible target stops before any job, with one line (the values
themselves are checked without Snakemake in tests/config/test_validate.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.workflow.helpers import assert_ok, make_workdir, snakemake

pytestmark = pytest.mark.workflow

BASE = {"ground_states": {"square_10": {"j2": [0.0]}},
        "experiments": {"fig": {"kind": "eps_sweep", "clusters": ["square_10"], "j2": [0.0],
                                "eps": [0.1, 0.5], "seeds": 1}}}
RUN = "results/train/square_10/J2=0/sign/dense2/eps={eps}/seed=0/metrics.parquet"
NO_RULE = "No rule to produce"

# case: (config, extra snakemake arguments, the line the output must contain)
CASES = {
    "schema: unknown key": ({**BASE, "trian": {}}, [],
                            "config error: trian: unknown key (allowed:"),
    "schema: out of range": ({**BASE, "train": {"lr": -1}}, [],
                             "config error: train.lr: -1 is outside (0, inf)"),
    "semantics: unknown cluster": ({"ground_states": {"kagome_99": {"j2": [0.5]}}}, [],
                                   "config error: ground_states.kagome_99: unknown cluster "
                                   "'kagome_99' (known: kagome_12,"),
    "semantics: too many digits": ({"ground_states": {"kagome_12": {"j2": [0.1234567]}}}, [],
                                   "config error: ground_states.kagome_12.j2: 0.1234567 has "
                                   "more than 6 significant"),
    "YAML syntax": ("ground_states:\n  square_10: {j2: [0.0\n", [],
                    "config error: config file config/config.yaml is not valid YAML: line 3, "
                    "column 1:"),
    "--config value out of range": (BASE, ["--config", "train={lr: -0.5}"],
                                    "config error: train.lr: -0.5 is outside (0, inf)"),
    "target J2 not as written": (BASE, ["results/ground_states/square_10/J2=0.50/metadata.json"],
                                 NO_RULE),
    "target eps 0": (BASE, [RUN.format(eps=0)], NO_RULE),
    "target eps 2": (BASE, [RUN.format(eps=2)], NO_RULE),
    "target unknown cluster": (BASE, ["results/ground_states/square_99/J2=0/metadata.json"],
                               NO_RULE),
}


def _workdir(base, config):
    workdir = base / "run"
    if isinstance(config, str):
        (workdir / "config").mkdir(parents=True)
        (workdir / "config" / "config.yaml").write_text(config)
        return workdir
    return make_workdir(workdir, config)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Snakemake on every case, two at a time (each is a few seconds of start-up)."""
    workdirs = {case: _workdir(tmp_path_factory.mktemp("bad"), config)
                for case, (config, _, _) in CASES.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = {case: pool.submit(snakemake, workdirs[case], "--cores", "1", *CASES[case][1])
                 for case in CASES}
        return {case: (workdirs[case], future.result()) for case, future in procs.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_before_any_job(runs, case):
    workdir, proc = runs[case]
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout
    assert CASES[case][2] in proc.stdout, proc.stdout[-3000:]
    if CASES[case][2].startswith("config error"):
        lines = [line for line in proc.stdout.splitlines() if line.strip() and not line.startswith(
            ("Using workflow specific profile", "Config file config/config.yaml is extended"))]
        assert len(lines) == 1, proc.stdout
    assert not (workdir / "results").exists() and not (workdir / "logs").exists()


def test_config_values_on_the_command_line_are_numbers(tmp_path):
    workdir = make_workdir(tmp_path / "run", BASE)
    proc = snakemake(workdir, "-n", "-p", RUN.format(eps=0.1), "--config",
                     "train={lr: 0.01, max_epochs: 3}")
    assert_ok(proc)
    assert "--lr 0.01 --max-epochs 3" in proc.stdout
