"""Joint image / mask / edge augmentation: aligned, seeded, identity when off."""

import torch

from faultcli.config.schema import AugmentStage
from faultcli.vision.augment import ImageAugment, augment_images, augment_images_stage

GEOMETRY = {"flip": True, "rotate": 20.0, "resized_crop": 0.5, "prob": 0.8}


def blobs(b: int = 8, h: int = 64, w: int = 96, seed: int = 0) -> torch.Tensor:
    """Images of two smooth bright discs each (1 at the centre, falling linearly to 0 at twice the radius)."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    img = torch.zeros(b, 1, h, w)
    for _ in range(2):
        cy, cx = torch.rand(b, 1, 1, generator=g) * h, torch.rand(b, 1, 1, generator=g) * w
        r = 8 + 8 * torch.rand(b, 1, 1, generator=g)
        d = ((yy - cy) ** 2 + (xx - cx) ** 2).sqrt()
        img = torch.maximum(img, (1 - d / (2 * r)).clamp(min=0)[:, None])
    return img.repeat(1, 3, 1, 1)


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a & b).sum() / (a | b).sum()).item()


def test_mask_and_edge_stay_aligned_with_the_image():
    x = blobs()
    mask = (x[:, :1] > 0.5).to(torch.uint8)  # the mask is the image thresholded
    edge = x[:, :1] > 0.7  # and an edge-like map from another threshold
    ax, am, ae = augment_images(x, mask, edge.float(), **GEOMETRY, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(ax, x)
    assert am.dtype == torch.uint8 and set(am.unique().tolist()) <= {0, 1}
    assert iou(ax[:, :1] > 0.5, am.bool()) > 0.95
    assert iou(ax[:, :1] > 0.7, ae > 0.5) > 0.95


def test_flips_with_prob_one_mirror_exactly():
    x = torch.rand(2, 3, 10, 14)
    out, _, _ = augment_images(x, flip=True, prob=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, x.flip(-1, -2), atol=1e-6)


def test_prob_zero_or_nothing_on_is_identity():
    x, mask = blobs(b=4), torch.randint(0, 2, (4, 2, 64, 96), dtype=torch.uint8)
    for kwargs in ({**GEOMETRY, "brightness": 0.5, "prob": 0.0}, {}):
        ax, am, ae = augment_images(x, mask, None, **kwargs, generator=torch.Generator().manual_seed(0))
        assert torch.equal(ax, x) and torch.equal(am, mask) and ae is None


def test_same_seed_same_result():
    x = blobs(b=4)
    mask = (x[:, :1] > 0.5).float()
    runs = [
        augment_images(x, mask, **GEOMETRY, brightness=0.3, generator=torch.Generator().manual_seed(5))
        for _ in range(2)
    ]
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    other = augment_images(x, mask, **GEOMETRY, brightness=0.3, generator=torch.Generator().manual_seed(6))
    assert not torch.equal(runs[0][0], other[0])


def test_brightness_changes_images_only_and_keeps_mean_order():
    x = blobs(b=16)
    mask = (x[:, :1] > 0.5).float()
    ax, am, _ = augment_images(x, mask, brightness=0.3, prob=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(am, mask) and not torch.equal(ax, x)
    # contrast about the image mean: the image is an affine map of the original with slope 1 ± 0.3
    slope = (ax - ax.mean((1, 2, 3), keepdim=True)).std((1, 2, 3)) / x.std((1, 2, 3))
    assert ((slope > 0.69) & (slope < 1.31)).all()


def test_stage_wrapper_reads_the_recipe_fields():
    aug = ImageAugment.of(AugmentStage(flip=True, rotate=10.0, noise_std=0.2, prob=1.0))
    assert aug == ImageAugment(flip=True, rotate=10.0, prob=1.0)
    x = torch.rand(2, 1, 16, 16)
    out, mask, edge = augment_images_stage(x, None, None, aug, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and mask is None and edge is None


def test_rotation_is_in_pixel_units_on_non_square_images():
    """A centred disc stays round when rotated in a 40×120 image (no shear from normalised coordinates)."""
    h, w = 40, 120
    yy, xx = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    disc = (((yy - 19.5) ** 2 + (xx - 59.5) ** 2) < 15**2).float()[None, None].repeat(4, 1, 1, 1)
    out, _, _ = augment_images(disc, rotate=80.0, prob=1.0, generator=torch.Generator().manual_seed(0))
    mass = out.sum((1, 2, 3))
    var_y = (out[:, 0] * (yy - 19.5) ** 2).sum((1, 2)) / mass
    var_x = (out[:, 0] * (xx - 59.5) ** 2).sum((1, 2)) / mass
    assert torch.allclose(var_y, var_x, rtol=0.02) and torch.allclose(mass, disc.sum((1, 2, 3)), rtol=0.02)
