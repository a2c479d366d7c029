#!/usr/bin/env python3
"""Prints the smallest tensor arena with which TensorFlow Lite Micro's interpreter runs a model.

    tflm_arena.py MODEL.tflite

Bisects `arena_size` of tflite_micro's Python `runtime.Interpreter` between 0 and a size that
works: an arena is big enough when the interpreter is created (AllocateTensors succeeds) and
one inference on zeros runs. Prints {"arena_bytes": N} on stdout. tests/c_library.rs compares
the C export's static arena with this figure; scripts/install-deps.sh makes the venv.
"""

import json
import sys

import numpy as np


def works(model, arena_size):
    from tflite_micro.python.tflite_micro import runtime

    try:
        interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
        details = interpreter.get_input_details(0)
        interpreter.set_input(np.zeros(details["shape"], dtype=details["dtype"]), 0)
        interpreter.invoke()
        return True
    except Exception:  # TFLM raises RuntimeError (or ValueError) when the arena is too small.
        return False


def main():
    with open(sys.argv[1], "rb") as f:
        model = f.read()
    high = max(len(model) * 10, 1 << 16)
    while not works(model, high):
        high *= 2
        if high > 1 << 30:
            sys.exit("tflm_arena.py: the model does not run in TFLM with 1 GiB of arena")
    low = 0  # does not work (or is not tried)
    while high - low > 1:
        middle = (low + high) // 2
        if works(model, middle):
            high = middle
        else:
            low = middle
    print(json.dumps({"arena_bytes": high}))


if __name__ == "__main__":
    main()
