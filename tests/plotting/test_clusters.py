"""Tests of the cluster picture and of the ``python -m nqsgen.stages.cluster_files`` stage."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nqsgen.clusters import get_cluster
from nqsgen.plotting.clusters import cluster_title, draw_cluster, layout
from nqsgen.stages import cluster_files as cli

JSON_KEYS = {
    "name", "lattice", "lattice_options", "supercell", "n_sites", "coordinates", "sublattice",
    "j1_bonds", "j2_bonds", "coordination", "bipartite_j1", "translations", "point_group",
    "fingerprint",
}


@pytest.mark.parametrize("name", ["square_10", "triangular_12", "kagome_24"])
def test_draw_cluster_writes_pdf(tmp_path, name):
    path = tmp_path / f"{name}.pdf"
    draw_cluster(get_cluster(name), path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000
    assert os.listdir(tmp_path) == [f"{name}.pdf"]  # no temporary file left behind


def test_draw_cluster_is_deterministic(tmp_path):
    c = get_cluster("kagome_12")
    draw_cluster(c, tmp_path / "a.pdf")
    draw_cluster(c, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_title_names_orientation_and_bipartiteness():
    t = cluster_title(get_cluster("kagome_24"))
    assert "kagome_24" in t and "N = 24" in t and "a1" in t and "bipartite: yes" in t
    assert "orientation" not in cluster_title(get_cluster("square_16")).lower()


@pytest.mark.parametrize("name", ["square_10", "triangular_30", "kagome_30"])
def test_layout_puts_sites_in_the_outlined_supercell(name):
    c = get_cluster(name)
    xy, corners = layout(c)
    lvec = c.supercell_vectors
    u = (xy - corners[0]) @ np.linalg.inv(lvec)
    assert (u > 1e-6).all() and (u < 1 - 1e-6).all()  # strictly inside, none on the outline
    # drawn positions are periodic images of the true positions
    frac = (xy - c.coordinates) @ np.linalg.inv(lvec)
    np.testing.assert_allclose(frac, np.round(frac), atol=1e-9)


def test_cli_writes_json_and_pdf(tmp_path, capsys):
    out_json, out_pdf = tmp_path / "c" / "square_16.json", tmp_path / "c" / "square_16.pdf"
    rc = cli.main(["--cluster", "square_16", "--json", str(out_json), "--pdf", str(out_pdf)])
    assert rc == 0
    d = json.loads(out_json.read_text())
    assert JSON_KEYS <= set(d)
    assert d["n_sites"] == 16 and len(d["j1_bonds"]) == 32 and len(d["point_group"]) == 8
    assert d["fingerprint"] == get_cluster("square_16").fingerprint()
    assert out_pdf.read_bytes().startswith(b"%PDF")
    assert "square_16" in capsys.readouterr().out


def test_cli_user_cluster_from_config(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "clusters:\n"
        "  kag_a2:\n"
        "    lattice: kagome\n"
        "    supercell: [[2, 0], [0, 2]]\n"
        "    j2_orientation: a2\n"
    )
    out = tmp_path / "k.json"
    assert cli.main(["--cluster", "kag_a2", "--json", str(out), "--config", str(cfg)]) == 0
    d = json.loads(out.read_text())
    assert d["lattice_options"] == {"j2_orientation": "a2"} and d["n_sites"] == 12


@pytest.mark.parametrize(
    "config, fragment",
    [
        ("clusters:\n  bad:\n    lattice: square\n    supercell: [[2, 1], [-1, 2]]\n",
         "J2 bonds coincide with J1 bonds"),
        ("clusters:\n  bad:\n    lattice: square\n    supercel: [[4, 0], [0, 4]]\n",
         "unknown key 'supercel'"),
        ("clusters: [1, 2]\n", "must be a mapping of cluster names"),
        ("clusters: {bad: [\n", "is not valid YAML: line 2, column 1:"),
    ],
)
def test_cli_config_errors(tmp_path, capsys, config, fragment):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(config)
    rc = cli.main(["--cluster", "bad", "--json", str(tmp_path / "x.json"), "--config", str(cfg)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and fragment in err
    assert err.count("\n") == 1
    assert not (tmp_path / "x.json").exists()


def test_cli_unknown_cluster_exits_2_without_traceback(tmp_path):
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "nqsgen.stages.cluster_files", "--cluster", "nope",
         "--json", str(tmp_path / "x.json"), "--pdf", str(tmp_path / "x.pdf")],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown cluster 'nope'")
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())
