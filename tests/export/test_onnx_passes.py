"""Graph rewrites of exported ONNX models give the same outputs on ONNX Runtime."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from faultcli.export.onnx_passes import conv1d_as_conv2d


def _conv_model(group: int, with_bias: bool) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(6, 6 // group, 5)).astype(np.float32)
    inits = [numpy_helper.from_array(weight, "w")]
    inputs = ["x", "w"]
    if with_bias:
        inits.append(numpy_helper.from_array(rng.normal(size=6).astype(np.float32), "b"))
        inputs.append("b")
    conv = helper.make_node(
        "Conv", inputs, ["y"], name="c", kernel_shape=[5], strides=[2], pads=[1, 3], dilations=[2], group=group
    )
    relu = helper.make_node("Relu", ["y"], ["z"])
    graph = helper.make_graph(
        [conv, relu],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 6, 40])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 6, 18])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize(("group", "with_bias"), [(1, True), (6, False), (2, True)])
def test_conv1d_as_conv2d_keeps_the_outputs(group, with_bias):
    model = _conv_model(group, with_bias)
    x = np.random.default_rng(1).normal(size=(3, 6, 40)).astype(np.float32)
    before = _run(model, x)
    assert conv1d_as_conv2d(model) == 1
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["Unsqueeze", "Conv", "Squeeze", "Relu"]
    assert "w" not in {i.name for i in model.graph.initializer}  # the 1-D weight is gone
    np.testing.assert_allclose(_run(model, x), before, rtol=1e-5, atol=1e-5)


def test_a_graph_without_1d_convolutions_is_left_alone():
    model = _conv_model(1, True)
    model.graph.node[0].op_type = "ConvTranspose"  # not a Conv: untouched
    text = model.SerializeToString()
    assert conv1d_as_conv2d(model) == 0 and model.SerializeToString() == text
