#!/usr/bin/python3
"""Writes tests/fuzz/onnx_corpus: small ONNX models that clresnet must refuse, each
with the status and a piece of the message expected (README.md's table, read by
tests/model/test_onnx_import.c), also the seeds of the fuzz_onnx target. Built with
onnx.helper (Debian's python3-onnx); the few that onnx cannot write (bad wire
format, deep nesting) are written byte by byte. Run: /usr/bin/python3
tests/fuzz/make_onnx_corpus.py (rewrites the folder's files and README.md)."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "onnx_corpus")
ROWS = []


def tensor(name, shape, seed=0):
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return numpy_helper.from_array(values, name)


def image(name="image", channels=3):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", channels, "h", "w"])


def logits(name="logits"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", 10])


def model(nodes, initializers, inputs=None, outputs=None, opset=13):
    graph = helper.make_graph(nodes, "g", inputs or [image()], outputs or [logits()],
                              initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             producer_name="make_onnx_corpus")


def stem(conv_attrs=None, act="Relu", act_name="relu_0"):
    """Conv 7x7/2 -> activation -> GlobalAveragePool -> Flatten -> Gemm: a small
    classifier, no ResNet."""
    attrs = {"kernel_shape": [7, 7], "strides": [2, 2], "pads": [3, 3, 3, 3]}
    attrs.update(conv_attrs or {})
    nodes = [helper.make_node("Conv", ["image", "w0", "b0"], ["c0"], name="conv_0", **attrs),
             helper.make_node(act, ["c0"], ["a0"], name=act_name),
             helper.make_node("GlobalAveragePool", ["a0"], ["p0"], name="pool_0"),
             helper.make_node("Flatten", ["p0"], ["f0"], name="flatten_0", axis=1),
             helper.make_node("Gemm", ["f0", "fc_w", "fc_b"], ["logits"], name="fc", transB=1)]
    inits = [tensor("w0", (8, 3, 7, 7)), tensor("b0", (8,), 1), tensor("fc_w", (10, 8), 2),
             tensor("fc_b", (10,), 3)]
    return nodes, inits


def write(name, data, status, expect, why):
    if isinstance(data, onnx.ModelProto):
        data = data.SerializeToString()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    ROWS.append((name, status, expect, why))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.unlink(os.path.join(OUT, old))

    nodes, inits = stem()
    small = model(nodes, inits).SerializeToString()
    write("not-a-resnet.onnx", small, "MISMATCH", "not one of the torchvision ResNets",
          "a valid classifier of supported nodes (Conv, Relu, pooling, Gemm) that is no ResNet")
    write("truncated.onnx", small[: len(small) * 2 // 3], "INVALID_FORMAT", "not a valid ONNX model",
          "the classifier cut off at two thirds of its bytes")
    nodes, inits = stem(act="Sigmoid", act_name="act_sigmoid")
    write("unsupported-op.onnx", model(nodes, inits), "UNSUPPORTED", "'act_sigmoid' (Sigmoid)",
          "a Sigmoid node: the first unsupported node is named with its op type")
    nodes, inits = stem()
    nodes[1].domain = "com.example"
    write("custom-domain.onnx", model(nodes, inits), "UNSUPPORTED", "of domain com.example",
          "a Relu of another operator set's domain")
    write("opset-30.onnx", model(*stem(), opset=30), "UNSUPPORTED", "opset 30",
          "opset 30, past the opsets whose definitions are read here")
    nodes, inits = stem({"dilations": [2, 2]})
    write("dilated-conv.onnx", model(nodes, inits), "UNSUPPORTED", "dilation 2",
          "a dilated convolution")
    nodes, inits = stem({"strides": [2, 1]})
    write("uneven-stride.onnx", model(nodes, inits), "UNSUPPORTED", "'strides' differs",
          "strides that differ between height and width")
    nodes, inits = stem({"auto_pad": "SAME_UPPER"})
    del nodes[0].attribute[2]  # pads
    write("auto-pad.onnx", model(nodes, inits), "UNSUPPORTED", "auto_pad 'SAME_UPPER'",
          "auto_pad SAME_UPPER")
    nodes, inits = stem({"foo": 1})
    write("unknown-attribute.onnx", model(nodes, inits), "UNSUPPORTED", "attribute 'foo'",
          "a Conv attribute the op does not have")
    nodes, inits = stem()
    inits[0] = tensor("w0", (8, 3, 7))
    write("conv-weight-3d.onnx", model(nodes, inits), "UNSUPPORTED", "not [out, in, k, k]",
          "a 3-D convolution weight")
    nodes, inits = stem()
    nodes[0].input[0] = "ghost"
    write("undefined-input.onnx", model(nodes, inits), "INVALID_FORMAT", "reads 'ghost'",
          "a node reading a value nothing produces")
    nodes, inits = stem()
    nodes[2].output[0] = "c0"
    nodes[3].input[0] = "c0"
    write("defined-twice.onnx", model(nodes, inits), "INVALID_FORMAT", "defined twice",
          "two nodes producing one value")
    nodes, inits = stem()
    write("two-inputs.onnx", model(nodes, inits, inputs=[image(), image("extra")]),
          "UNSUPPORTED", "more than one input", "a second graph input")
    write("four-channels.onnx", model(*stem(), inputs=[image(channels=4)]), "UNSUPPORTED",
          "not an [N, 3, H, W] image batch", "an input of 4 channels")
    nodes, inits = stem()
    nodes[4].output[0] = "other"
    nodes.append(helper.make_node("Relu", ["other"], ["logits_relu"], name="extra"))
    write("two-outputs.onnx", model(nodes, inits, outputs=[logits("other"), logits("logits_relu")]),
          "UNSUPPORTED", "2 outputs", "two graph outputs")
    nodes, inits = stem()
    nodes[4] = helper.make_node("Gemm", ["f0", "fc_w", "fc_b"], ["logits"], name="fc", transA=1)
    write("gemm-trans-a.onnx", model(nodes, inits), "UNSUPPORTED", "transA 0",
          "Gemm with transA 1")
    nodes, inits = stem()
    nodes[3] = helper.make_node("Reshape", ["p0", "shape"], ["f0"], name="reshape_0")
    inits.append(numpy_helper.from_array(np.array([1, 2, 4], np.int64), "shape"))
    write("reshape-3d.onnx", model(nodes, inits), "UNSUPPORTED", "[batch, features]",
          "a Reshape to three dimensions")
    nodes, inits = stem()
    nodes[1] = helper.make_node("Relu", ["b0"], ["a0"], name="relu_0")
    write("constant-operand.onnx", model(nodes, inits), "UNSUPPORTED", "is a constant",
          "a Relu of an initializer")
    nodes, inits = stem()
    nodes[1] = helper.make_node("BatchNormalization", ["c0", "s", "bb", "m", "v"], ["a0"],
                                name="bn_0", training_mode=1)
    inits += [tensor(n, (8,), i) for i, n in enumerate(["s", "bb", "m", "v"])]
    write("training-batchnorm.onnx", model(nodes, inits, opset=15), "UNSUPPORTED",
          "only inference mode", "a BatchNormalization in training mode")
    nodes, inits = stem()
    nodes[1] = helper.make_node("MaxPool", ["c0"], ["a0"], name="pool_max", kernel_shape=[3, 3],
                                strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    write("maxpool-ceil.onnx", model(nodes, inits), "UNSUPPORTED", "ceil_mode",
          "a MaxPool with ceil_mode 1")
    nodes, inits = stem()
    nodes[4].output[0] = "unused"
    write("output-not-computed.onnx", model(nodes, inits, outputs=[logits("image")]),
          "INVALID_FORMAT", "not computed by its nodes", "the graph output is its input")

    # A real ResNet-18 graph (torch.onnx, BatchNorm folded) with the initializers'
    # data left out: it binds (names and shapes are right), and reading fails.
    import io

    import torch
    import torchvision
    buffer = io.BytesIO()
    torch.onnx.export(torchvision.models.resnet18().eval(), torch.randn(1, 3, 64, 64), buffer,
                      opset_version=13, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}})
    resnet = onnx.load_from_string(buffer.getvalue())
    for init in resnet.graph.initializer:
        init.ClearField("raw_data")
    write("resnet18-no-data.onnx", resnet, "INVALID_FORMAT", "stores 0 values",
          "torchvision's resnet18 exported by torch.onnx, initializer data removed")

    no_graph = onnx.ModelProto(ir_version=8, producer_name="x")
    no_graph.opset_import.add(domain="", version=13)
    write("no-graph.onnx", no_graph, "INVALID_FORMAT", "has no graph", "a model without a graph")
    # Wire-format cases, written by hand.
    head = b"\x08\x08" + field(2, b"hand")  # ir_version 8, producer_name
    write("bad-wire-type.onnx", head + b"\x3b\x00", "INVALID_FORMAT", "not a valid ONNX model",
          "a field of the deprecated group wire type")
    write("length-past-end.onnx", head + b"\x3a\xff\xff\x03", "INVALID_FORMAT",
          "not a valid ONNX model", "a graph whose length runs past the end of the file")
    # graph -> node -> attribute(g) -> graph -> ... 40 levels deep.
    inner = b""
    for _ in range(40):
        inner = field(1, field(5, field(6, inner)))  # graph.node -> node.attribute -> attr.g
    write("deep-nesting.onnx", head + field(7, inner), "INVALID_FORMAT", "nested more than",
          "graphs nested 40 deep through node attributes")

    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("# Malformed and unsupported ONNX models\n\n"
                "Seeds for fuzz_onnx and the cases of test_onnx_import, which opens each\n"
                "file as weights (clrn_weights_open: read, decode, match onto a ResNet),\n"
                "reads every tensor as the plan does, and expects the status below and a\n"
                "message that names the file and holds the text given. Written by\n"
                "../make_onnx_corpus.py.\n\n"
                "| file | status | message holds | what is wrong |\n|---|---|---|---|\n")
        for name, status, expect, why in ROWS:
            f.write(f"| {name} | {status} | `{expect}` | {why} |\n")


if __name__ == "__main__":
    main()
