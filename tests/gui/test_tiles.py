"""widgets.tiles: weights and feature maps laid out as one image (pure numpy, no Qt)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from widgets.tiles import grid_shape, normalize, tile_feature_maps, tile_filters, tile_images


def tile(t, i: int) -> np.ndarray:
    """Tile ``i`` cut back out of a Tiling."""
    h, w = t.tile
    r, c = divmod(i, t.cols)
    y, x = r * (h + t.pad), c * (w + t.pad)
    return t.image[y:y + h, x:x + w]


def test_rgb_filters_are_one_colour_tile_per_output_channel_scaled_about_zero():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 3, 5, 5)).astype(np.float32)
    t = tile_filters(w)
    assert (t.rows, t.cols, t.tile, t.count) == (2, 3, (5, 5), 6)
    assert t.image.shape == (2 * 6 - 1, 3 * 6 - 1, 3) and t.image.dtype == np.float32
    scale = np.abs(w).max()
    for i in range(6):
        np.testing.assert_allclose(tile(t, i), w[i].transpose(1, 2, 0) / (2 * scale) + 0.5, rtol=1e-6)
    assert np.isnan(t.image[5]).all() and np.isnan(t.image[:, 5]).all()  # the gaps
    assert np.nanmin(t.image) >= 0 and np.nanmax(t.image) <= 1
    assert np.isclose(np.nanmax(np.abs(t.image - 0.5)), 0.5)  # the largest weight reaches an end


def test_gray_filters_are_a_row_per_output_channel_and_a_column_per_input_channel():
    w = np.arange(4 * 5 * 2 * 3, dtype=np.float32).reshape(4, 5, 2, 3) - 50
    t = tile_filters(w)
    assert (t.rows, t.cols, t.tile) == (4, 5, (2, 3)) and t.image.ndim == 2
    for o in range(4):
        for c in range(5):
            np.testing.assert_allclose(tile(t, o * 5 + c), w[o, c] / (2 * 69) + 0.5, rtol=1e-6)


def test_single_input_channel_and_conv1d_filters_make_a_square_grid():
    t = tile_filters(np.ones((16, 1, 3, 3), np.float32))
    assert (t.rows, t.cols) == (4, 4)
    w1 = np.random.default_rng(1).normal(size=(9, 4, 7)).astype(np.float32)
    t1 = tile_filters(w1)
    assert t1.tile == (4, 7) and t1.count == 9 and t1.image.ndim == 2
    np.testing.assert_allclose(tile(t1, 2), w1[2] / (2 * np.abs(w1).max()) + 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="Cout, Cin"):
        tile_filters(np.zeros((2, 2, 2, 2, 2)))


def test_per_tile_scaling_stretches_every_filter_to_its_own_range():
    w = np.stack([np.full((3, 2, 2), 0.01), np.full((3, 2, 2), -10.0)]).astype(np.float32)
    w[0, 0, 0, 0] = -0.02
    t = tile_filters(w, per_tile=True)
    assert np.isclose(np.abs(tile(t, 0) - 0.5).max(), 0.5) and np.isclose(np.abs(tile(t, 1) - 0.5).max(), 0.5)
    g = tile_filters(w, per_tile=False)  # over the layer, the small filter is almost mid-gray
    assert np.abs(tile(g, 0) - 0.5).max() < 0.01


def test_zero_and_non_finite_weights_draw_mid_gray_without_warnings():
    w = np.zeros((2, 3, 3, 3), np.float32)
    w[1, 0, 0, 0] = np.nan
    with np.errstate(all="raise"):
        t = tile_filters(w)
        tp = tile_filters(w, per_tile=True)
    assert np.allclose(tile(t, 0), 0.5) and np.allclose(tile(tp, 1), 0.5)


def test_feature_maps_are_scaled_min_to_max_per_channel_or_over_the_layer():
    m = np.stack([np.linspace(0, 1, 16).reshape(4, 4), np.linspace(5, 9, 16).reshape(4, 4),
                  np.full((4, 4), 3.0)]).astype(np.float32)
    t = tile_feature_maps(m)
    assert (t.rows, t.cols, t.count) == (2, 2, 3)
    for i in range(2):
        assert tile(t, i).min() == 0 and tile(t, i).max() == 1
    assert np.allclose(tile(t, 2), 0.5)  # a constant channel
    g = tile_feature_maps(m, per_tile=False)
    np.testing.assert_allclose(tile(g, 1), (m[1] - 0) / 9, rtol=1e-6)
    assert np.isnan(g.image[2 * 5 - 1:, 5:]).all()  # the fourth cell of the grid is empty


def test_signals_and_vectors_are_one_tile_a_row_per_channel():
    sig = np.random.default_rng(2).normal(size=(5, 1, 40)).astype(np.float32)  # as the probes send a signal
    t = tile_feature_maps(sig)
    assert t.count == 1 and t.image.shape == (5, 40)
    assert np.allclose(t.image.min(axis=1), 0) and np.allclose(t.image.max(axis=1), 1)
    v = tile_feature_maps(np.arange(10, dtype=np.float32))
    assert v.image.shape == (1, 10) and v.image[0, -1] == 1


@given(st.integers(1, 40), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2))
def test_every_pixel_of_a_tile_maps_back_to_it_and_gaps_to_none(n, h, w, pad):
    tiles = np.random.default_rng(n).random((n, h, w)).astype(np.float32)
    t = tile_images(tiles, pad=pad)
    assert t.rows * t.cols >= n > (t.rows - 1) * t.cols
    for y in range(t.image.shape[0]):
        for x in range(t.image.shape[1]):
            i = t.tile_at(y, x)
            if i is None:
                assert np.isnan(t.image[y, x])
            else:
                assert t.image[y, x] == tiles[i][y % (h + pad), x % (w + pad)]
    assert t.tile_at(-1, 0) is None and t.tile_at(t.image.shape[0], 0) is None


def test_grids_are_about_square_and_normalize_rejects_unknown_modes():
    assert grid_shape(0) == (0, 0) and grid_shape(1) == (1, 1) and grid_shape(64) == (8, 8)
    assert grid_shape(10, 1, 10) == (10, 1) and grid_shape(8, 10, 1) == (1, 8)  # wide tiles stack, tall ones line up
    with pytest.raises(ValueError):
        normalize(np.zeros((1, 2)), "log")
