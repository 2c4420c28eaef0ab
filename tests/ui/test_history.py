"""Bounded histories: memory stays flat and the kept samples stay evenly spaced."""
import numpy as np
import pytest

from ui.plots.history import BoundedHistory


def test_keeps_everything_below_capacity():
    h = BoundedHistory(width=2, capacity=10)
    for i in range(7):
        h.append(i, (i, -i))
    assert list(h.x) == list(range(7))
    assert h.values[:, 1].tolist() == [-i for i in range(7)]


def test_memory_is_bounded_over_many_samples():
    h = BoundedHistory(width=3, capacity=1000)
    size = h.nbytes
    for i in range(300_000):
        h.append(i, (i, 2 * i, 3 * i))
        assert len(h) <= h.capacity + 1
    assert h.nbytes == size
    assert h.capacity // 2 <= len(h) <= h.capacity + 1
    assert h.stride == 512          # 300,000 samples into 1,000 slots: doubled 9 times


def test_decimation_keeps_an_even_grid_and_the_newest_sample():
    h = BoundedHistory(capacity=8)
    for i in range(100):
        h.append(float(i), i)
    kept = h.x[:-1] if h.x[-1] % h.stride else h.x
    assert kept[0] == 0
    assert np.all(np.diff(kept) == h.stride)
    assert h.x[-1] == 99                       # the tail: curves reach the present
    assert np.array_equal(h.column(0), h.x)    # values moved with their x


def test_clear_starts_over():
    h = BoundedHistory(capacity=4)
    for i in range(50):
        h.append(i, i)
    h.clear()
    assert len(h) == 0 and h.stride == 1
    h.append(5, 1)
    assert h.x.tolist() == [5]


def test_capacity_must_be_even():
    with pytest.raises(ValueError):
        BoundedHistory(capacity=7)


def test_ranges_step_to_round_numbers():
    from ui.plots.ranges import nice_ceiling
    assert [nice_ceiling(v) for v in (0.7, 1, 1.2, 2.5, 6485, 9000)] == [0.8, 1, 1.5, 3, 8000, 10000]
