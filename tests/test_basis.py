from itertools import combinations
from math import comb

import numpy as np
import pytest

from nqsgen.basis import SzBasis, row_partition, spins
from nqsgen.errors import ConfigError


def brute_force_states(n, n_up):
    return np.array(sorted(sum(1 << i for i in c) for c in combinations(range(n), n_up)),
                    dtype=np.uint64)


@pytest.mark.parametrize("n,n_up", [(2, 1), (4, 2), (7, 3), (10, 5), (12, 6), (13, 4)])
def test_states_match_brute_force(n, n_up):
    basis = SzBasis(n, n_up)
    expected = brute_force_states(n, n_up)
    assert basis.dimension == comb(n, n_up) == len(expected)
    np.testing.assert_array_equal(basis.states(), expected)
    np.testing.assert_array_equal(basis.index(expected), np.arange(len(expected)))


def test_row_ranges_are_slices_of_the_whole_basis():
    basis = SzBasis(16)
    whole = basis.states()
    for lo, hi in [(0, 1), (5, 77), (12000, 12870), (12869, 12870), (3, 3)]:
        np.testing.assert_array_equal(basis.states(lo, hi), whole[lo:hi])


def test_index_of_24_site_sector_is_a_bijection():
    basis = SzBasis(24)
    assert basis.dimension == 2_704_156
    states = basis.states()
    assert np.all(np.diff(states) > 0)
    np.testing.assert_array_equal(basis.index(states), np.arange(basis.dimension))


def test_large_dimensions_are_exact():
    assert SzBasis(30).dimension == 155_117_520
    assert SzBasis(36).dimension == 9_075_135_300
    basis = SzBasis(36)
    last = basis.states(basis.dimension - 1, basis.dimension)
    assert int(last[0]) == ((1 << 18) - 1) << 18
    assert basis.index(last)[0] == basis.dimension - 1


def test_spins_follow_bit_convention():
    s = spins(np.array([0b0101], dtype=np.uint64), 4)
    np.testing.assert_array_equal(s, [[1, -1, 1, -1]])


def test_contains():
    basis = SzBasis(4)
    mask = basis.contains(np.array([0b0011, 0b0111, 0b1100, 0b110000], dtype=np.uint64))
    np.testing.assert_array_equal(mask, [True, False, True, False])


def test_row_partition_covers_everything():
    parts = [row_partition(10, 3, r) for r in range(3)]
    assert parts == [(0, 4), (4, 7), (7, 10)]


def test_odd_sites_have_no_sz0_sector():
    with pytest.raises(ConfigError, match="needs an even N"):
        SzBasis(5)
