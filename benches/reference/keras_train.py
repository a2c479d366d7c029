"""Trains TinyLab's KWS Conv1D and motion DNN presets with Keras 3 on TensorFlow CPU, for the
training-speed benchmark (`cargo bench --bench train` prints TinyLab's side; README, "Speed").

Usage:
    cargo bench --bench train -- --write-data target/bench-data
    python benches/reference/keras_train.py target/bench-data [--threads 1,2] [--repeats 3]
        [--models kws,motion] [--motion-epochs 30]

The data are the files the Rust bench writes (little-endian f32 rows and u8 labels, 4 classes):
`kws-train.f32` / `kws-train.u8` (2,000 × 637 = 49 frames × 13 coefficients, row-major),
`kws-val.*` (500), `motion-train.*` (2,000 × 63) and `motion-val.*` (500). Both sides train on the
same 2,000 rows with no validation split during training, batch 32, shuffled each epoch, then
evaluate on the training rows and the 500 held-out rows in inference mode.

What is timed: `model.fit(.., verbose=0)` with a callback that records each epoch's wall time.
"samples/s" is training rows × (epochs − 1) ÷ the time of epochs 2..N, so the first epoch's graph
tracing and XLA compilation are left out; "incl. 1st" is rows × epochs ÷ the whole `fit` call.
Each thread count runs in a fresh process (TensorFlow fixes its thread pools at start-up) with
`tf.config.threading.set_intra_op_parallelism_threads(n)` and `set_inter_op_parallelism_threads(n)`.
Each configuration is trained `--repeats` times from scratch (seed 0 each time); the best
throughput (and the median) and the accuracies of the fastest run are reported.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

FEATURES = {"kws": 637, "motion": 63}
CLASSES = 4
BATCH = 32


def load(data_dir, name, split):
    x = np.fromfile(os.path.join(data_dir, f"{name}-{split}.f32"), dtype="<f4")
    y = np.fromfile(os.path.join(data_dir, f"{name}-{split}.u8"), dtype=np.uint8)
    if x.size != y.size * FEATURES[name]:
        sys.exit(f"{name}-{split}: {x.size} values for {y.size} labels; expected {FEATURES[name]} per row")
    return x.reshape(y.size, FEATURES[name]), y.astype(np.int32)


def build(keras, name):
    layers = keras.layers
    if name == "kws":
        # models/kws-conv1d.toml, then the classifier head TinyLab appends (dense 4 + softmax).
        body = [
            layers.Reshape((49, 13)),
            layers.Conv1D(8, 3, padding="same", activation="relu"),
            layers.MaxPooling1D(2, padding="same"),
            layers.Dropout(0.25),
            layers.Conv1D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling1D(2, padding="same"),
            layers.Dropout(0.25),
            layers.Flatten(),
        ]
        learning_rate = 0.005
    else:
        # models/motion-dnn.toml: 63 → 20 → 10 → 4.
        body = [layers.Dense(20, activation="relu"), layers.Dense(10, activation="relu")]
        learning_rate = 0.0005
    model = keras.Sequential(
        [keras.Input((FEATURES[name],))] + body + [layers.Dense(CLASSES, activation="softmax")]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def worker(args):
    """One process, one thread count: prints one JSON line per model."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    class EpochTimes(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    for name in args.models.split(","):
        epochs = 10 if name == "kws" else args.motion_epochs
        x, y = load(args.data_dir, name, "train")
        xv, yv = load(args.data_dir, name, "val")
        best, rates = None, []
        for _ in range(args.repeats):
            keras.utils.set_random_seed(0)
            model = build(keras, name)
            times = EpochTimes()
            t = time.perf_counter()
            history = model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0, callbacks=[times])
            fit_s = time.perf_counter() - t
            steady = len(y) * (epochs - 1) / sum(times.seconds[1:])
            run = {
                "model": name,
                "threads": args.threads,
                "epochs": epochs,
                "rows": int(len(y)),
                "params": int(model.count_params()),
                "samples_per_s": steady,
                "samples_per_s_incl_first": len(y) * epochs / fit_s,
                "first_epoch_s": times.seconds[0],
                "fit_accuracy_last_epoch": float(history.history["accuracy"][-1]),
                "train_accuracy": float(model.evaluate(x, y, batch_size=256, verbose=0)[1]),
                "val_accuracy": float(model.evaluate(xv, yv, batch_size=256, verbose=0)[1]),
                "jit_compile": bool(model.jit_compile),
            }
            print(
                f"  {name:<6} {args.threads} thread(s): {steady:8.0f} samples/s "
                f"({run['samples_per_s_incl_first']:.0f} incl. 1st epoch of {times.seconds[0]:.2f} s), "
                f"val acc {run['val_accuracy']:.3f}",
                file=sys.stderr,
            )
            rates.append(steady)
            if best is None or steady > best["samples_per_s"]:
                best = run
        best["samples_per_s_median"] = float(np.median(rates))
        print(json.dumps(best), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts, one process each")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="kws,motion")
    parser.add_argument("--motion-epochs", type=int, default=30)
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    if len(counts) == 1 and os.environ.get("KERAS_TRAIN_WORKER"):
        args.threads = counts[0]
        worker(args)
        return

    import keras
    import tensorflow as tf

    print(f"Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, Keras {keras.__version__}, numpy {np.__version__}")
    results = []
    for n in counts:
        command = [sys.executable, __file__, args.data_dir, "--threads", str(n), "--repeats", str(args.repeats),
                   "--models", args.models, "--motion-epochs", str(args.motion_epochs)]
        out = subprocess.run(command, env={**os.environ, "KERAS_TRAIN_WORKER": "1"}, stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    print(f"\nbest of {args.repeats} runs, batch {BATCH}, samples/s over epochs 2..N (1st epoch traces the graph):")
    print(f"{'model':<7} {'threads':>7} {'epochs':>6} {'samples/s':>10} {'median':>8} {'incl. 1st':>10} "
          f"{'train acc':>9} {'val acc':>8}  jit")
    for r in results:
        print(f"{r['model']:<7} {r['threads']:>7} {r['epochs']:>6} {r['samples_per_s']:>10.0f} "
              f"{r['samples_per_s_median']:>8.0f} {r['samples_per_s_incl_first']:>10.0f} "
              f"{r['train_accuracy']:>9.3f} {r['val_accuracy']:>8.3f}  {r['jit_compile']}")
    out = os.path.join(args.data_dir, "keras-results.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nwritten {out} (`cargo bench --bench train -- --keras {out}` prints the ratios)")


if __name__ == "__main__":
    main()
