"""Batched vibration augmentations: identity when off, seeded, and each doing what it says per sample."""

import math

import pytest
import torch

from faultcli.config.schema import AugmentStage
from faultcli.engine.schedules import stage_at
from faultcli.signal.augment import (
    EQ_POINTS,
    IMPULSE_AMPLITUDE,
    SignalAugment,
    add_impulses,
    add_noise,
    augment_batch,
    mixup,
    random_eq,
    random_mask,
    scale_amplitude,
    time_shift,
    time_warp,
)

STRONG = SignalAugment(noise_std=0.2, shift=0.3, scale=0.3, warp=0.2, mask=0.3, impulses=3, eq_db=6.0, prob=1.0)


def batch(b: int = 16, length: int = 256, seed: int = 0) -> torch.Tensor:
    return torch.randn(b, 1, length, generator=torch.Generator().manual_seed(seed))


def gen(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_prob_zero_or_no_amounts_is_identity():
    x = batch()
    assert torch.equal(augment_batch(x, SignalAugment(**{**STRONG.__dict__, "prob": 0.0}), gen()), x)
    assert torch.equal(augment_batch(x, SignalAugment(prob=1.0), gen()), x)
    for fn, amount in (
        (add_noise, 0.5),
        (scale_amplitude, 0.5),
        (time_shift, 0.5),
        (time_warp, 0.3),
        (random_eq, 12.0),
        (random_mask, 0.5),
        (add_impulses, 4),
    ):
        assert torch.equal(fn(x, amount, 0.0, gen()), x), fn.__name__


def test_same_seed_same_batch_and_shapes_kept():
    x = batch()
    a, b = augment_batch(x, STRONG, gen(3)), augment_batch(x, STRONG, gen(3))
    assert torch.equal(a, b) and not torch.equal(a, augment_batch(x, STRONG, gen(4)))
    assert a.shape == x.shape and a.dtype == x.dtype and a.device == x.device
    flat = augment_batch(x[:, 0], STRONG, gen(3))  # (B, L) works too
    assert flat.shape == x[:, 0].shape


def test_prob_picks_about_that_share_of_samples():
    x = batch(b=2000, length=16)
    changed = (scale_amplitude(x, 0.5, 0.3, gen()) != x).any(-1).any(-1).float().mean().item()
    assert changed == pytest.approx(0.3, abs=0.05)


def test_time_shift_rolls_each_window_by_its_own_amount():
    x = batch(b=8)
    out = time_shift(x, 0.25, 1.0, gen())
    shifts = set()
    for row_in, row_out in zip(x[:, 0], out[:, 0], strict=True):
        k = next(k for k in range(-64, 65) if torch.equal(torch.roll(row_in, k), row_out))
        shifts.add(k)
    assert len(shifts) > 1


def test_scale_multiplies_each_window_within_range():
    x = batch()
    ratio = scale_amplitude(x, 0.3, 1.0, gen()) / x
    per_row = ratio[:, 0, 0]
    assert torch.allclose(ratio, per_row[:, None, None].expand_as(ratio), atol=1e-5)
    assert ((per_row >= 0.7) & (per_row <= 1.3)).all() and per_row.std() > 0


def test_random_eq_reshapes_each_spectrum_smoothly_within_its_db_range():
    x = batch(b=32, length=1024).double()  # float64: the kink count below reads second differences
    out = random_eq(x, 6.0, 1.0, gen())
    gain_db = 20 * torch.log10(torch.fft.rfft(out, dim=-1).abs() / torch.fft.rfft(x, dim=-1).abs())[:, 0]
    assert gain_db.abs().max() <= 6.0 + 1e-3
    assert (gain_db.std(dim=-1) > 0.5).all()  # not a flat gain: the curve moves over frequency
    # piecewise linear: the slope changes only near the EQ_POINTS random control frequencies
    kinks = (gain_db.diff(dim=-1).diff(dim=-1).abs() > 1e-3).sum(dim=-1)
    assert (kinks <= 2 * EQ_POINTS).all()
    assert not torch.allclose(gain_db[0], gain_db[1])  # each window its own curve
    some = random_eq(x, 6.0, 0.5, gen())
    untouched = (some == x).all(-1).all(-1)
    assert 0 < untouched.sum() < len(x)


def test_noise_is_relative_to_each_windows_std():
    x = batch(b=64, length=4096)
    x[1::2] *= 100.0  # loud windows get proportionally loud noise
    rel = (add_noise(x, 0.2, 1.0, gen()) - x).std(-1) / x.std(-1)
    assert (rel <= 0.21).all() and (rel > 0).all()
    assert rel[0::2].mean().item() == pytest.approx(rel[1::2].mean().item(), rel=0.3)


def test_time_warp_changes_a_sines_frequency_within_range_and_keeps_length():
    length, k = 2048, 128
    t = torch.arange(length, dtype=torch.float32)
    x = torch.sin(2 * math.pi * k * t / length).repeat(16, 1, 1)
    out = time_warp(x, 0.2, 1.0, gen())
    assert out.shape == x.shape
    peak = torch.fft.rfft(out[:, 0]).abs().argmax(-1).float() / k  # speed factor of each window
    assert ((peak >= 0.79) & (peak <= 1.21)).all() and peak.std() > 0.01


def test_mask_zeroes_one_short_contiguous_run():
    x = batch(length=200) + 10.0  # no natural zeros
    out = random_mask(x, 0.3, 1.0, gen())
    for row_in, row_out in zip(x[:, 0], out[:, 0], strict=True):
        zero = (row_out == 0).nonzero().flatten()
        assert zero.numel() <= 60
        if zero.numel():
            assert zero[-1] - zero[0] + 1 == zero.numel()  # contiguous
        keep = row_out != 0
        assert torch.equal(row_out[keep], row_in[keep])


def test_impulses_add_up_to_k_spikes_of_bounded_height():
    x = batch(b=32, length=512)
    out = add_impulses(x, 3, 1.0, gen())
    diff = (out - x)[:, 0]
    counts = (diff != 0).sum(-1)
    assert (counts >= 1).all() and (counts <= 3).all()
    heights = diff.abs() / x[:, 0].std(-1, keepdim=True)
    lo, hi = IMPULSE_AMPLITUDE
    assert ((heights[diff != 0] >= lo - 1e-4) & (heights[diff != 0] <= 2 * hi)).all()  # 2×: spikes may stack


def test_mixup_mixes_inputs_and_labels_with_the_same_weight():
    x = torch.arange(8, dtype=torch.float32)[:, None, None].expand(8, 1, 4).clone()
    y = torch.eye(8)
    xm, ym = mixup(x, y, 0.4, gen())
    a, b = mixup(x, y, 0.4, gen())
    assert torch.equal(xm, a) and torch.equal(ym, b)
    assert torch.allclose(ym.sum(-1), torch.ones(8))
    # the mixed input equals Σ_c y_c · x_c: labels and inputs used the same λ and partner
    assert torch.allclose(xm[:, 0, 0], ym @ torch.arange(8, dtype=torch.float32), atol=1e-5)
    assert mixup(x, y, 0.0, gen())[0] is x


def test_stage_at_picks_the_latest_started_stage():
    stages = [
        AugmentStage(start_epoch=5, noise_std=0.1),
        AugmentStage(start_epoch=1),
        AugmentStage(start_epoch=10, noise_std=0.3),
    ]
    assert stage_at(stages, 0) is None
    assert stage_at(stages, 4) is stages[1]
    assert stage_at(stages, 7) is stages[0]
    assert stage_at(stages, 99) is stages[2]
    assert stage_at([{"start_epoch": 0, "x": 1}], 3) == {"start_epoch": 0, "x": 1}
    aug = SignalAugment.of(AugmentStage(noise_std=0.1, shift=0.2, impulses=2, prob=0.7, flip=True))
    assert aug == SignalAugment(noise_std=0.1, shift=0.2, impulses=2, prob=0.7)
