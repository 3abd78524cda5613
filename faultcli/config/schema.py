"""Typed recipe schema. Each field carries its help text and its allowed values or range.

Modules never see these objects: builders in the service layer turn them into flat arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faultcli.config.clip import ClipConfig
from faultcli.config.fields import moved, opt
from faultcli.config.transfer import AdaptConfig, PretrainConfig


@dataclass
class DataConfig:
    root: str = opt("", "folder (or file) holding the raw data; every recipe names its data here")
    format: str = opt(
        "auto",
        "reader: auto picks by extension",
        choices=("auto", "mat", "csv", "xlsx", "npy", "images", "masks", "voc"),
    )
    include: list[str] = opt(
        list, "glob patterns (relative to root) of files to read; empty = all readable", factory=True
    )
    exclude: list[str] = opt(list, "glob patterns of files to skip", factory=True)
    # labels
    label_from: str = opt(
        "folder", "where a file's class comes from", choices=("folder", "regex", "prefix", "csv", "mask")
    )
    label_regex: str = opt("", "regex with a named group 'label' (and optionally other metadata groups)")
    label_map: dict[str, str] = opt(dict, "raw label → class name (e.g. B007 = 'ball_007')", factory=True)
    classes: list[str] = opt(list, "class names in output order; empty = sorted labels found", factory=True)
    allow_missing_classes: bool = opt(
        False,
        "classes in data.classes may have no files (eval on a folder holding only some classes); set by faultcli eval",
    )
    labels_csv: str = opt("", "CSV of labels (columns file,label[,value]) when label_from = 'csv'")
    label_priority: list[str] = opt(list, "when one image carries several labels: the first listed wins", factory=True)
    # vibration
    channel: str = opt(
        "DE", "vibration channel in .mat files: DE (drive end), FE (fan end), BA (base)", choices=("DE", "FE", "BA")
    )
    csv_layout: str = opt(
        "auto", "CSV holding one sample per column, or one long signal per file", choices=("auto", "columns", "signal")
    )
    sample_rate: int = opt(12000, "rate (Hz) the dataset is built at; other recordings are resampled", min=1)
    source_rate: int = opt(0, "rate (Hz) of recordings that say nothing else; 0 = same as sample_rate", min=0)
    rate_patterns: dict[str, int] = opt(
        dict, "path regex → sampling rate (e.g. '12k' = 12000, 'normal' = 48000)", factory=True
    )
    speed_regex: str = opt(
        "",
        "regex searched in each file name (labelled or not) whose named group 'rpm' (rev/min) or 'shaft_hz' (Hz) "
        "is the recording's shaft speed when the file states none; a file it gives no positive speed is an error",
    )
    order_rpm: float = opt(
        0.0,
        "angular resampling: resample each recording in time so that a shaft revolution spans as many samples "
        "as at this speed (rev/min), from its rpm (stated by the file or data.speed_regex; none is an error); set it "
        "to the slowest speed in the data, so every window is filled; 0 = off",
        min=0.0,
    )
    preprocess: list[dict[str, Any]] = opt(
        list,
        "steps applied to each recording after resampling, in order, identically in training, eval, predict and "
        "export: {kind = 'bandpass', low, high, order}, {kind = 'med', filter_length, iterations}, "
        "{kind = 'vmd', n_modes, alpha, keep or weights}",
        factory=True,
    )
    window: int = opt(1024, "samples per window", min=16)
    step: int = opt(512, "samples between window starts", min=1)
    # splits
    split: str = opt(
        "recording-time",
        "how samples are split into train / val / test",
        choices=("recording-time", "by-file", "by-condition", "by-path", "kfold", "stratified"),
    )
    split_paths: dict[str, str] = opt(
        dict,
        "by-path: split → glob of files (relative to root) that a data set ships as its own split, e.g. "
        "{train = 'train_set/*', test = 'test_set/*'}; without a val pattern, val is cut by time from train files",
        factory=True,
    )
    fractions: list[float] = opt(lambda: [0.7, 0.15, 0.15], "train / val / test fractions", factory=True)
    condition: str = opt("load", "metadata column that by-condition splits on")
    train_conditions: list[str] = opt(list, "condition values for training (by-condition)", factory=True)
    test_conditions: list[str] = opt(list, "condition values for testing (by-condition)", factory=True)
    folds: int = opt(
        5, "number of folds (kfold): run k tests on fold k, selects on fold k+1, trains on the rest", min=3, max=20
    )
    fold: int = opt(-1, "run only this fold (0-based); -1 = every fold", min=-1)
    seed: int = opt(0, "seed for splits", min=0, max=2**31 - 1)
    label_fraction: float = opt(
        1.0,
        "classification: share of the train split's samples whose labels training uses, drawn per class with "
        "data.seed (label scarcity; the same subset for every model); 1 = all",
        min=0.0001,
        max=1.0,
    )
    # images
    image_size: list[int] = opt(list, "[height, width] images are resized to; empty = keep", factory=True)
    color: str = opt("auto", "channels images are converted to", choices=("auto", "gray", "rgb"))
    allow_corrupt: bool = opt(False, "skip images that fail to decode (listed) instead of stopping")
    mask_dir: str = opt("masks", "folder of masks (relative to root) for segmentation data")
    image_dir: str = opt("images", "folder of images (relative to root) for segmentation data")
    rle_csv: str = opt("", "CSV of ImageId,ClassId,EncodedPixels run-length masks (Severstal format)")
    crops: dict[str, str] = opt(dict, "class → crop rule ('center:0.6', 'left:0.5', '*' for the rest)", factory=True)
    edges: bool = opt(False, "compute CLAHE + Canny edge maps per image (cached)")
    edge_sigma: float = opt(0.33, "Canny thresholds at (1 ± sigma) × image median", min=0.0, max=1.0)
    cache_dir: str = opt("", "where prepared datasets are cached; empty = $FAULTCLI_CACHE or ~/.cache/faultcli")


@dataclass
class ModelConfig:
    name: str = opt("multimodal_small", "registered model name (faultcli list models shows them)", registry="model")
    pretrained: bool = opt(False, "load pretrained weights (weights_path, else the hub when online)")
    weights_path: str = opt("", "local weights file for the backbone / encoder")


@dataclass
class VibrationConfig:
    """Settings of task vibration-classification: the vibration model's builder arguments and the
    training tricks only this task has."""

    branches: list[str] = moved(
        lambda: ["time", "fft", "tf"],
        "branches of the multimodal model",
        "model.branches",
        registry="branch",
        factory=True,
    )
    fusion: str = moved("hierarchical", "how branch features are fused", "model.fusion", registry="fusion")
    tf_transform: str = moved(
        "stft", "time–frequency image of the tf branch", "model.tf_transform", choices=("stft", "cwt")
    )
    order_normalize: bool = moved(
        False, "spectra in orders of shaft speed (needs the recording's RPM)", "model.order_normalize"
    )
    nominal_rpm: float = moved(
        1797.0, "shaft speed assumed when a window's RPM is unknown (order normalisation)", "model.nominal_rpm", min=1.0
    )
    window_norm: bool = moved(
        False,
        "standardise each window by its own mean and std at the model's input (load-invariant amplitude)",
        "model.window_norm",
    )
    n_bands: int = moved(
        64, "equal-width frequency bands of the band spectrum (bands branch, band_linear)", "model.n_bands", min=4
    )
    wide_bands: int = moved(
        0,
        "multimodal: a linear read-out of this many band shares beside the deep head (0 = off)",
        "model.wide_bands",
        min=0,
    )
    wide_clean: bool = moved(
        False,
        "train the wide read-out on the batch before augmentation and mixup, by plain cross-entropy",
        "model.wide_clean",
    )
    branch_dropout: float = moved(
        0.0,
        "training only: chance of zeroing each branch's features per sample (one branch always kept)",
        "model.branch_dropout",
        min=0.0,
        max=0.9,
    )
    dropout: float = moved(0.3, "dropout before the classifier", "model.dropout", min=0.0, max=0.9)
    feature_dim: int = moved(128, "width of the fused feature", "model.feature_dim", min=8)
    arcface_margin: float = moved(
        0.3, "ArcFace additive angular margin m (radians)", "model.arcface_margin", min=0.0, max=1.5
    )
    arcface_scale: float = moved(30.0, "ArcFace scale s", "model.arcface_scale", min=1.0)
    arcface_weight: list[list[float]] = moved(
        list, "ArcFace loss weight by epoch: [[start_epoch, weight], ...]", "train.arcface_weight", factory=True
    )
    mixup_alpha: float = moved(0.0, "mixup Beta(α, α); 0 = off", "train.mixup_alpha", min=0.0)
    mixup_prob: float = moved(0.5, "share of batches that are mixed", "train.mixup_prob", min=0.0, max=1.0)


@dataclass
class ImageConfig:
    """Settings of task image-classification."""

    backbone: str = moved("resnet18", "timm backbone", "model.backbone")
    edge_branch: bool = moved(True, "add the edge-map branch", "model.edge_branch")
    edge_fusion: str = moved("gate", "how edge features join the backbone", "model.edge_fusion", registry="edge_fusion")
    dropout: float = moved(0.3, "dropout before the classifier", "model.dropout", min=0.0, max=0.9)
    feature_dim: int = moved(128, "width of the fused feature", "model.feature_dim", min=8)
    freeze_backbone_epochs: int = moved(
        0, "epochs with the backbone frozen (fixed switch)", "train.freeze_backbone_epochs", min=0
    )
    unfreeze_threshold: float = moved(
        0.0,
        "switch to full finetuning when the val metric gains less than this over unfreeze_window epochs; "
        "0 = fixed switch only",
        "train.unfreeze_threshold",
        min=0.0,
    )
    unfreeze_window: int = moved(3, "epochs the unfreeze rule looks back over", "train.unfreeze_window", min=1)
    mixup_alpha: float = moved(0.0, "mixup Beta(α, α); 0 = off", "train.mixup_alpha", min=0.0)
    mixup_prob: float = moved(0.5, "share of batches that are mixed", "train.mixup_prob", min=0.0, max=1.0)
    tta_flip: bool = moved(
        False, "evaluation: average each prediction with its horizontally flipped image's", "eval.tta_flip"
    )


@dataclass
class SegmentationConfig:
    """Settings of task segmentation."""

    arch: str = moved(
        "PAN", "smp architecture", "model.arch", choices=("PAN", "Unet", "UnetPlusPlus", "FPN", "DeepLabV3Plus")
    )
    encoder: str = moved("efficientnet-b3", "smp encoder name", "model.encoder")
    dice_weight: float = moved(0.8, "λ in BCE + λ·Dice", "train.dice_weight", min=0.0)
    tile_overlap: float = moved(
        0.25, "overlap of tiles for images larger than training size", "eval.tile_overlap", min=0.0, max=0.9
    )
    tta_flip: bool = moved(
        False, "evaluation: average each mask with its horizontally flipped image's", "eval.tta_flip"
    )


@dataclass
class TrainConfig:
    epochs: int = opt(30, "maximum epochs", min=1)
    batch_size: int = opt(64, "samples per batch and process (under torchrun each process takes this many)", min=1)
    accumulate: int = opt(
        1,
        "batches whose gradients add up before each optimiser step (effective batch = batch × processes × this)",
        min=1,
    )
    sync_batchnorm: bool = opt(
        False, "under torchrun, BatchNorm statistics over every process's batch (SyncBatchNorm) instead of each one's"
    )
    lr: float = opt(1e-3, "peak learning rate (AdamW)", min=0.0)
    init: str = opt("", "start from the weights of this run folder or .pt file (those whose names and shapes match)")
    freeze_epochs: int = opt(
        0,
        "epochs with every parameter outside the classifier head frozen (a linear probe, e.g. of a pretrained "
        "encoder), then all train at lr × train.lr_scale; 0 = off",
        min=0,
    )
    lr_scale: dict[str, float] = opt(
        dict,
        "learning-rate multipliers by parameter-name prefix (e.g. {backbone = 0.1}: a pretrained encoder "
        "slower than a new head; 0 freezes it)",
        factory=True,
    )
    weight_decay: float = opt(1e-4, "AdamW weight decay", min=0.0)
    scheduler: str = opt("cosine", "learning-rate schedule", choices=("cosine", "plateau", "constant"))
    warmup_epochs: int = opt(1, "linear warm-up epochs before cosine", min=0)
    plateau_factor: float = opt(0.5, "ReduceLROnPlateau factor", min=0.0, max=1.0)
    plateau_patience: int = opt(3, "ReduceLROnPlateau patience (epochs)", min=0)
    loss: str = opt("focal", "loss (classification: focal, ce; segmentation: bce_dice)", registry="loss")
    focal_gamma: float = opt(2.0, "focal loss γ", min=0.0)
    class_balance_beta: float = opt(
        0.999, "per-class α from the effective number of samples (0 = no α)", min=0.0, max=0.99999
    )
    label_smoothing: float = opt(0.05, "label smoothing", min=0.0, max=0.5)
    grad_clip: float = opt(5.0, "max gradient norm; 0 = off", min=0.0)
    amp: bool = opt(True, "mixed precision where the device supports it (CUDA)")
    channels_last: bool = opt(
        False, "keep 2-D convolution weights channels-last (NHWC): about 1.3× faster image training on CPU"
    )
    ema_epochs: float = opt(
        0.0,
        "validate and keep an exponential moving average of the weights over about this many epochs; 0 = off",
        min=0.0,
    )
    early_stop_metric: str = opt("val_macro_f1", "validation metric for model selection and early stopping")
    early_stop_mode: str = opt("max", "whether the metric should rise or fall", choices=("max", "min"))
    tie_break_metric: str = opt(
        "val_loss", "on an exact tie of early_stop_metric (e.g. val F1 at 1.0), this decides; '' = off"
    )
    tie_break_mode: str = opt(
        "min", "whether the lower or higher tie_break_metric wins (epoch + max: the latest)", choices=("min", "max")
    )
    patience: int = opt(8, "epochs without improvement before stopping; 0 = never", min=0)
    balanced_sampler: bool = opt(False, "draw batches class-balanced")
    device: str = opt("auto", "auto, cpu or cuda")
    threads: int = opt(0, "torch CPU threads; 0 = all cores", min=0)
    tensorboard: bool = opt(False, "also log to TensorBoard in the run folder")
    max_train_batches: int = opt(0, "cap on batches per epoch (quick runs); 0 = all", min=0)


@dataclass
class AugmentStage:
    start_epoch: int = opt(0, "first epoch of this stage", min=0)
    noise_std: float = opt(0.0, "Gaussian noise, std relative to the window's std", min=0.0)
    shift: float = opt(0.0, "max circular time shift (fraction of the window)", min=0.0, max=1.0)
    scale: float = opt(0.0, "amplitude scaling ±", min=0.0, max=1.0)
    warp: float = opt(0.0, "time warping: max speed change ±", min=0.0, max=0.5)
    mask: float = opt(0.0, "random masking: max masked fraction", min=0.0, max=0.9)
    impulses: int = opt(0, "max added impulses", min=0)
    eq_db: float = opt(
        0.0,
        "random equaliser: smooth random gain over frequency within ± this many dB (another load or path)",
        min=0.0,
        max=40.0,
    )
    prob: float = opt(0.5, "probability each augmentation is applied to a sample", min=0.0, max=1.0)
    # images
    flip: bool = opt(False, "random horizontal and vertical flips")
    rotate: float = opt(0.0, "max rotation (degrees)", min=0.0, max=180.0)
    brightness: float = opt(0.0, "brightness / contrast jitter ±", min=0.0, max=1.0)
    resized_crop: float = opt(0.0, "random resized crop: min area kept (0 = off)", min=0.0, max=1.0)


@dataclass
class EvalConfig:
    tsne_max_points: int = opt(2000, "points in the t-SNE plot", min=10)
    calibration_bins: int = opt(15, "bins of the reliability diagram and ECE", min=2)
    calibrate: bool = opt(
        True,
        "after training, fit a softmax temperature on the validation split; probabilities, ECE and AUROC use "
        "it, predicted classes do not change",
    )
    batch_size: int = opt(256, "samples per batch at evaluation", min=1)


@dataclass
class Config:
    task: str = opt("vibration-classification", "what the recipe trains", registry="task")
    name: str = opt("", "run name; default: the recipe's file name")
    seed: int = opt(0, "seed for weights, batches and augmentation", min=0, max=2**31 - 1)
    data: DataConfig = opt(DataConfig, "data section", factory=True)
    model: ModelConfig = opt(
        ModelConfig, "model section: which registered network, and its initial weights", factory=True
    )
    vibration: VibrationConfig = opt(
        VibrationConfig, "task vibration-classification: its model and training settings", factory=True
    )
    image: ImageConfig = opt(ImageConfig, "task image-classification: its model and training settings", factory=True)
    segmentation: SegmentationConfig = opt(
        SegmentationConfig, "task segmentation: its model, loss and inference settings", factory=True
    )
    clip: ClipConfig = opt(ClipConfig, "task clip: text encoder, prompts, zero-shot classes, adapters", factory=True)
    pretrain: PretrainConfig = opt(PretrainConfig, "faultcli pretrain: the self-supervised objective", factory=True)
    adapt: AdaptConfig = opt(AdaptConfig, "domain adaptation to unlabelled target recordings", factory=True)
    train: TrainConfig = opt(TrainConfig, "training section", factory=True)
    augment: list[AugmentStage] = opt(list, "augmentation stages by epoch ([[augment]] tables)", factory=True)
    eval: EvalConfig = opt(EvalConfig, "evaluation section", factory=True)


# the section a task reads its own settings from; a recipe may set only its task's section
TASK_SECTIONS = {
    "vibration-classification": ("vibration", "pretrain", "adapt"),
    "image-classification": ("image",),
    "segmentation": ("segmentation",),
    "clip": ("vibration", "clip"),
}
