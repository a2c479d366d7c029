#!/usr/bin/env python3
"""Runs a .tflite model on one input with a reference runtime and prints its outputs as JSON.

    run_tflite.py MODEL INPUT.npy --runtime litert|litert-ref|tflm

  litert      LiteRT's Interpreter with its default (optimised) kernels.
  litert-ref  LiteRT's Interpreter with the reference kernels (OpResolverType.BUILTIN_REF),
              the ones TinyLab's interpreter follows.
  tflm        TensorFlow Lite Micro's interpreter, what runs on the boards.

The input array must have the model input's shape and dtype. Prints
{"outputs": [{"shape": [...], "dtype": "int8", "values": [...]}]} on stdout (values flattened in
row-major order, floats as Python floats). The Rust tests call this through tests/common/pyref.rs;
scripts/install-deps.sh makes the venv (target/ref-venv) it runs in.
"""

import argparse
import json
import sys

import numpy as np


def run_litert(model_path, data, reference_kernels):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    interpreter = Interpreter(
        model_path=model_path, experimental_op_resolver_type=resolver
    )
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], data)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def run_tflm(model_path, data):
    from tflite_micro.python.tflite_micro import runtime

    with open(model_path, "rb") as f:
        interpreter = runtime.Interpreter.from_bytes(f.read())
    interpreter.set_input(data, 0)
    interpreter.invoke()
    outputs = []
    while True:
        try:
            interpreter.get_output_details(len(outputs))
        except Exception:  # TFLM raises once the index passes the last output.
            break
        outputs.append(interpreter.get_output(len(outputs)))
    return outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("input_npy")
    parser.add_argument("--runtime", choices=["litert", "litert-ref", "tflm"], required=True)
    args = parser.parse_args()
    data = np.load(args.input_npy)
    if args.runtime == "tflm":
        outputs = run_tflm(args.model, data)
    else:
        outputs = run_litert(args.model, data, args.runtime == "litert-ref")
    print(
        json.dumps(
            {
                "outputs": [
                    {
                        "shape": [int(d) for d in o.shape],
                        "dtype": str(o.dtype),
                        "values": o.flatten().tolist(),
                    }
                    for o in outputs
                ]
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
