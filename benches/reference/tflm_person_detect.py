"""The reference figure of README's "Quantization and export" table: TFLM's Python interpreter
(its reference kernels, compiled C++) on TFLM's person_detect model, best of 30 inferences of a
zero image, as `cargo bench --bench quant` times TinyLab on the same model and input.

    target/ref-venv/bin/python benches/reference/tflm_person_detect.py
"""
import os
import time

import numpy as np
from tflite_micro.python.tflite_micro import runtime

MODEL = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "../../../shared/reference/tflm-models/person_detect.tflite",
)


def main():
    with open(MODEL, "rb") as f:
        interpreter = runtime.Interpreter.from_bytes(f.read())
    image = np.zeros((1, 96, 96, 1), dtype=np.int8)
    best = float("inf")
    for _ in range(30):
        start = time.perf_counter()
        interpreter.set_input(image, 0)
        interpreter.invoke()
        best = min(best, time.perf_counter() - start)
    print(f"TFLM Python interpreter, person_detect int8: {best * 1e3:.3f} ms (best of 30)")


if __name__ == "__main__":
    main()
