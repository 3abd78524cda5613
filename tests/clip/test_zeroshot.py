"""Zero-shot figures and calibrated stacking on hand-made score matrices."""

from __future__ import annotations

import numpy as np
import pytest

from faultcli.clip.zeroshot import stacked, stacking_gamma, zero_shot_figures

SEEN = [0, 1]  # class 2 is unseen


def test_gamma_moves_windows_from_seen_to_unseen_classes_as_expected():
    logits = np.array([[5.0, 1.0, 4.0], [1.0, 5.0, 2.0], [3.0, 0.0, 2.5], [0.0, 3.0, 2.9]])
    y = np.array([2, 1, 2, 2])
    assert stacked(logits, SEEN, 0.0).argmax(1).tolist() == [0, 1, 0, 1]
    # γ = 0.6 gives up margins below it: rows 2 (0.5) and 3 (0.1) go to the unseen class, row 0 (1.0) stays
    assert stacked(logits, SEEN, 0.6).argmax(1).tolist() == [0, 1, 2, 2]
    assert stacked(logits, SEEN, 1.5).argmax(1).tolist() == [2, 1, 2, 2]
    before, after = zero_shot_figures(logits, y, SEEN), zero_shot_figures(stacked(logits, SEEN, 1.5), y, SEEN)
    assert before["gzsl_unseen_accuracy"] == 0.0 and after["gzsl_unseen_accuracy"] == 1.0
    assert after["gzsl_seen_accuracy"] == 1.0 and after["zsl_accuracy"] == before["zsl_accuracy"] == 1.0


def seen_windows(rng: np.random.Generator, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 3.0
    return logits, y


def share_seen(logits: np.ndarray, y: np.ndarray, gamma: float) -> float:
    still_seen = stacked(logits, SEEN, gamma).argmax(1) != 2
    return float(np.mean([still_seen[y == c].mean() for c in SEEN]))


def test_gamma_is_the_largest_shift_that_keeps_the_asked_share_of_seen_windows_seen():
    logits, y = seen_windows(np.random.default_rng(0))
    margin = logits[:, :2].max(1) - logits[:, 2]
    for keep in (0.8, 0.9, 0.95, 1.0):
        gamma = stacking_gamma(logits, y, SEEN, keep)
        assert share_seen(logits, y, gamma) >= keep
        # up to the next window's margin, one window more is given up and the share falls below keep
        assert share_seen(logits, y, margin[margin > gamma].min() + 1e-9) < keep


def test_gamma_weighs_seen_classes_equally():
    # class 0 has 90 windows with large margins, class 1 ten with small ones: keeping 90 % class-balanced
    # must keep at least 80 % of class 1's windows, though 90 % of all windows could be class 0's alone
    y = np.array([0] * 90 + [1] * 10)
    logits = np.zeros((100, 3))
    logits[:90, 0] = 10.0
    logits[90:, 1] = np.linspace(0.1, 1.0, 10)
    gamma = stacking_gamma(logits, y, SEEN, 0.9)
    kept = stacked(logits, SEEN, gamma).argmax(1)[90:] != 2
    assert kept.mean() >= 0.8


def test_gamma_never_reads_unseen_windows_or_labels():
    rng = np.random.default_rng(1)
    logits, y = seen_windows(rng)
    unseen = rng.normal(size=(50, 4))
    seen4 = np.concatenate([logits, rng.normal(size=(200, 1))], axis=1)  # 4 classes, 2 and 3 unseen
    scores = np.concatenate([seen4, unseen])
    labels = np.concatenate([y, rng.integers(2, 4, 50)])
    reference = stacking_gamma(seen4, y, SEEN)
    assert stacking_gamma(scores, labels, SEEN) == reference
    scrambled = labels.copy()
    scrambled[200:] = rng.permutation(scrambled[200:]) ^ 1  # 2 <-> 3, shuffled
    assert stacking_gamma(scores, scrambled, SEEN) == reference
    unseen_scores = scores.copy()
    unseen_scores[200:] = rng.normal(size=(50, 4)) * 100
    assert stacking_gamma(unseen_scores, labels, SEEN) == reference


@pytest.mark.parametrize(
    ("seen", "y", "keep", "message"),
    [([0, 1, 2], [0, 1], 0.95, "unseen class"), ([0, 1], [2, 2], 0.95, "no window"), ([0, 1], [0, 1], 0.0, "keep")],
)
def test_gamma_bad_input(seen, y, keep, message):
    with pytest.raises(ValueError, match=message):
        stacking_gamma(np.zeros((2, 3)), np.array(y), seen, keep)


def test_best_h_gamma_picks_the_shift_of_the_highest_harmonic_mean():
    from faultcli.clip.zeroshot import best_h_gamma

    # classes 0, 1 pseudo-seen, 2 pseudo-unseen; the unseen windows' margins are 0.2 and 0.3, the seen ones' 0.5+
    scores = np.array([[0.9, 0.1, 0.4], [0.1, 0.8, 0.3], [0.5, 0.0, 0.3], [0.0, 0.6, 0.3], [0.2, 0.1, 0.5]])
    y = np.array([0, 1, 2, 2, 2])
    gamma, h = best_h_gamma(scores, y, [0, 1])
    assert 0.3 < gamma < 0.5 and h == 1.0  # every window right: between the unseen and the seen margins
    predicted = stacked(scores, [0, 1], gamma).argmax(1)
    assert predicted.tolist() == [0, 1, 2, 2, 2]


def test_pseudo_unseen_keeps_the_unseen_share_and_two_seen_classes():
    from faultcli.clip.zeroshot import pseudo_unseen

    seen = ["normal", "b7", "b21", "i7", "i14", "o14", "o21"]
    held = pseudo_unseen(seen, 3, 10, seed=0)
    assert len(held) == 2 and set(held) < set(seen) and held == pseudo_unseen(seen, 3, 10, seed=0)
    assert len(pseudo_unseen(["a", "b", "c"], 3, 6, seed=1)) == 1
    with pytest.raises(ValueError, match="none to hold out"):
        pseudo_unseen(["a", "b"], 1, 3, seed=0)
