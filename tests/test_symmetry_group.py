"""Symmetry groups of the catalogue clusters and their one-dimensional real sectors."""

import json

import numpy as np
import pytest

from nqsgen.clusters import cluster_names, get_cluster
from nqsgen.errors import ConfigError
from nqsgen.symmetry.group import SYMMETRIES, SymmetryGroup, cluster_group


def multiplication_table(group):
    """``table[g, h]`` = index of "first h, then g", computed here without ``compose``."""
    lookup = {p.tobytes() + bytes([int(f)]): k
              for k, (p, f) in enumerate(zip(group.perms, group.flips, strict=True))}
    assert len(lookup) == len(group)
    table = np.empty((len(group), len(group)), dtype=np.int64)
    for g in range(len(group)):
        products = group.perms[g][group.perms]  # row h: perm_g ∘ perm_h
        flips = group.flips[g] ^ group.flips
        for h in range(len(group)):
            table[g, h] = lookup[products[h].tobytes() + bytes([int(flips[h])])]
    return table


def subgroup_generated(table, elements):
    reached, frontier = {0}, [0]
    while frontier:
        nxt = []
        for g in frontier:
            for s in elements:
                h = int(table[s, g])
                if h not in reached:
                    reached.add(h)
                    nxt.append(h)
        frontier = nxt
    return reached


@pytest.mark.parametrize("name", cluster_names())
@pytest.mark.parametrize("kind", SYMMETRIES)
def test_groups_are_closed(name, kind):
    group = cluster_group(get_cluster(name), kind)
    group.check_closed()
    assert group.kind == kind
    np.testing.assert_array_equal(group.perms[0], np.arange(group.n_sites))
    assert not group.flips[0]
    for perm in group.perms:
        np.testing.assert_array_equal(np.sort(perm), np.arange(group.n_sites))
    if kind == "none":
        assert len(group) == 1 and len(group.sectors) == 1 and group.sectors[0].trivial
    if kind == "translations":
        assert not group.has_spin_inversion
        assert len(group) == len(get_cluster(name).translations)
    if kind == "full":
        assert group.has_spin_inversion
        assert len(group) == 2 * len(get_cluster(name).symmetry_group())
        # spin inversion commutes with everything: the flipped half repeats the permutations
        half = len(group) // 2
        np.testing.assert_array_equal(np.sort(group.flips.astype(int)),
                                      [0] * half + [1] * half)


@pytest.mark.parametrize("name,kind,order", [
    ("square_36", "full", 576), ("square_36", "translations", 36),
    ("kagome_24", "full", 64), ("kagome_12", "full", 32), ("kagome_12", "translations", 4),
    ("square_16", "translations", 16), ("square_16", "full", 256), ("square_10", "full", 80),
    ("triangular_12", "full", 96), ("triangular_16", "translations", 16),
    ("square_30", "none", 1),
])
def test_group_orders(name, kind, order):
    assert len(cluster_group(get_cluster(name), kind)) == order


def test_bad_kind_raises_config_error():
    with pytest.raises(ConfigError):
        cluster_group(get_cluster("square_16"), "bogus")


@pytest.mark.parametrize("name,kind", [("kagome_12", "full"), ("square_16", "full"),
                                       ("triangular_12", "full"), ("square_10", "full"),
                                       ("kagome_24", "translations"),
                                       ("square_36", "translations")])
def test_characters_are_homomorphisms(name, kind):
    group = cluster_group(get_cluster(name), kind)
    table = multiplication_table(group)
    # compose agrees with the independent table on a sample of pairs
    rng = np.random.default_rng(0)
    for g, h in rng.integers(0, len(group), size=(200, 2)):
        assert group.compose(int(g), int(h)) == table[g, h]
    labels = set()
    for k, sector in enumerate(group.sectors):
        chi = sector.characters.astype(np.int64)
        assert sector.index == k
        assert chi.shape == (len(group),) and set(np.unique(chi)) <= {-1, 1}
        assert chi[0] == 1
        np.testing.assert_array_equal(chi[table], chi[:, None] * chi[None, :])
        gens = list(group.generators.values())
        assert sector.generator_characters == tuple(int(chi[g]) for g in gens)
        assert group.sector(sector.label) is sector and group.sector(k) is sector
        labels.add(sector.label)
    assert len(labels) == len(group.sectors)
    characters = np.array([s.characters for s in group.sectors])
    assert len(np.unique(characters, axis=0)) == len(group.sectors)  # pairwise distinct


@pytest.mark.parametrize("name", cluster_names())
@pytest.mark.parametrize("kind", ["translations", "full"])
def test_trivial_sector_first(name, kind):
    group = cluster_group(get_cluster(name), kind)
    assert group.sectors[0].trivial
    assert not any(s.trivial for s in group.sectors[1:])
    assert group.sector("trivial") is group.sectors[0]
    with pytest.raises(ConfigError):
        group.sector("no-such-sector")


@pytest.mark.parametrize("name", cluster_names())
@pytest.mark.parametrize("kind", ["translations", "full"])
def test_number_of_sectors_is_number_of_homomorphisms(name, kind):
    """|Hom(G, Z2)| = [G : ⟨g² : g ∈ G⟩] (the subgroup of squares contains [G, G])."""
    group = cluster_group(get_cluster(name), kind)
    table = multiplication_table(group)
    squares = sorted({int(table[g, g]) for g in range(len(group))})
    index, remainder = divmod(len(group), len(subgroup_generated(table, squares)))
    assert remainder == 0
    assert len(group.sectors) == index


def test_number_of_sectors_by_brute_force_on_kagome_12():
    """Every ±1 assignment over all elements of the translation group (2^4) is checked."""
    group = cluster_group(get_cluster("kagome_12"), "translations")
    table = multiplication_table(group)
    count = 0
    for bits in range(2 ** len(group)):
        chi = np.array([1 - 2 * ((bits >> g) & 1) for g in range(len(group))])
        count += bool(np.array_equal(chi[table], chi[:, None] * chi[None, :]))
    assert count == len(group.sectors) == 4


@pytest.mark.parametrize("name,kind", [("kagome_12", "full"), ("square_16", "translations"),
                                       ("triangular_24", "full")])
def test_to_dict_round_trip(name, kind):
    group = cluster_group(get_cluster(name), kind)
    data = json.loads(json.dumps(group.to_dict()))  # must survive JSON
    again = SymmetryGroup.from_dict(data)
    assert again.kind == group.kind and len(again) == len(group)
    np.testing.assert_array_equal(again.perms, group.perms)
    np.testing.assert_array_equal(again.flips, group.flips)
    assert again.generators == group.generators
    assert [s.label for s in again.sectors] == [s.label for s in group.sectors]
    for a, b in zip(again.sectors, group.sectors, strict=True):
        np.testing.assert_array_equal(a.characters, b.characters)
    np.testing.assert_array_equal(again.masks, group.masks)
    np.testing.assert_array_equal(again.flip_words, group.flip_words)


def test_group_without_identity_first_is_refused():
    with pytest.raises(ConfigError):
        SymmetryGroup(np.array([[1, 0], [0, 1]]), [False, False], {}, "translations")


def test_check_closed_detects_a_missing_element():
    # the 3-cycle without its square is not closed
    perms = np.array([[0, 1, 2], [1, 2, 0]])
    with pytest.raises(ConfigError):
        SymmetryGroup(perms, [False, False], {}, "translations").check_closed()
