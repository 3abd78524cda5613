"""Static int8 quantization of an ONNX export (ONNX Runtime, QDQ format), calibrated on training samples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from faultcli.export.graph import ExportError

CALIBRATION_SAMPLES = 256


class _Reader:
    """ONNX Runtime's CalibrationDataReader over a fixed list of input dicts."""

    def __init__(self, batches: list[dict[str, np.ndarray]]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def quantize_int8(fp32: Path, out: Path, calibration: list[dict[str, np.ndarray]]) -> None:
    """Write ``out``: weights int8 per channel, activations uint8 with ranges from ``calibration``."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = out.with_name(out.stem + ".pre.onnx")
    try:
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            _Reader(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            calibrate_method=CalibrationMethod.MinMax,
            # the spectral front end (DFT, STFT, log) keeps float: its dynamic range is what the model reads
            op_types_to_quantize=["Conv", "MatMul", "Gemm"],
        )
    except Exception as err:
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise ExportError(f"int8 quantization failed ({first}); export without --quantize") from None
    finally:
        prepared.unlink(missing_ok=True)
