"""Run an exported ONNX graph with ONNX Runtime and numpy alone (no torch import)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faultcli.errors import CheckpointError


class OnnxRunner:
    """``run({name: array}) -> {output name: array}`` on the CPU execution provider."""

    runtime = "onnxruntime"

    def __init__(self, path: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: constant-folding notes are not the user's concern
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # a corrupt or foreign file
            first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
            raise CheckpointError(f"{path} is not a loadable ONNX model ({first}); re-run faultcli export") from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {name: np.ascontiguousarray(inputs[name], dtype=np.float32) for name in self.input_names}
        return dict(zip(self.output_names, self.session.run(self.output_names, feed), strict=True))
