#!/usr/bin/env python3
"""Makes TinyLab's bundled demo data (labs/demo/*.tar), all of it synthetic:

- kws.tar: spoken words at 16 kHz, 16-bit mono, trimmed to the word (`<class>/<n>.wav`), made
  with espeak-ng (several English voices and voice variants, random speed and pitch) and sox
  (resampled to 16 kHz, silence trimmed, normalised to -3 dBFS). Classes: yes, no, and unknown
  (other Speech Commands words). TinyLab places each word in a one-second clip over generated
  background noise when it builds a demo project, and makes the noise class itself.
- images.tar: 128x96 RGB JPEG pictures (`<class>/<n>.jpg`) of drawn toys, near the middle of the
  frame, on muted textured backgrounds:
  background, periquito (a green parrot), robot, box, wheel — the classes of the book's image labs.
- scenes.tar: 160x120 RGB JPEG scenes with one to three objects each and their boxes in Edge
  Impulse's `bounding_boxes.labels` (one per set): set `box-wheel/` (box, wheel; the Nicla and Pi
  FOMO labs) and set `bug-fruit/` (bug, fruit; the XIAO FOMO lab).

Run from the repository root: `python3 labs/demo/make_demo_data.py` (needs espeak-ng, sox, and
Python with numpy and Pillow). The output is deterministic for the same tool versions.
"""
import io
import json
import random
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent
VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
          "en-gb-x-gbcwmd"]
VARIANTS = ["", "+m1", "+m2", "+m3", "+m4", "+f1", "+f2", "+f3", "+f4"]
UNKNOWN_WORDS = ["left", "right", "up", "down", "stop", "go", "on", "off", "cat", "dog", "bird",
                 "tree", "house", "six", "wow", "bed"]
WORDS_PER_CLASS = {"yes": 20, "no": 20, "unknown": 24}


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def speak(word, rng, tmp):
    voice = rng.choice(VOICES) + rng.choice(VARIANTS)
    raw, out = tmp / "raw.wav", tmp / "out.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rng.randint(120, 190)),
                    "-p", str(rng.randint(25, 75)), "-w", str(raw), word], check=True)
    # 16 kHz mono 16-bit, silence trimmed at both ends, peak at -3 dBFS; -R: repeatable dither.
    subprocess.run(["sox", "-R", str(raw), "-r", "16000", "-b", "16", "-c", "1", str(out),
                    "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%",
                    "reverse", "gain", "-n", "-3"], check=True)
    return out.read_bytes()


def make_kws():
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(OUT / "kws.tar", "w",
                                                             format=tarfile.USTAR_FORMAT) as tar:
        for label, count in WORDS_PER_CLASS.items():
            for n in range(count):
                word = rng.choice(UNKNOWN_WORDS) if label == "unknown" else label
                add(tar, f"{label}/{n:02}.wav", speak(word, rng, Path(tmp)))


def background(rng, size):
    """A table or wall: a colour gradient, grain, and a few streaks."""
    w, h = size
    # Muted colours (a grey with a tint), so the objects' colours stand out as a real toy's do.
    grey = rng.uniform(90, 170)
    base = np.array([grey + rng.uniform(-20, 20) for _ in range(3)])
    tilt = np.array([rng.uniform(-30, 30) for _ in range(3)])
    ys, xs = np.mgrid[0:h, 0:w]
    t = (xs * rng.uniform(-1, 1) + ys * rng.uniform(-1, 1)) / max(w, h)
    img = base[None, None, :] + t[..., None] * tilt[None, None, :]
    img += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 10, (h, w, 3))
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(rng.randint(0, 4)):
        c = tuple(int(v) for v in np.clip(base + rng.uniform(-40, 40), 0, 255))
        draw.line([(rng.randint(0, w), rng.randint(0, h)), (rng.randint(0, w), rng.randint(0, h))],
                  fill=c, width=rng.randint(1, 3))
    return pil


def jitter(rng, colour, amount=25):
    return tuple(int(min(255, max(0, c + rng.uniform(-amount, amount)))) for c in colour)


def draw_object(draw, kind, cx, cy, r, rng):
    """Draws one object of `kind` centred at (cx, cy) with radius about r."""
    if kind == "box":
        s = r * rng.uniform(0.8, 1.0)
        draw.rectangle([cx - s, cy - s, cx + s, cy + s], fill=jitter(rng, (176, 124, 70)),
                       outline=jitter(rng, (90, 60, 30)), width=2)
        draw.line([cx - s, cy, cx + s, cy], fill=jitter(rng, (220, 200, 150)), width=max(2, r // 4))
    elif kind == "wheel":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=jitter(rng, (30, 30, 30), 15))
        hub = r * 0.45
        draw.ellipse([cx - hub, cy - hub, cx + hub, cy + hub], fill=jitter(rng, (170, 170, 175)))
    elif kind == "fruit":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=jitter(rng, (240, 140, 20)))
        draw.ellipse([cx - r * 0.2, cy - r * 1.1, cx + r * 0.3, cy - r * 0.7],
                     fill=jitter(rng, (40, 140, 40)))
    elif kind == "bug":
        draw.ellipse([cx - r, cy - r * 0.7, cx + r, cy + r * 0.7], fill=jitter(rng, (60, 170, 60)))
        for dx in (-0.45, 0.45):
            e = r * 0.25
            draw.ellipse([cx + dx * r - e, cy - r * 0.7 - e, cx + dx * r + e, cy - r * 0.7 + e],
                         fill=(245, 245, 245), outline=(20, 20, 20))
    elif kind == "periquito":
        draw.ellipse([cx - r * 0.6, cy - r * 0.3, cx + r * 0.6, cy + r], fill=jitter(rng, (60, 180, 70)))
        draw.ellipse([cx - r * 0.4, cy - r, cx + r * 0.4, cy - r * 0.2], fill=jitter(rng, (230, 210, 60)))
        draw.polygon([(cx + r * 0.3, cy - r * 0.65), (cx + r * 0.75, cy - r * 0.5),
                      (cx + r * 0.3, cy - r * 0.4)], fill=jitter(rng, (240, 120, 30)))
        draw.ellipse([cx - r * 0.05, cy - r * 0.75, cx + r * 0.12, cy - r * 0.58], fill=(10, 10, 10))
    elif kind == "robot":
        body = jitter(rng, (60, 90, 220), 20)
        draw.rectangle([cx - r * 0.6, cy - r * 0.1, cx + r * 0.6, cy + r], fill=body)
        draw.rectangle([cx - r * 0.4, cy - r, cx + r * 0.4, cy - r * 0.2], fill=body)
        for dx in (-0.18, 0.18):
            draw.ellipse([cx + dx * r - r * 0.09, cy - r * 0.7, cx + dx * r + r * 0.09, cy - r * 0.52],
                         fill=(255, 60, 60))
        draw.line([cx, cy - r, cx, cy - r * 1.25], fill=body, width=2)
    else:
        raise ValueError(kind)


def jpeg(img):
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def make_images():
    rng = random.Random(7)
    classes = ["background", "periquito", "robot", "box", "wheel"]
    with tarfile.open(OUT / "images.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
        for label in classes:
            for n in range(40):
                img = background(rng, (128, 96))
                if label != "background":
                    # Framed as a student photographs a toy: near the middle, filling the frame.
                    draw = ImageDraw.Draw(img)
                    r = rng.randint(26, 34)
                    draw_object(draw, label, 64 + rng.randint(-14, 14), 50 + rng.randint(-8, 8),
                                r, rng)
                img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8)))
                if rng.random() < 0.5:
                    img = img.transpose(Image.FLIP_LEFT_RIGHT)
                add(tar, f"{label}/{n:02}.jpg", jpeg(img))


def make_scenes():
    rng = random.Random(11)
    with tarfile.open(OUT / "scenes.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
        for kinds in (["box", "wheel"], ["bug", "fruit"]):
            folder = "-".join(kinds)
            for split, count in (("training", 48), ("testing", 12)):
                labels = {}
                for n in range(count):
                    img = background(rng, (160, 120))
                    draw = ImageDraw.Draw(img)
                    placed = []
                    for _ in range(rng.randint(1, 3)):
                        r = rng.randint(8, 13)
                        for _attempt in range(50):
                            cx, cy = rng.randint(r + 1, 159 - r), rng.randint(r + 1, 119 - r)
                            if all((cx - x) ** 2 + (cy - y) ** 2 > (r + q + 6) ** 2 for x, y, q, _ in placed):
                                placed.append((cx, cy, r, rng.choice(kinds)))
                                break
                    boxes = []
                    for cx, cy, r, kind in placed:
                        draw_object(draw, kind, cx, cy, r, rng)
                        boxes.append({"label": kind, "x": cx - r, "y": cy - r,
                                      "width": 2 * r + 1, "height": 2 * r + 1})
                    name = f"{n:02}.jpg"
                    labels[name] = boxes
                    add(tar, f"{folder}/{split}/{name}", jpeg(img))
                text = json.dumps({"version": 1, "type": "bounding-box-labels",
                                   "boundingBoxes": labels}, indent=1).encode()
                add(tar, f"{folder}/{split}/bounding_boxes.labels", text)


if __name__ == "__main__":
    make_kws()
    make_images()
    make_scenes()
    for name in ("kws.tar", "images.tar", "scenes.tar"):
        print(name, (OUT / name).stat().st_size, "bytes")
