"""Optical flow, the warp, the consistency check and the flicker score (nst_helpers.flow),
checked on test clips of known motion (nst_helpers.clips)."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.clips import synthetic_clip, textured_photo
from nst_helpers.errors import NSTError
from nst_helpers.flow import (
    clip_flicker,
    consistency_mask,
    estimate_flow,
    flicker_score,
    flow_to_colour,
    pixel_grid,
    reliable_flow,
    warp,
    warp_array,
)


@pytest.fixture(scope="module")
def photo():
    return textured_photo(96, 128, seed=0)


@pytest.fixture(scope="module")
def clip(photo):
    """6 frames of 48x64: camera pan (1.5, 0.5) px and 2 % zoom a frame, a disc crossing."""
    return synthetic_clip(photo, frames=6, size=(48, 64), pan=(1.5, 0.5), zoom=1.02, seed=0)


def constant_flow(height, width, dx, dy):
    return np.broadcast_to(np.array([dx, dy], np.float32), (height, width, 2)).copy()


# ------------------------------------------------------------------------ test clips


def test_clip_has_frames_flows_and_masks_of_the_right_shapes(clip):
    assert len(clip.frames) == 6 and len(clip.flows) == 5 and len(clip.masks) == 5
    assert all(f.shape == (48, 64, 3) and f.dtype == np.float32 for f in clip.frames)
    assert all(f.shape == (48, 64, 2) and f.dtype == np.float32 for f in clip.flows)
    assert all(m.shape == (48, 64) and set(np.unique(m)) <= {0.0, 1.0} for m in clip.masks)
    assert all(0.0 <= f.min() and f.max() <= 1.0 for f in clip.frames)


def test_integer_pan_shifts_the_frame_and_hides_the_entering_border(photo):
    """Camera pan (2, 1): flow (2, 1) everywhere; frame t+1 (y, x) = frame t (y + 1, x + 2)."""
    clip = synthetic_clip(photo, frames=3, size=(48, 64), pan=(2, 1), zoom=1.0, object=False)
    assert np.array_equal(clip.flows[0], constant_flow(48, 64, 2, 1))
    np.testing.assert_allclose(clip.frames[1][:-1, :-2], clip.frames[0][1:, 2:], atol=1e-6)
    expected = np.ones((48, 64), np.float32)
    expected[-1:, :] = expected[:, -2:] = 0  # came from outside frame t
    assert np.array_equal(clip.masks[0], expected)


def test_a_still_camera_gives_identical_frames_and_the_disc_uncovers_a_crescent(photo):
    still = synthetic_clip(photo, frames=2, size=(48, 64), pan=0, zoom=1.0, object=False)
    assert np.array_equal(still.frames[0], still.frames[1])
    assert not still.flows[0].any() and still.masks[0].all()
    moving = synthetic_clip(
        photo, frames=2, size=(48, 64), pan=0, zoom=1.0, object_motion=(3.0, 0.0)
    )
    uncovered = moving.masks[0] == 0
    # a crescent about 2 * radius (9.6 px) * 3 px = 58 px, behind (left of) the disc
    assert 30 < uncovered.sum() < 90
    x, _ = pixel_grid(48, 64)
    assert x[uncovered].mean() < (64 - 1) / 2


# --------------------------------------------------------------------------- warping


def test_warp_with_the_exact_flow_reproduces_the_next_frame_where_visible(clip):
    """Measured: masked mean |error| 0.008-0.010 with the warp, 0.091-0.095 without."""
    for t, (flow, mask) in enumerate(zip(clip.flows, clip.masks)):
        previous, current = clip.frames[t], clip.frames[t + 1]
        warped = warp(previous, flow).numpy()
        error = np.abs(warped - current).mean(axis=-1)
        unwarped = np.abs(previous - current).mean(axis=-1)
        assert mask.mean() > 0.9
        assert (error * mask).sum() / mask.sum() < 0.02
        assert (unwarped * mask).sum() / mask.sum() > 0.05


def test_identity_flow_returns_the_image():
    image = np.random.default_rng(1).random((5, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(warp(image, np.zeros((5, 7, 2), np.float32)).numpy(), image)


def test_integer_flow_is_a_roll_inside_and_clamps_at_the_border():
    image = np.random.default_rng(2).random((6, 8, 3)).astype(np.float32)
    warped = warp(image, constant_flow(6, 8, 2, -1)).numpy()  # out(y, x) = in(y - 1, x + 2)
    rolled = np.roll(image, shift=(1, -2), axis=(0, 1))
    np.testing.assert_allclose(warped[1:, :-2], rolled[1:, :-2], atol=1e-6)
    row = np.array([[[0.0], [10.0], [20.0], [30.0]]], np.float32)  # (1, 4, 1), worked by hand
    np.testing.assert_allclose(
        warp(row, constant_flow(1, 4, 0.25, 0))[0, :, 0], [2.5, 12.5, 22.5, 30.0]
    )
    np.testing.assert_allclose(warp(row, constant_flow(1, 4, -1, 0))[0, :, 0], [0, 0, 10, 20])


def test_warp_agrees_with_numpy_and_broadcasts_batches():
    rng = np.random.default_rng(3)
    images = rng.random((2, 9, 11, 3)).astype(np.float32)
    flow = (rng.standard_normal((9, 11, 2)) * 3).astype(np.float32)
    warped = warp(images, flow).numpy()
    assert warped.shape == (2, 9, 11, 3)
    for image, result in zip(images, warped):
        np.testing.assert_allclose(result, warp_array(image, flow), atol=1e-5)
    with pytest.raises(NSTError, match="cannot warp"):
        warp(images, np.zeros((10, 11, 2), np.float32))


def test_warp_gradient_reaches_the_image_and_matches_finite_differences():
    rng = np.random.default_rng(4)
    image = tf.constant(rng.random((1, 3, 4, 2)), tf.float32)
    flow = tf.constant(constant_flow(3, 4, 0.3, -0.6)[None] + rng.uniform(-0.05, 0.05, (3, 4, 2)))
    weights = tf.constant(rng.standard_normal((1, 3, 4, 2)), tf.float32)

    def loss(image, flow):
        return tf.reduce_sum(weights * warp(image, tf.cast(flow, tf.float32)))

    with tf.GradientTape(persistent=True) as tape:
        tape.watch([image, flow])
        value = loss(image, flow)
    image_grad = tf.convert_to_tensor(tape.gradient(value, image)).numpy()
    flow_grad = tape.gradient(value, flow).numpy()
    assert np.abs(image_grad).sum() > 0
    for grad, variable, at in ((image_grad, image, 0), (flow_grad, flow, 1)):
        step = 1e-2
        for index in np.ndindex(*variable.shape):
            bump = np.zeros(variable.shape)
            bump[index] = step
            args = [image, flow]
            args[at] = variable + tf.cast(bump, variable.dtype)
            upper = loss(*args)
            args[at] = variable - tf.cast(bump, variable.dtype)
            numeric = (upper - loss(*args)) / (2 * step)
            assert grad[index] == pytest.approx(float(numeric), abs=2e-3)


# ------------------------------------------------------------------------ estimating


def test_dis_flow_matches_a_known_pan_inside_the_frame(photo):
    """Measured: endpoint error mean 0.07 px, largest 0.10 px, 6 px away from the border."""
    clip = synthetic_clip(photo, frames=3, size=(48, 64), pan=(1.5, -0.75), zoom=1.0, object=False)
    for t in range(2):
        flow = estimate_flow(clip.frames[t], clip.frames[t + 1])
        assert flow.shape == (48, 64, 2) and flow.dtype == np.float32
        error = np.hypot(*np.moveaxis(flow[6:-6, 6:-6] - (1.5, -0.75), -1, 0))
        assert error.mean() < 0.25 and error.max() < 0.5
    with pytest.raises(NSTError, match="differ in size"):
        estimate_flow(clip.frames[0], clip.frames[1][:40])


def test_consistency_check_on_dis_flows_flags_uncovered_pixels(photo):
    """At 96x128 (DIS's 8-pixel patches need room: at 48x64 it flags only ~58 % behind the
    disc). Measured over 5 pairs: 100 % of the entering border and 73 % of the background
    the disc uncovers are flagged; 4.1 % of the visible pixels more than 4 px away from the
    disc's edge (about 60 % of those near the edge, the motion boundary Ruder et al. flag
    on purpose)."""
    clip = synthetic_clip(photo, frames=6, size=(96, 128), pan=(1.5, 0.5), zoom=1.0, seed=0)
    x, y = pixel_grid(96, 128)
    flagged = {"border": [], "behind the disc": [], "far from the disc": []}
    for t in range(5):
        flow, mask = reliable_flow(clip.frames[t], clip.frames[t + 1])
        assert flow.shape == (96, 128, 2) and mask.shape == (96, 128)
        exact = clip.flows[t]
        source_x, source_y = x + exact[..., 0], y + exact[..., 1]
        outside = (source_x > 127) | (source_y > 95)
        uncovered = clip.masks[t] == 0
        centre = np.array([127, 95]) / 2 + (t + 1 - 2.5) * np.array([2.5, 0.5])
        from_edge = np.abs(np.hypot(x - centre[0], y - centre[1]) - 96 / 5)
        flagged["border"].append(1 - mask[uncovered & outside])
        flagged["behind the disc"].append(1 - mask[uncovered & ~outside])
        flagged["far from the disc"].append(1 - mask[~uncovered & (from_edge > 4)])
    share = {name: np.concatenate(parts).mean() for name, parts in flagged.items()}
    assert share["border"] > 0.95
    assert share["behind the disc"] > 0.6
    assert share["far from the disc"] < 0.08


def test_consistency_mask_on_hand_made_flows():
    """Pan (2, 1): only the entering border fails. A 0.6 px step in the flow: a motion
    boundary at columns 31-32 (central differences), and column 63 looks outside."""
    pan = consistency_mask(constant_flow(48, 64, -2, -1), constant_flow(48, 64, 2, 1))
    expected = np.ones((48, 64), np.float32)
    expected[-1:, :] = expected[:, -2:] = 0
    assert np.array_equal(pan, expected)
    step = np.zeros((48, 64, 2), np.float32)
    step[:, 32:, 0] = 0.6
    forward = np.zeros_like(step)  # |w̃ + ŵ|² = 0.36 < 0.5: no disocclusion
    boundary = consistency_mask(forward, step)
    assert set(np.flatnonzero(boundary.min(axis=0) == 0)) == {31, 32, 63}
    plain = consistency_mask(forward, step, motion_boundaries=False)
    assert set(np.flatnonzero(plain.min(axis=0) == 0)) == {63}
    forward[10:20, 10:20] = 5.0  # round trip off by 5 px: disoccluded
    assert not consistency_mask(forward, np.zeros_like(step))[10:20, 10:20].any()


# ------------------------------------------------------------------------- flicker


def test_flicker_is_zero_for_a_still_result_and_one_sixth_for_noise(photo):
    stylized = photo[:48, :64]
    still = [stylized] * 4
    zero = [np.zeros((48, 64, 2), np.float32)] * 3
    ones = [np.ones((48, 64), np.float32)] * 3
    assert clip_flicker(still, zero, ones) == 0.0
    noise = list(np.random.default_rng(5).random((4, 48, 64, 3)).astype(np.float32))
    assert clip_flicker(noise, zero, ones) == pytest.approx(1 / 6, abs=0.01)
    assert clip_flicker(noise, zero) == pytest.approx(clip_flicker(noise, zero, ones))


def test_flicker_follows_the_flow_and_ignores_masked_pixels(clip):
    """The clip itself as a result that moves with the scene: near 0 along the exact flow
    (measured 3e-4), not without it (measured 0.016)."""
    previous, current, flow, mask = clip.frames[0], clip.frames[1], clip.flows[0], clip.masks[0]
    exact = flicker_score(previous, current, flow, mask)
    assert exact < 1e-3
    assert flicker_score(previous, current, np.zeros((48, 64, 2)), mask) > 10 * exact
    noisy = current.copy()
    noisy[mask == 0] = 1.0 - noisy[mask == 0]  # change only the pixels the mask leaves out
    assert flicker_score(previous, noisy, flow, mask) == exact
    assert flicker_score(previous, noisy, flow) > exact
    with pytest.raises(NSTError, match="N - 1 flows"):
        clip_flicker(clip.frames, clip.flows[:3], clip.masks)
    with pytest.raises(NSTError, match="at least one reliable pixel"):
        flicker_score(clip.frames[0], clip.frames[1], clip.flows[0], np.zeros((48, 64)))


# --------------------------------------------------------------------------- showing


def test_flow_colours_follow_the_colour_wheel():
    flow = np.zeros((2, 3, 2), np.float32)
    flow[0, 0] = (2, 0)  # right, longest: red
    flow[0, 1] = (1, 0)  # right, half as long: half saturated
    flow[0, 2] = (-2, 0)  # left: cyan
    colours = flow_to_colour(flow)
    assert colours.shape == (2, 3, 3) and colours.dtype == np.uint8
    assert colours[0].tolist() == [[255, 0, 0], [255, 128, 128], [0, 255, 255]]
    assert (colours[1] == 255).all()  # no motion: white
    assert (flow_to_colour(np.zeros((4, 4, 2))) == 255).all()
