"""The workflow configuration as package code: the generated schema is current, defaults
come from the models, every bad value is one line naming its key (without Snakemake), and
command-line values are read as YAML scalars."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from nqsgen.config import TrainSettings, VmcSettings
from nqsgen.config.cli import flags
from nqsgen.config.schema import main as schema_main
from nqsgen.config.validate import check_config, typed_overrides
from nqsgen.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DEFAULT = yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_committed_schema_is_the_generated_one():
    assert schema_main(["--check", str(REPO / "workflow/schemas/config.schema.yaml")]) == 0


def test_defaults_are_filled_from_the_models():
    config = check_config({"experiments": {"f": {"kind": "j2_sweep", "clusters": ["square_10"],
                                                  "j2": [0.0]}}})
    exp = config["experiments"]["f"]
    assert exp["eps"] == 0.01 and exp["seeds"] == 5 and exp["archs"] == ["dense2"]
    assert config["train"] == {"threads": 1, "gpus": 0, "runtime": 60}  # resources only
    assert config["aggregate"]["bootstrap"] == 1000
    assert config["frustrated_regions"]["kagome"] == [0.51, 1.82]


def test_the_default_and_ci_configurations_are_valid():
    check_config(copy.deepcopy(DEFAULT))
    check_config(yaml.safe_load((REPO / ".test/config/config.yaml").read_text()))


BAD = {
    # experiments (the paper's figures)
    "experiment cluster": ({"experiments": {"x": {"kind": "eps_sweep", "clusters": ["square_99"],
                                                  "j2": [0.0], "eps": [0.1]}}},
                           "experiments.x.clusters: unknown cluster 'square_99'"),
    "eps zero": ({"experiments": {"x": {"kind": "eps_sweep", "clusters": ["square_10"],
                                        "j2": [0.0], "eps": [0.0, 0.5]}}},
                 "experiments.x.eps.0: 0.0 is outside (0, 1]"),
    "eps above one": ({"experiments": {"x": {"kind": "j2_sweep", "clusters": ["square_10"],
                                             "j2": [0.0], "eps": 1.5}}},
                      "experiments.x.eps: 1.5 is outside (0, 1]"),
    "eps as string": ({"experiments": {"x": {"kind": "eps_sweep", "clusters": ["square_10"],
                                             "j2": [0.0], "eps": ["1e-4"]}}},
                      "experiments.x.eps.0: '1e-4' is a string, not a number (YAML reads"),
    "eps grid of another cluster": (
        {"experiments": {"x": {"kind": "scaling", "clusters": ["square_10"], "j2": [0.0],
                               "eps": {"square_10": [0.1], "square_16": [0.1]}}}},
        "experiments.x.eps.square_16: not one of this experiment's clusters"),
    "eps grid missing for a cluster": (
        {"experiments": {"x": {"kind": "scaling", "clusters": ["square_10", "square_16"],
                               "j2": [0.0], "eps": {"square_10": [0.1]}}}},
        "experiments.x.eps: no εtrain grid for cluster square_16"),
    "eps zero in a per-cluster grid": (
        {"experiments": {"x": {"kind": "scaling", "clusters": ["square_10"], "j2": [0.0],
                               "eps": {"square_10": [0.0, 0.5]}}}},
        "experiments.x.eps.square_10.0: 0.0 is outside (0, 1]"),
    "empty J2 list": ({"experiments": {"x": {"kind": "eps_sweep", "clusters": ["square_10"],
                                             "j2": [], "eps": [0.1]}}},
                      "experiments.x.j2: must not be empty"),
    "unknown architecture": ({"experiments": {"x": {"kind": "eps_sweep",
                                                    "clusters": ["square_10"], "j2": [0.0],
                                                    "eps": [0.1], "archs": ["dense3"]}}},
                             "experiments.x.archs.0: 'dense3' is not one of"),
    "misspelled experiment key": ({"experiments": {"x": {"kind": "eps_sweep",
                                                         "clusters": ["square_10"],
                                                         "j2": [0.0], "eps": [0.1],
                                                         "seed": 3}}},
                                  "experiments.x.seed: unknown key (allowed: archs, clusters, "
                                  "description, enabled, eps, j2, kind, seeds, targets)"),
    "unknown kind": ({"experiments": {"x": {"kind": "sweep", "clusters": ["square_10"]}}},
                     "experiments.x.kind: 'sweep' is not one of"),
    "J2 grid missing": ({"experiments": {"x": {"kind": "j2_sweep", "clusters": ["kagome_12"]}}},
                        "experiments.x.j2: not given, and cluster kagome_12 has no "
                        "ground_states entry"),
    # clusters and ground states
    "unknown lattice": ({"clusters": {"mine": {"lattice": "honeycomb",
                                               "supercell": [[4, 0], [0, 4]]}}},
                        "clusters.mine.lattice: 'honeycomb' is not one of"),
    "cluster too small": ({"clusters": {"mine": {"lattice": "square",
                                                 "supercell": [[2, 0], [0, 2]]}}},
                          "clusters.mine: mine: cluster 'mine': duplicated J1 bond"),
    "bad cluster name": ({"clusters": {"my cluster": {"lattice": "square",
                                                      "supercell": [[4, 0], [0, 4]]}}},
                         "clusters.my cluster: bad name (use letters, digits and _ only)"),
    "empty ground-state J2": ({"ground_states": {"kagome_12": {"j2": []}}},
                              "ground_states.kagome_12.j2: must not be empty"),
    "misspelled ground-state key": ({"ground_states": {"kagome_12": {"j2": [0.5],
                                                                     "solvr": "scipy"}}},
                                    "ground_states.kagome_12.solvr: unknown key (allowed: "
                                    "completeness, j2,"),
    "unknown top key": ({"trian": {}}, "trian: unknown key (allowed: aggregate, clusters"),
    "train typo": ({"train": {"max_epoch": 3}}, "train.max_epoch: unknown key"),
    "train range": ({"train": {"lr": 0}}, "train.lr: 0 is outside (0, inf)"),
    "vmc choice": ({"vmc": {"sampler": "gibbs"}}, "vmc.sampler: 'gibbs' is not one of"),
    "ground-state cluster": ({"ground_states": {"square_99": {"j2": [0.0]}}},
                             "ground_states.square_99: unknown cluster 'square_99'"),
    "J2 digits": ({"ground_states": {"square_10": {"j2": [0.1234567]}}},
                  "ground_states.square_10.j2: 0.1234567 has more than 6 significant digits"),
    "J2 nan": ({"ground_states": {"square_10": {"j2": [float("nan")]}}},
               "ground_states.square_10.j2: nan is not a finite number"),
    "eps nan": ({"experiments": {"f": {"kind": "eps_sweep", "clusters": ["square_10"],
                                       "j2": [0.0], "eps": [float("nan")]}}},
                "experiments.f.eps: nan is not a training fraction in (0, 1]"),
    "odd cluster": ({"clusters": {"odd": {"lattice": "square", "supercell": [[3, 0], [0, 3]]}}},
                    "clusters.odd: odd:"),
    "sector label": ({"ground_states": {"square_16": {"j2": [0.0], "symmetries": "full",
                                                      "sectors": "Q+"}}},
                     "ground_states.square_16.sectors:"),
    "sectors, full basis": ({"ground_states": {"square_16": {"j2": [0.0], "symmetries": "none",
                                                             "sectors": "trivial"}}},
                            "ground_states.square_16.sectors: trivial applies to symmetric "
                            "solves only"),
    "completeness choice": ({"ground_states": {"square_16": {"j2": [0.0],
                                                             "completeness": "no"}}},
                            "ground_states.square_16.completeness: 'no' is not one of"),
    "region order": ({"frustrated_regions": {"square": [0.6, 0.4]}},
                     "frustrated_regions.square: lower end 0.6 ≥ upper end 0.4"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_values_are_one_line_naming_the_key(case):
    config, message = BAD[case]
    with pytest.raises(ConfigError) as err:
        check_config(copy.deepcopy(config))
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_command_line_values_are_yaml_scalars():
    # snakemake --config train='{lr: 0.01, max_epochs: 3}' ... arrives as strings
    given = {"train": {"lr": "0.01", "max_epochs": "3", "activation": "tanh"},
             "aggregate": {"confidence": "9.5e-1"}, "experiments": {"f": {"enabled": "false"}}}
    assert typed_overrides(given) == {"train": {"lr": 0.01, "max_epochs": 3,
                                                "activation": "tanh"},
                                      "aggregate": {"confidence": 0.95},
                                      "experiments": {"f": {"enabled": False}}}


def test_job_flags_are_the_configured_hyper_parameters_in_model_order():
    section = {"patience": 5, "lr": 0.01, "threads": 2, "eps_val": None}
    assert flags(section, TrainSettings) == "--lr 0.01 --patience 5"
    assert flags({"sampler": "exact", "width": 8}, VmcSettings) == "--sampler exact --width 8"
