"""Rewrites of an exported ONNX graph that keep its outputs and make it faster on ONNX Runtime's CPU kernels.

``stft_as_conv``: ONNX Runtime computes an STFT frame by frame, about a fifth of the ``small`` model's
time; the same numbers come from one strided convolution whose kernels are the window times the DFT's
cosine and sine rows (MLAS runs it as a matrix product).

``sequences_as_split``: torch exports ``split_with_sizes`` as SplitToSequence + SequenceAt; one Split
node computes the same, without sequence values (which also break ONNX Runtime's int8 calibration).

``conv1d_as_conv2d``: ONNX Runtime's blocked-layout (NCHWc) convolutions, its fastest on AVX-512, serve 2-D
convolutions only; each 1-D convolution becomes the same 2-D one over a height of 1 (Unsqueeze, Conv with a
1 × k kernel, Squeeze), which ran the ``small`` model about 1.2× faster.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


class _Constants:
    """Values of graph tensors that depend on no graph input, computed with ONNX's reference evaluator."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.init = {i.name: i for i in model.graph.initializer}
        self.producer = {out: node for node in model.graph.node for out in node.output}

    def _ancestors(self, name: str, seen: dict[str, onnx.NodeProto]) -> bool:
        """Collect the nodes computing ``name`` into ``seen``; False when a graph input feeds it."""
        if name in self.init or name == "" or any(n is self.producer.get(name) for n in seen.values()):
            return True
        node = self.producer.get(name)
        if node is None:
            return False  # a graph input
        seen[node.output[0]] = node
        # CastLike reads only the dtype of its second input (the graph is float32 throughout)
        inputs = node.input[:1] if node.op_type == "CastLike" else node.input
        return all(self._ancestors(inp, seen) for inp in inputs)

    def value(self, name: str) -> np.ndarray | None:
        from onnx.reference import ReferenceEvaluator

        if name in self.init:
            return numpy_helper.to_array(self.init[name])
        seen: dict[str, onnx.NodeProto] = {}
        if not self._ancestors(name, seen):
            return None
        order = [  # graph order is topological
            helper.make_node("Cast", n.input[:1], n.output, to=onnx.TensorProto.FLOAT) if n.op_type == "CastLike" else n
            for n in self.model.graph.node
            if n.output[0] in seen
        ]
        inits = [i for i in self.model.graph.initializer if any(i.name in n.input for n in order)]
        out = helper.make_tensor_value_info(name, onnx.TensorProto.UNDEFINED, None)
        sub = helper.make_model(
            helper.make_graph(order, "constant", [], [out], initializer=inits), opset_imports=self.model.opset_import
        )
        return np.asarray(ReferenceEvaluator(sub).run(None, {})[0])


def _stft_kernels(window: np.ndarray, n_fft: int) -> np.ndarray:
    """(2K, 1, n_fft) float32: window · cos rows, then −window · sin rows, K = n_fft // 2 + 1 (onesided)."""
    k = np.arange(n_fft // 2 + 1)[:, None]
    n = np.arange(n_fft)[None, :]
    angle = 2 * np.pi * k * n / n_fft
    real, imag = window * np.cos(angle), -window * np.sin(angle)
    return np.concatenate([real, imag])[:, None, :].astype(np.float32)


def _magnitude_chain(graph: onnx.GraphProto, consts: _Constants, out: str) -> list[onnx.NodeProto]:
    """[Transpose, ReduceL2] when the STFT's only use is its magnitude (B, K, frames), as torch exports
    ``stft(...).abs()``: Transpose to (B, K, frames, 2), then the L2 norm of the last axis."""
    users = {name: [n for n in graph.node if name in n.input] for name in (out,)}
    first = users[out]
    if len(first) != 1 or first[0].op_type != "Transpose":
        return []
    perm = [helper.get_attribute_value(a) for a in first[0].attribute if a.name == "perm"]
    second = [n for n in graph.node if first[0].output[0] in n.input]
    if perm != [[0, 2, 1, 3]] or len(second) != 1 or second[0].op_type != "ReduceL2":
        return []
    attrs = {a.name: helper.get_attribute_value(a) for a in second[0].attribute}
    axes = consts.value(second[0].input[1]) if len(second[0].input) > 1 else attrs.get("axes")
    outputs = {o.name for o in graph.output}
    if attrs.get("keepdims", 1) != 0 or axes is None or [int(a) for a in np.ravel(axes)] not in ([-1], [3]):
        return []
    if outputs & {out, first[0].output[0]}:
        return []
    return [first[0], second[0]]


def stft_as_conv(model: onnx.ModelProto) -> int:
    """Replace each onesided STFT with constant step, window and length by a strided Conv.

    STFT: signal (B, L, 1) → (B, frames, K, 2). Conv: (B, 1, L) → (B, 2K, frames), reshaped to
    (B, 2, K, frames); then transposed to the STFT's layout, or, when only the magnitude is used (the
    Transpose + ReduceL2 torch exports for ``.abs()``), reduced over the real / imaginary axis directly.
    Returns how many STFT nodes were replaced.
    """
    graph = model.graph
    consts = _Constants(model)
    replaced, nodes, dropped = 0, [], set()
    for node in graph.node:
        if id(node) in dropped:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "STFT" or attrs.get("onesided", 1) != 1 or len(node.input) < 4:
            nodes.append(node)
            continue
        step, window, length = (consts.value(name) for name in node.input[1:4])
        if step is None or window is None or length is None or window.ndim != 1:
            nodes.append(node)
            continue
        n_fft, hop, name = int(length), int(step), node.name or f"stft{replaced}"
        bins = n_fft // 2 + 1
        kernel = numpy_helper.from_array(_stft_kernels(window.astype(np.float64), n_fft), f"{name}_dft_kernels")
        shape = numpy_helper.from_array(np.array([0, 2, bins, -1], dtype=np.int64), f"{name}_shape")
        graph.initializer.extend([kernel, shape])
        signal, out = node.input[0], node.output[0]
        nodes += [
            helper.make_node("Transpose", [signal], [f"{name}_ncl"], perm=[0, 2, 1], name=f"{name}_to_ncl"),
            helper.make_node(
                "Conv", [f"{name}_ncl", kernel.name], [f"{name}_conv"], strides=[hop], name=f"{name}_as_conv"
            ),
            helper.make_node("Reshape", [f"{name}_conv", shape.name], [f"{name}_parts"], name=f"{name}_split"),
        ]
        chain = _magnitude_chain(graph, consts, out)
        if chain:
            axis = numpy_helper.from_array(np.array([1], dtype=np.int64), f"{name}_complex_axis")
            graph.initializer.append(axis)
            magnitude = chain[-1].output[0]
            nodes.append(
                helper.make_node(
                    "ReduceL2", [f"{name}_parts", axis.name], [magnitude], keepdims=0, name=f"{name}_magnitude"
                )
            )
            dropped.update(id(n) for n in chain)
        else:
            nodes.append(
                helper.make_node("Transpose", [f"{name}_parts"], [out], perm=[0, 3, 2, 1], name=f"{name}_to_stft")
            )
        replaced += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return replaced


def sequences_as_split(model: onnx.ModelProto) -> int:
    """Replace SplitToSequence (constant sizes) read only by SequenceAt (constant positions) with one Split."""
    graph = model.graph
    consts = _Constants(model)
    users: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    outputs = {o.name for o in graph.output}
    replace: dict[int, onnx.NodeProto] = {}
    dropped: set[int] = set()
    for node in graph.node:
        if node.op_type != "SplitToSequence" or len(node.input) < 2 or node.output[0] in outputs:
            continue
        sizes = consts.value(node.input[1])
        readers = users.get(node.output[0], [])
        if sizes is None or sizes.ndim != 1 or not readers or any(r.op_type != "SequenceAt" for r in readers):
            continue
        positions = [consts.value(r.input[1]) for r in readers]
        if any(p is None for p in positions):
            continue
        count = len(sizes)
        names = [f"{node.name}_part{i}" for i in range(count)]
        for reader, position in zip(readers, positions, strict=True):
            names[int(position) % count] = reader.output[0]
            dropped.add(id(reader))
        axis = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), 0)
        replace[id(node)] = helper.make_node("Split", [node.input[0], node.input[1]], names, axis=axis, name=node.name)
    if not replace:
        return 0
    nodes = [replace.get(id(n), n) for n in graph.node if id(n) not in dropped]
    del graph.node[:]
    graph.node.extend(nodes)
    return len(replace)


def conv1d_as_conv2d(model: onnx.ModelProto) -> int:
    """Replace each Conv with a constant 3-D weight (a 1-D convolution) by Unsqueeze → 2-D Conv → Squeeze."""
    graph = model.graph
    consts = _Constants(model)
    axis = numpy_helper.from_array(np.array([2], dtype=np.int64), "conv1d_height_axis")
    nodes, replaced, old_weights = [], 0, set()
    for node in graph.node:
        weight = consts.value(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
        if weight is None or weight.ndim != 3:
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        as_2d = {  # every 1-D attribute gains a leading height entry of 1 (pads: begin, end per axis)
            "kernel_shape": lambda v: [1, *v],
            "strides": lambda v: [1, *v],
            "dilations": lambda v: [1, *v],
            "pads": lambda v: [0, v[0], 0, v[1]],
        }
        attrs = {k: as_2d[k](v) if k in as_2d else v for k, v in attrs.items()}
        name = node.name or f"conv1d_{replaced}"
        kernel = numpy_helper.from_array(weight[:, :, None, :].astype(np.float32), f"{name}_kernel_2d")
        graph.initializer.append(kernel)
        old_weights.add(node.input[1])
        x4, y4 = f"{name}_x_2d", f"{name}_y_2d"
        nodes += [
            helper.make_node("Unsqueeze", [node.input[0], axis.name], [x4], name=f"{name}_to_2d"),
            helper.make_node("Conv", [x4, kernel.name, *node.input[2:]], [y4], name=name, **attrs),
            helper.make_node("Squeeze", [y4, axis.name], [node.output[0]], name=f"{name}_to_1d"),
        ]
        replaced += 1
    if not replaced:
        return 0
    graph.initializer.append(axis)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for n in graph.node for name in n.input}
    keep = [i for i in graph.initializer if i.name not in old_weights or i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    return replaced


def optimize_file(path: Path) -> dict[str, int]:
    """Apply the rewrites to an ONNX file in place; returns what each rewrite changed."""
    model = onnx.load(str(path))
    done = {
        "stft_as_conv": stft_as_conv(model),
        "sequences_as_split": sequences_as_split(model),
        "conv1d_as_conv2d": conv1d_as_conv2d(model),
    }
    if any(done.values()):
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    return done
