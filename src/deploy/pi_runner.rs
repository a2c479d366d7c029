//! The Python program the SSH deploy puts beside the model on a Raspberry Pi: it runs
//! `trained.tflite` with the LiteRT interpreter (`ai_edge_litert`, else the book's
//! `tflite_runtime`, else TensorFlow's `tf.lite`) and prints each inference in Edge Impulse's
//! line format, which the board monitor parses like any board's:
//! `Predictions (DSP: 1.20 ms., Classification: 8.31 ms., Anomaly: 0 ms.):` then
//! `    <label>: 0.99609` per class (FOMO models: `    <label> (0.93) [ x: 40, y: 16, width: 8,
//! height: 8 ]` per object, or `    No objects found`).
//!
//! Inputs: `--camera` (Picamera2 as in the book's Pi labs, else OpenCV's first camera) for image
//! models, the default for them; `--image FILE` (Pillow); `--features FILE.npy` (one input, or
//! rows of inputs, already through the project's DSP: what the tests use, and the way to run
//! motion or audio models, whose DSP the runner does not have). Images are squashed to the
//! model's size and scaled to 0–1 (grayscale by ITU-R 601-2 luma), as TinyLab's image block does.
//! `--count N` stops after N inferences.

use super::{DeployBundle, InputKind, Task, literal, python_str};

/// The program's text, the bundle's task and threshold as its defaults.
pub fn runner_py(bundle: &DeployBundle) -> String {
    let (fomo, threshold) = match bundle.task {
        Task::Classification { threshold } => ("False", threshold),
        Task::Fomo { min_confidence } => ("True", min_confidence),
    };
    let image = matches!(bundle.input, InputKind::Image { .. });
    RUNNER
        .replace("@RUN@", &python_str(&bundle.run))
        .replace("@FOMO@", fomo)
        .replace("@THRESHOLD@", &literal(threshold))
        .replace("@IMAGE_MODEL@", if image { "True" } else { "False" })
}

const RUNNER: &str = r#"#!/usr/bin/env python3
"""TinyLab runner, generated for @RUN@: runs trained.tflite and prints each inference in
Edge Impulse's line format, which TinyLab's board monitor reads.

  python3 -u tinylab_runner.py                   # the camera (Picamera2, else OpenCV)
  python3 -u tinylab_runner.py --image cat.jpg   # one image file
  python3 -u tinylab_runner.py --features x.npy  # features already through the DSP
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FOMO = @FOMO@
IMAGE_MODEL = @IMAGE_MODEL@
DEFAULT_THRESHOLD = @THRESHOLD@


def load_interpreter(path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            try:
                from tensorflow.lite import Interpreter
            except ImportError:
                sys.exit("no TensorFlow Lite interpreter: pip install ai-edge-litert "
                         "(or tflite-runtime)")
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    return interpreter


def quantize(values, detail):
    scale, zero_point = detail["quantization"]
    dtype = detail["dtype"]
    if dtype == np.float32 or scale == 0:
        return values.astype(np.float32)
    info = np.iinfo(dtype)
    q = np.round(values / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(values, detail):
    scale, zero_point = detail["quantization"]
    if values.dtype == np.float32 or scale == 0:
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * scale


def image_features(rgb, shape):
    """An RGB uint8 image (H, W, 3) squashed to the model's size, 0..1."""
    from PIL import Image
    height, width, channels = shape
    image = Image.fromarray(rgb).resize((width, height), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.float64)
    if channels == 1:
        gray = (0.299 / 255.0) * pixels[..., 0] + (0.587 / 255.0) * pixels[..., 1] \
            + (0.114 / 255.0) * pixels[..., 2]
        return gray[..., None].astype(np.float32)
    return (pixels / 255.0).astype(np.float32)


def camera_frames():
    try:
        from picamera2 import Picamera2
        camera = Picamera2()
        camera.configure(camera.create_preview_configuration(
            main={"format": "RGB888", "size": (320, 240)}))
        camera.start()
        time.sleep(2)
        while True:
            yield camera.capture_array()[..., ::-1]
    except ImportError:
        import cv2
        capture = cv2.VideoCapture(0)
        if not capture.isOpened():
            sys.exit("no camera: connect one, or give --image FILE or --features FILE.npy")
        while True:
            ok, frame = capture.read()
            if not ok:
                sys.exit("the camera stopped sending frames")
            yield frame[..., ::-1]


def print_classification(labels, scores, dsp_ms, nn_ms):
    print("Predictions (DSP: %.2f ms., Classification: %.2f ms., Anomaly: 0 ms.):"
          % (dsp_ms, nn_ms))
    for label, score in zip(labels, scores):
        print("    %s: %.5f" % (label, score))


def print_fomo(labels, heat, threshold, input_shape, dsp_ms, nn_ms):
    """heat: (H, W, classes) probabilities; class 0 is the background. Cells of one class at or
    above the threshold that touch (4-neighbours) are one object, as TinyLab's decoder."""
    print("Predictions (DSP: %.2f ms., Classification: %.2f ms., Anomaly: 0 ms.):"
          % (dsp_ms, nn_ms))
    rows, cols, classes = heat.shape
    cell_h = input_shape[0] / rows
    cell_w = input_shape[1] / cols
    best = heat[..., 1:].argmax(axis=-1) + 1
    score = heat[..., 1:].max(axis=-1)
    seen = np.zeros((rows, cols), dtype=bool)
    found = 0
    for r in range(rows):
        for c in range(cols):
            if seen[r, c] or score[r, c] < threshold:
                continue
            cls = best[r, c]
            stack, cells = [(r, c)], []
            seen[r, c] = True
            while stack:
                y, x = stack.pop()
                cells.append((y, x))
                for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                    if 0 <= ny < rows and 0 <= nx < cols and not seen[ny, nx] \
                            and score[ny, nx] >= threshold and best[ny, nx] == cls:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
            ys = [y for y, _ in cells]
            xs = [x for _, x in cells]
            top, left = min(ys) * cell_h, min(xs) * cell_w
            height = (max(ys) - min(ys) + 1) * cell_h
            width = (max(xs) - min(xs) + 1) * cell_w
            value = max(score[y, x] for y, x in cells)
            label = labels[cls] if cls < len(labels) else "class %d" % cls
            print("    %s (%.5f) [ x: %d, y: %d, width: %d, height: %d ]"
                  % (label, value, left, top, width, height))
            found += 1
    if not found:
        print("    No objects found")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--camera", action="store_true", help="read the camera")
    source.add_argument("--image", help="classify one image file")
    source.add_argument("--features", help="a .npy of one input or rows of inputs")
    parser.add_argument("--model", default=os.path.join(HERE, "trained.tflite"))
    parser.add_argument("--labels", default=os.path.join(HERE, "labels.txt"))
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--count", type=int, default=0, help="stop after N inferences")
    args = parser.parse_args()

    labels = [line.rstrip("\n") for line in open(args.labels) if line.strip()]
    interpreter = load_interpreter(args.model)
    input_detail = interpreter.get_input_details()[0]
    output_detail = interpreter.get_output_details()[0]
    input_shape = tuple(input_detail["shape"][1:])

    def inputs():
        if args.features:
            data = np.load(args.features).astype(np.float32)
            if data.shape == input_shape:
                data = data[None, ...]
            for row in data:
                yield row.reshape(input_shape), 0.0
        elif args.image:
            from PIL import Image
            start = time.perf_counter()
            rgb = np.asarray(Image.open(args.image).convert("RGB"))
            features = image_features(rgb, input_shape)
            yield features, (time.perf_counter() - start) * 1000
        elif IMAGE_MODEL:
            for rgb in camera_frames():
                start = time.perf_counter()
                features = image_features(rgb, input_shape)
                yield features, (time.perf_counter() - start) * 1000
        else:
            sys.exit("this model reads DSP features: give --features FILE.npy")

    count = 0
    for features, dsp_ms in inputs():
        start = time.perf_counter()
        interpreter.set_tensor(input_detail["index"], quantize(features[None, ...], input_detail))
        interpreter.invoke()
        output = dequantize(interpreter.get_tensor(output_detail["index"]), output_detail)[0]
        nn_ms = (time.perf_counter() - start) * 1000
        if FOMO:
            print_fomo(labels, output, args.threshold, input_shape, dsp_ms, nn_ms)
        else:
            print_classification(labels, output.flatten(), dsp_ms, nn_ms)
        sys.stdout.flush()
        count += 1
        if args.count and count >= args.count:
            break


if __name__ == "__main__":
    main()
"#;
