#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages TinyLab needs to build, run and test, if any is missing.
# Build: pkg-config + libudev-dev (serial port enumeration), libasound2-dev (cpal, audio). Run:
# X11/Wayland client libraries and Mesa's software OpenGL (the window renders with glow).
# Screenshots: Xvfb + ImageMagick. Audio tests: PulseAudio with its ALSA plugin and tools (a
# null sink stands in for a sound card). Tests: python3-venv, and a venv at target/ref-venv with
# the reference runtimes the .tflite tests compare against (LiteRT, TensorFlow Lite Micro).
set -euo pipefail
packages=(
  build-essential pkg-config libudev-dev libasound2-dev
  libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 libwayland-client0
  libgl1 libegl1 libgl1-mesa-dri
  xvfb xauth imagemagick xdotool
  espeak-ng sox
  pulseaudio pulseaudio-utils libasound2-plugins
  python3 python3-venv
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
command -v cargo >/dev/null || { echo "Rust is missing: install it from https://rustup.rs, then run this again" >&2; exit 1; }
ref_venv="$(cd "$(dirname "$0")/.." && pwd)/target/ref-venv"
ref_packages=(numpy ai-edge-litert tflite-micro)
if ! "$ref_venv/bin/python" -c "import numpy, ai_edge_litert, tflite_micro" 2>/dev/null; then
  echo "making the reference runtimes' venv: $ref_venv (${ref_packages[*]})"
  python3 -m venv "$ref_venv"
  "$ref_venv/bin/pip" install -q "${ref_packages[@]}"
fi
