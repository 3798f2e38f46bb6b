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
