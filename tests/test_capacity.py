"""The capacity experiment kind: runs with a width label (<arch>-w<width>), their ensembles,
the train stage's reading of the label, the points' width column, the caption and the figure
(README "Workflow"; config/README.md, kind capacity)."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from nqsgen import paths
from nqsgen.config.validate import check_config
from nqsgen.errors import ConfigError
from nqsgen.plan import Plan
from nqsgen.tables import capacity_caption, points_table
from tests.synthetic_runs import run

CONFIG = {"ground_states": {"kagome_12": {"j2": [0.0, 1.0]}},
          "experiments": {"cap": {"kind": "capacity", "clusters": ["kagome_12"],
                                  "widths": [4, 16], "eps": 0.2, "seeds": 2},
                          "sweep": {"kind": "j2_sweep", "clusters": ["kagome_12"],
                                    "eps": 0.2, "archs": ["dense2"], "seeds": 2}}}


def plan() -> Plan:
    return Plan(check_config(copy.deepcopy(CONFIG)))


def test_runs_carry_the_width_in_their_arch_label_and_add_expressibility():
    p = plan()
    runs = p.runs(p.experiments["cap"])
    assert len(runs) == 2 * 2 * 2 * 2  # J2 × widths × (εtrain, 1) × seeds
    assert {r[3] for r in runs} == {"dense2-w4", "dense2-w16"}
    assert {r[4] for r in runs} == {0.2, 1.0}
    assert str(paths.train_run_dir("kagome_12", 1.0, "sign", "dense2-w4", 1.0, 0)) == \
        "results/train/kagome_12/J2=1/sign/dense2-w4/eps=1/seed=0"
    # the j2_sweep keeps its plain directories (no run is shared across widths)
    assert {r[3] for r in p.runs(p.experiments["sweep"])} == {"dense2"}
    assert p.caption(type("W", (), {"experiment": "cap"})())["widths"] == "4, 16"


def test_ensembles_share_architecture_and_width():
    ensembles = plan().ensembles
    for e in ensembles:
        assert e.name.isidentifier()
        assert all(f"/{e.arch}/eps=" in d for d in e.run_dirs())
    by_arch = {e.arch for e in ensembles}
    assert by_arch == {"dense2", "dense2-w4", "dense2-w16"}
    assert sum(len(e.members) for e in ensembles if e.arch == "dense2-w4") == 8


@pytest.mark.parametrize("widths", [[], [0], [4.5], [4, 4]])
def test_bad_widths_are_one_line(widths):
    config = copy.deepcopy(CONFIG)
    config["experiments"]["cap"]["widths"] = widths
    with pytest.raises(ConfigError, match="experiments.cap.widths"):
        check_config(config)


def test_train_stage_reads_the_width_label():
    from nqsgen.config import TrainSettings
    from nqsgen.stages.train import _check_arch

    name, settings = _check_arch("dense2-w256", TrainSettings(width=64))
    assert (name, settings.width) == ("dense2", 256)
    name, settings = _check_arch("cnn-w8", TrainSettings())
    assert (name, settings.channels, settings.width) == ("cnn", 8, 64)
    assert _check_arch("dense1", TrainSettings(width=16))[1].width == 16
    with pytest.raises(ConfigError, match="--arch"):
        _check_arch("nope-w4", TrainSettings())


def test_a_registered_name_cannot_look_like_a_width_label():
    from nqsgen import architectures

    with pytest.raises(ValueError, match="width label"):
        architectures.register("dense2-w3", lambda c, cl, ctx=None: None)


def _runs():
    rows = []
    for j2, good in ((0.0, True), (1.0, False)):
        for width in (4, 16, 64):
            for eps, express in ((0.2, False), (1.0, True)):
                for seed in range(2):
                    overlap = (0.9 if good or express else 0.1) + 0.01 * seed + width / 1e4
                    rows.append({**run("kagome_12", j2, "sign", "dense2", eps, seed, overlap,
                                       expressibility=express), "width": float(width)})
    return pd.DataFrame(rows)


def test_points_have_one_row_per_width(tmp_path):
    table = points_table(_runs(), "cap")
    assert len(table) == 2 * 3 * 2 and (table["n"] == 2).all()
    assert str(table["width"].dtype) == "Int64"
    assert sorted(table["width"].unique()) == [4, 16, 64]
    path = tmp_path / "cap.parquet"
    table.to_parquet(path)
    text = capacity_caption(path)
    assert "kagome_12, J2/J1 = 1 (sign, dense2): learned overlap 0.105" in text
    assert "expressibility 0.911 ± 0.005 at width 64" in text
    assert capacity_caption(tmp_path / "missing.parquet") == ""


def test_capacity_figure_is_drawn(tmp_path):
    from nqsgen.plotting import figures

    fig = figures.capacity_figure(points_table(_runs(), "cap"), {"kagome": [0.51, 1.82]})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "hidden width"
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2  # one expressibility curve per J2
    figures.save_pdf(fig, tmp_path / "cap.pdf")
    assert (tmp_path / "cap.pdf").read_bytes().startswith(b"%PDF")
    empty = figures.capacity_figure(points_table(_runs().iloc[:0], "cap"))
    assert empty.axes
