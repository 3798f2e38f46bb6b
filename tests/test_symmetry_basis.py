"""Symmetric bases (orbit representatives) against brute force over the whole Sz = 0 basis."""

import subprocess
import sys
from math import comb

import numpy as np
import pytest

from nqsgen.basis import SzBasis, row_partition
from nqsgen.clusters import get_cluster
from nqsgen.symmetry.basis import SymmetricBasis
from nqsgen.symmetry.group import Sector, SymmetryGroup, cluster_group
from nqsgen.symmetry.permutations import permute_bits_reference

CASES = [(name, kind) for name in ("square_10", "kagome_12", "triangular_12", "square_16",
                                   "triangular_16") for kind in ("translations", "full")]


class BruteForce:
    """Every group element applied to every Sz = 0 state with the per-bit reference."""

    def __init__(self, name, kind):
        self.group = cluster_group(get_cluster(name), kind)
        n = self.group.n_sites
        self.states = SzBasis(n).states()
        full = np.uint64((1 << n) - 1)
        self.images = np.empty((len(self.group), len(self.states)), dtype=np.uint64)
        for g, (perm, flip) in enumerate(zip(self.group.perms, self.group.flips, strict=True)):
            image = permute_bits_reference(self.states, perm)
            self.images[g] = image ^ full if flip else image
        self.minimum = self.images.min(axis=0)  # representative of every state
        self.fixed = self.images == self.states[None, :]  # (G, K): g fixes s

    def sector(self, sector):
        """(representatives, orbit sizes) of the orbits compatible with ``sector``."""
        chi = sector.characters.astype(np.int64)
        is_rep = self.minimum == self.states
        stab = self.fixed[:, is_rep]
        compatible = ~np.any(stab & (chi[:, None] == -1), axis=0)
        reps = self.states[is_rep][compatible]
        orbits = len(self.group) // stab.sum(axis=0)[compatible]
        return reps, orbits

    def multiplicity(self, sector):
        """(1/|G|) Σ_g χ(g) |Fix(g)|: how often χ occurs in the permutation representation."""
        total = int(sector.characters.astype(np.int64) @ self.fixed.sum(axis=1))
        assert total % len(self.group) == 0
        return total // len(self.group)


_CACHE = {}


def brute(name, kind):
    if (name, kind) not in _CACHE:
        _CACHE[(name, kind)] = BruteForce(name, kind)
    return _CACHE[(name, kind)]


@pytest.fixture(scope="module")
def built():
    """Every sector of every case, built once."""
    out = {}
    for name, kind in CASES:
        group = brute(name, kind).group
        out[(name, kind)] = [SymmetricBasis(group, s).build() for s in group.sectors]
    return out


@pytest.mark.parametrize("name,kind", CASES)
def test_representatives_and_orbits_match_brute_force(built, name, kind):
    bf = brute(name, kind)
    for basis in built[(name, kind)]:
        reps, orbits = bf.sector(basis.sector)
        assert basis.states.dtype == np.uint64
        np.testing.assert_array_equal(basis.states, reps, err_msg=basis.sector.label)
        np.testing.assert_array_equal(basis.orbit_sizes, orbits, err_msg=basis.sector.label)
        assert basis.dimension == len(reps) == bf.multiplicity(basis.sector)
        assert np.all(np.diff(basis.states.astype(np.float64)) > 0)
        assert np.all(len(bf.group) % basis.orbit_sizes == 0)


@pytest.mark.parametrize("name,kind", CASES)
def test_dimensions_add_up(built, name, kind):
    bases = built[(name, kind)]
    k = comb(bases[0].n_sites, bases[0].n_sites // 2)
    assert bases[0].sector.trivial
    # every orbit is compatible with the trivial sector: the orbits partition the basis
    assert int(bases[0].orbit_sizes.sum()) == k
    for basis in bases:
        assert int(basis.orbit_sizes.sum()) <= k
    # Σ_χ dim(χ) ≤ K (each 1D representation occupies its multiplicity in the K-dim space)
    assert sum(b.dimension for b in bases) <= k


def test_abelian_group_with_only_real_characters_splits_the_basis():
    """The translations of kagome_12 form Z2 × Z2: four real characters, Σ dim = K."""
    group = brute("kagome_12", "translations").group
    assert len(group.sectors) == len(group) == 4
    bases = [SymmetricBasis(group, s).build() for s in group.sectors]
    assert sum(b.dimension for b in bases) == comb(12, 6)


@pytest.mark.parametrize("name,kind", CASES)
def test_index_round_trip(built, name, kind):
    bf = brute(name, kind)
    for basis in built[(name, kind)]:
        np.testing.assert_array_equal(basis.index(basis.states), np.arange(basis.dimension))
        positions = basis.index(bf.states)
        inside = np.isin(bf.states, basis.states)
        assert np.all(positions[~inside] == -1)
        np.testing.assert_array_equal(basis.states[positions[inside]], bf.states[inside])
        assert basis.index(np.array([[basis.states[-1]]], dtype=np.uint64)).shape == (1, 1)
        outside = np.array([0, 1 << basis.n_sites, (1 << 62) | 1], dtype=np.uint64)
        assert basis.index(outside).tolist() == [-1, -1, -1]


def test_index_of_a_word_with_the_top_bit_set_is_minus_one():
    """Run in a subprocess: the failure mode is a segmentation fault."""
    from tests.conftest import REPO, stage_env

    code = ("import numpy as np\n"
            "from nqsgen.clusters import get_cluster\n"
            "from nqsgen.symmetry import SymmetricBasis, cluster_group\n"
            "g = cluster_group(get_cluster('square_10'), 'translations')\n"
            "b = SymmetricBasis(g, g.sectors[0]).build()\n"
            "print(b.index(np.array([1 << 63], dtype=np.uint64)).tolist())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=stage_env(), cwd=REPO, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "[-1]", proc.stderr[-500:]


@pytest.mark.parametrize("name,kind", CASES)
def test_representatives_of_every_state(built, name, kind):
    bf = brute(name, kind)
    for basis in built[(name, kind)]:
        chi = basis.sector.characters.astype(np.int64)
        reps, chars = basis.representatives(bf.states)
        np.testing.assert_array_equal(reps, bf.minimum)
        reaching = bf.images == bf.minimum[None, :]  # (G, K): g·s = rep(s)
        # the returned character is that of an element reaching the representative
        assert set(np.unique(chars)) <= {-1, 1}
        values = np.where(reaching, chi[:, None], 0)
        assert np.all(np.any(values == chars[None, :], axis=0))
        # for compatible orbits χ is the same for every element reaching the representative
        compatible = basis.index(reps) >= 0
        spread = np.where(reaching, chi[:, None], chars[None, :])
        assert np.all(spread[:, compatible] == chars[None, compatible])


@pytest.mark.parametrize("name,kind", [("square_16", "full"), ("triangular_12", "translations")])
def test_chunked_and_split_scans_agree(built, name, kind):
    reference = built[(name, kind)]
    for basis in reference:
        small = SymmetricBasis(basis.group, basis.sector).build(chunk=997)
        np.testing.assert_array_equal(small.states, basis.states)
        np.testing.assert_array_equal(small.orbit_sizes, basis.orbit_sizes)
        parts = [basis._scan_range(*row_partition(basis.scan_length, 3, r), 501, False)
                 for r in range(3)]
        np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), basis.states)
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), basis.orbit_sizes)


def test_scan_length():
    for kind, expected in (("full", comb(15, 8)), ("translations", comb(16, 8))):
        group = cluster_group(get_cluster("square_16"), kind)
        assert SymmetricBasis(group, group.sectors[0]).scan_length == expected


MPI_SCRIPT = r"""
import sys
import numpy as np
from mpi4py import MPI
from nqsgen.clusters import get_cluster
from nqsgen.symmetry import SymmetricBasis, cluster_group

comm = MPI.COMM_WORLD
arrays = {}
for name, kind in (("square_16", "full"), ("kagome_12", "translations"),
                   ("triangular_24", "full")):
    group = cluster_group(get_cluster(name), kind)
    sectors = group.sectors if name != "triangular_24" else group.sectors[:2]
    for sector in sectors:
        basis = SymmetricBasis(group, sector).build(comm, chunk=50_000)
        arrays[f"{name}/{kind}/{sector.index}/states"] = basis.states
        arrays[f"{name}/{kind}/{sector.index}/orbits"] = basis.orbit_sizes
np.savez(f"{sys.argv[1]}/rank{comm.rank}.npz", **arrays)
"""


@pytest.mark.mpi
def test_mpi_enumeration_equals_single_rank(tmp_path):
    from tests.conftest import REPO, stage_env

    script = tmp_path / "enumerate.py"
    script.write_text(MPI_SCRIPT)
    proc = subprocess.run(["mpiexec", "-n", "2", sys.executable, str(script), str(tmp_path)],
                          capture_output=True, text=True, env=stage_env(), cwd=REPO,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    assert len(ranks[0].files) == len(ranks[1].files) == 2 * (16 + 4 + 2)
    for key in ranks[0].files:
        name, kind, index, what = key.split("/")
        group = cluster_group(get_cluster(name), kind)
        single = SymmetricBasis(group, group.sectors[int(index)]).build()
        expected = single.states if what == "states" else single.orbit_sizes
        for r in (0, 1):
            np.testing.assert_array_equal(ranks[r][key], expected, err_msg=f"rank {r}: {key}")


def fixed_sz0_states(perm, flip, n):
    """|Fix(g)| on the Sz = 0 sector from the cycle structure of the permutation."""
    seen, cycles = np.zeros(n, bool), []
    for start in range(n):
        length, site = 0, start
        while not seen[site]:
            seen[site] = True
            site = perm[site]
            length += 1
        if length:
            cycles.append(length)
    if flip:  # spins alternate along every cycle: possible iff every cycle is even
        return 2 ** len(cycles) if all(c % 2 == 0 for c in cycles) else 0
    ways = [1] + [0] * (n // 2)  # subsets of cycles (all up) with n/2 sites in total
    for c in cycles:
        for total in range(n // 2, c - 1, -1):
            ways[total] += ways[total - c]
    return ways[n // 2]


@pytest.mark.parametrize("name,kind", CASES)
def test_burnside_count_of_fixed_states(name, kind):
    """The cycle-structure count of fixed states (used for square_36 below) is right."""
    bf = brute(name, kind)
    counts = [fixed_sz0_states(p, f, bf.group.n_sites)
              for p, f in zip(bf.group.perms, bf.group.flips, strict=True)]
    np.testing.assert_array_equal(counts, bf.fixed.sum(axis=1))


@pytest.mark.slow
def test_square_36_trivial_sector():
    group = cluster_group(get_cluster("square_36"), "full")
    assert len(group) == 576
    fixed = [fixed_sz0_states(p, f, 36) for p, f in zip(group.perms, group.flips, strict=True)]
    orbits, remainder = divmod(sum(fixed), len(group))
    assert remainder == 0 and orbits == 15_804_956  # Burnside's lemma
    basis = SymmetricBasis(group, group.sector("trivial")).build()
    assert basis.dimension == orbits == 15_804_956
    assert int(basis.orbit_sizes.sum()) == comb(36, 18)
    assert np.all(np.diff(basis.states) > 0)
    assert not np.any(basis.states >> np.uint64(35))  # the top bit of a representative is 0


@pytest.mark.mpi
def test_symmetry_cli_lists_and_counts_sectors(run_stage):
    """``nqsgen-sectors --count`` under 2 ranks: one line per sector with its count;
    the counts add up to what SymmetricBasis gives, and bad input is one line."""
    proc = run_stage("nqsgen.stages.list_sectors", "--cluster", "kagome_12", "--count", ranks=2)
    lines = [line for line in proc.stdout.splitlines() if "representatives=" in line]
    group = cluster_group(get_cluster("kagome_12"), "full")
    assert len(lines) == len(group.sectors) == 16
    for line, sector in zip(lines, group.sectors, strict=True):
        assert sector.label in line
        count = int(line.split("representatives=")[1].split()[0])
        assert count == SymmetricBasis(group, sector).build().dimension
    bad = run_stage("nqsgen.stages.list_sectors", "--cluster", "kagome_12", "--sectors", "Q+",
                    check=False)
    errors = [x for x in bad.stderr.splitlines() if x.startswith("error:")]
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(errors) == 1 and "'Q+'" in errors[0]


@pytest.mark.parametrize("name", ["square_16", "kagome_12", "triangular_12"])
def test_inversion_pairs_are_permuted_once_with_the_same_results(name):
    # `full` groups are laid out (S, S·Z), so kernels permute |G|/2 times and XOR; the same
    # group with its elements shuffled takes the plain path over all |G| elements
    group = cluster_group(get_cluster(name), "full")
    assert group.image_count == len(group) // 2
    assert int(group.inversion_word) == (1 << group.n_sites) - 1
    assert cluster_group(get_cluster(name), "translations").inversion_word == 0
    order = np.concatenate([[0], 1 + np.random.default_rng(0).permutation(len(group) - 1)])
    shuffled = SymmetryGroup(group.perms[order], group.flips[order], {}, "full")
    assert shuffled.inversion_word == 0 and shuffled.image_count == len(group)
    states = SzBasis(group.n_sites).states()
    for sector in group.sectors[:4] + group.sectors[-2:]:
        paired = SymmetricBasis(group, sector).build()
        plain_sector = Sector(sector.index, sector.characters[order], (), "shuffled")
        plain = SymmetricBasis(shuffled, plain_sector).build()
        np.testing.assert_array_equal(paired.states, plain.states)
        np.testing.assert_array_equal(paired.orbit_sizes, plain.orbit_sizes)
        reps, chis = paired.representatives(states)
        plain_reps, plain_chis = plain.representatives(states)
        np.testing.assert_array_equal(reps, plain_reps)
        compatible = paired.index(reps) >= 0
        np.testing.assert_array_equal(chis[compatible], plain_chis[compatible])
