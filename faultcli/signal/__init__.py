"""Spectral transforms and batched augmentations of vibration windows (torch, on the batch's device)."""

from faultcli.signal.augment import SignalAugment, augment_batch, mixup
from faultcli.signal.transforms import (
    cwt_scales,
    cwt_scalogram,
    envelope_spectrum,
    fft_logmag,
    order_spectrum,
    resample_to_orders,
    stft_spectrogram,
)

__all__ = [
    "SignalAugment",
    "augment_batch",
    "cwt_scalogram",
    "cwt_scales",
    "envelope_spectrum",
    "fft_logmag",
    "mixup",
    "order_spectrum",
    "resample_to_orders",
    "stft_spectrogram",
]
