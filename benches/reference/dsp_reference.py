"""Times the Python references for the DSP benchmark (`cargo bench --bench dsp` prints ours).

Usage: python benches/reference/dsp_reference.py EI_BLOCKS_DIR
  EI_BLOCKS_DIR: a checkout of github.com/edgeimpulse/processing-blocks (Clear BSD); nothing of it
  is kept in this repository. Needs numpy, scipy, matplotlib, python_speech_features, librosa.

Inputs are generated from the same formulas as benches/dsp.rs, so both sides do the same work:
1 s of 16 kHz audio for MFCC (the KWS lab's settings) and a 2 s, 50 Hz, 3-axis window for spectral
analysis (the motion lab's settings). Prints milliseconds per call, best of several runs.
"""
import importlib
import importlib.util
import math
import sys
import time

import numpy as np

np.lib.pad = np.pad  # the blocks predate numpy 2


def audio_1s():
    i = np.arange(16000)
    tone = 3000 * np.sin(2 * math.pi * 440 * i / 16000) + 2000 * np.sin(2 * math.pi * 1250 * i / 16000)
    noise = ((np.sin(12.9898 * i) * 43758.5453) % 1 - 0.5) * 2000
    return np.round(tone + noise)


def motion_window():
    t = np.arange(100) / 50.0
    x = 2.0 * np.sin(2 * math.pi * 0.4 * t)
    y = 1.5 * np.sin(2 * math.pi * 2.0 * t + 0.3)
    z = 9.81 + 0.8 * np.sin(2 * math.pi * 0.9 * t)
    return np.stack([x, y, z], axis=1).reshape(-1)


def best_ms(fn, runs):
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def load_block(root, name):
    # Each block ships its own `common` package: import one block per fresh module state.
    for mod in [m for m in sys.modules if m == "common" or m.startswith("common.") or m == "dsp"]:
        del sys.modules[mod]
    sys.path.insert(0, f"{root}/{name}")
    try:
        return importlib.import_module("dsp")
    finally:
        sys.path.pop(0)


def main():
    root = sys.argv[1]
    audio = audio_1s()
    motion = motion_window()

    mfcc = load_block(root, "mfcc")
    ms = best_ms(lambda: mfcc.generate_features(4, False, audio, ["audio"], 16000, 0.025, 0.02, 32, 512, 13, 151, 80, 0, 0.98, 1), 20)
    print(f"edge-impulse mfcc 1 s 16 kHz: {ms:.3f} ms")

    spectral = load_block(root, "spectral_analysis")
    args = (4, False, motion, ["accX", "accY", "accZ"], 50, 1, 1, "none", 0, 0, "FFT", 32, 0, 0, "0", True, False, 1, "", False)
    ms = best_ms(lambda: spectral.generate_features(*args), 50)
    print(f"edge-impulse spectral 2 s 3-axis: {ms:.3f} ms")

    import python_speech_features as psf
    ms = best_ms(lambda: psf.mfcc(audio, 16000, 0.025, 0.02, 13, 32, 512, 80, None, 0.98, 0, False), 20)
    print(f"python_speech_features mfcc 1 s: {ms:.3f} ms")

    import librosa
    y = (audio / 32768.0).astype(np.float32)
    librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13, n_fft=512, hop_length=320, win_length=400, n_mels=32, fmin=80)
    ms = best_ms(lambda: librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13, n_fft=512, hop_length=320, win_length=400, n_mels=32, fmin=80), 20)
    print(f"librosa mfcc 1 s: {ms:.3f} ms")


if __name__ == "__main__":
    main()
