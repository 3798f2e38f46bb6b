"""Beneš-network bit permutations against the per-bit reference."""

import numpy as np
import pytest

from nqsgen.clusters import cluster_names, get_cluster
from nqsgen.symmetry.group import cluster_group
from nqsgen.symmetry.permutations import (
    STAGE_SHIFTS,
    benes_masks,
    group_masks,
    permute_bits_reference,
    permute_states,
)


def _random_words(rng, n_sites, count):
    """Random words using only the low ``n_sites`` bits (all 64 bits when n_sites = 64)."""
    words = rng.integers(0, 2**63, size=count, dtype=np.uint64) * np.uint64(2) \
        + rng.integers(0, 2, size=count, dtype=np.uint64)
    if n_sites < 64:
        words &= np.uint64((1 << n_sites) - 1)
    edge = [0, (1 << n_sites) - 1, 1, 1 << (n_sites - 1)]
    return np.concatenate([np.array(edge, dtype=np.uint64), words])


def _apply(perms, flips, states):
    """Every element of a stack of permutations applied to ``states``: ``(G, len(states))``."""
    masks = group_masks(perms)
    assert masks.shape == (len(STAGE_SHIFTS), len(perms)) and masks.dtype == np.uint64
    out = np.empty((len(perms), len(states)), dtype=np.uint64)
    for g in range(len(perms)):
        permute_states(states, masks, flips, g, out[g])
    return out


def test_reference_moves_bit_i_to_perm_i():
    perm = [2, 0, 1]
    assert permute_bits_reference(np.array([0b001], dtype=np.uint64), perm)[0] == 0b100
    assert permute_bits_reference(np.array([0b010], dtype=np.uint64), perm)[0] == 0b001
    assert permute_bits_reference(np.array([0b011], dtype=np.uint64), perm)[0] == 0b101


@pytest.mark.parametrize("n_sites", [1, 2, 7, 16, 30, 36, 64])
def test_random_permutations_match_reference(n_sites):
    rng = np.random.default_rng(n_sites)
    perms = np.array([np.arange(n_sites)] + [rng.permutation(n_sites) for _ in range(40)])
    if n_sites > 1:  # a transposition and the reversal
        swap = np.arange(n_sites)
        swap[[0, -1]] = swap[[-1, 0]]
        perms = np.concatenate([perms, [swap, np.arange(n_sites)[::-1]]])
    states = _random_words(rng, n_sites, 300)
    flips = np.zeros(len(perms), dtype=np.uint64)
    images = _apply(perms, flips, states)
    for g, perm in enumerate(perms):
        np.testing.assert_array_equal(images[g], permute_bits_reference(states, perm),
                                      err_msg=f"N={n_sites}, permutation {perm.tolist()}")
    np.testing.assert_array_equal(images[0], states)  # the identity


def test_masks_of_the_identity_are_zero():
    for n in (1, 5, 64):
        np.testing.assert_array_equal(benes_masks(range(n)), np.zeros(11, dtype=np.uint64))


@pytest.mark.parametrize("name", cluster_names())
def test_cluster_group_elements_match_reference(name):
    group = cluster_group(get_cluster(name), "full")
    n = group.n_sites
    rng = np.random.default_rng(len(group))
    states = _random_words(rng, n, 64)
    images = np.empty((len(group), len(states)), dtype=np.uint64)
    for g in range(len(group)):
        permute_states(states, group.masks, group.flip_words, g, images[g])
    full = np.uint64((1 << n) - 1)
    for g, (perm, flip) in enumerate(zip(group.perms, group.flips, strict=True)):
        expected = permute_bits_reference(states, perm)
        if flip:
            expected = expected ^ full
        np.testing.assert_array_equal(images[g], expected, err_msg=f"{name} element {g}")


@pytest.mark.parametrize("perm", [[0, 0], [1, 2], [0, 2, 2], [-1, 0], list(range(65)),
                                  [0, 1, 3]])
def test_invalid_permutation_raises(perm):
    with pytest.raises(ValueError):
        benes_masks(perm)
