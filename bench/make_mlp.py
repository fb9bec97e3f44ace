#!/usr/bin/python3
"""Write a compute-heavy ONNX MLP for the dynamic-batching benchmark.

    /usr/bin/python3 bench/make_mlp.py OUT_DIR [--hidden 1536] [--layers 3]

OUT_DIR gets model.onnx (input "input" FP32 [N, 64] -> output "score" FP32
[N, 1]: Gemm+Relu layers of width --hidden, fixed random weights) and
sample.json, one row of named features f0..f63 for /predict, plus
model.yaml manifests for batching off and on. One row costs a full pass over
every weight matrix (memory-bound matrix-vector products: about
hidden^2 * layers * 4 bytes read per row), so a batch of rows shares that cost;
the default sizes take well over 0.5 ms per single-row inference on the
2-core benchmark machine. Generated at benchmark time; nothing is committed.
"""

import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES = 64


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--hidden", type=int, default=1536)
    parser.add_argument("--layers", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(7)

    nodes, inits = [], []
    width, prev = FEATURES, "input"
    for i in range(args.layers):
        w = (rng.standard_normal((width, args.hidden)) / np.sqrt(width)).astype(np.float32)
        b = np.zeros(args.hidden, dtype=np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"h{i}"]))
        nodes.append(helper.make_node("Relu", [f"h{i}"], [f"r{i}"]))
        width, prev = args.hidden, f"r{i}"
    w = (rng.standard_normal((width, 1)) / np.sqrt(width)).astype(np.float32)
    inits += [numpy_helper.from_array(w, "wout"), numpy_helper.from_array(np.zeros(1, np.float32), "bout")]
    nodes.append(helper.make_node("Gemm", [prev, "wout", "bout"], ["score"]))
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", FEATURES])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(args.out_dir, "model.onnx"))

    names = [f"f{i}" for i in range(FEATURES)]
    features = "features:\n" + "".join(f"  - {{name: {n}, type: float}}\n" for n in names)
    with open(os.path.join(args.out_dir, "model.yaml"), "w") as f:
        f.write(features)
    with open(os.path.join(args.out_dir, "model-batching.yaml"), "w") as f:
        f.write("batching: {max_batch_size: 32, max_queue_delay_us: 2000, max_queue_size: 4096}\n")
        f.write(features)
    row = {n: round(float(v), 4) for n, v in zip(names, rng.standard_normal(FEATURES))}
    with open(os.path.join(args.out_dir, "sample.json"), "w") as f:
        json.dump(row, f)


if __name__ == "__main__":
    main()
