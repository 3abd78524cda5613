"""Exported models: ONNX / TorchScript graphs with a sidecar JSON, their parity check, and the runners and
numpy preprocessing ``faultcli predict`` uses.

``sidecar``, ``preprocess`` and ``onnx_runner`` import no torch: with an ONNX export, prediction needs
numpy, OpenCV and onnxruntime only. ``checkpoint`` is the one module that reaches into faultcli's
checkpoint and model loaders.
"""
