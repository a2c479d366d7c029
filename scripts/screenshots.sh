#!/usr/bin/env bash
# Runs the real window under Xvfb on a fresh demo project (virtual board streaming) and saves a
# PNG per panel, plus instructor mode, into the folder given (default: screenshots/).
# Needs the packages of scripts/install-deps.sh. Look at every PNG after a UI change.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-screenshots}")
mkdir -p "$out"
cargo build --quiet
home=$(mktemp -d)
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$home"' EXIT
export DISPLAY=$display XDG_DATA_HOME=$home/data XDG_CONFIG_HOME=$home/config HOME=$home
sleep 1
target/debug/tinylab >"$out/app.log" 2>&1 &
app=$!
window=""
for _ in $(seq 60); do
  window=$(xdotool search --name '^TinyLab$' 2>/dev/null | head -1) && [ -n "$window" ] && break
  sleep 0.5
done
[ -n "$window" ] || { echo "the window did not appear; see $out/app.log" >&2; exit 1; }
sleep 4 # the virtual board's banner, format detection and a few seconds of signal
# Xvfb has no window manager: give the window the keyboard focus ourselves, and type through
# XTEST (xdotool without --window), which winit accepts, unlike synthetic XSendEvent keys.
xdotool windowfocus --sync "$window" 2>/dev/null || true
xdotool mousemove --window "$window" 640 780 click 1
names=(lab capture dataset features train evaluate optimize deploy)
for i in "${!names[@]}"; do
  xdotool key "ctrl+$((i + 1))"
  sleep 1.5
  import -window root "$out/$((i + 1))-${names[$i]}.png"
done
# The Features panel after Generate features (Ctrl+G): the explorer.
xdotool key ctrl+4
sleep 0.5
xdotool key ctrl+g
sleep 4
import -window root "$out/4b-features-explorer.png"
# The Dataset panel with a sample selected and plotted.
xdotool key ctrl+3
sleep 0.5
xdotool mousemove --window "$window" 40 120 click 1
sleep 1.5
import -window root "$out/3b-dataset-selected.png"
# Train the demo (Ctrl+T on the Train panel), then read the result in Evaluate.
xdotool key ctrl+5
sleep 0.5
xdotool key ctrl+t
sleep 6
import -window root "$out/5b-train-run.png"
xdotool key ctrl+6
sleep 1.5
import -window root "$out/6b-evaluate-run.png"
# Quantize the run (Ctrl+Q on the Optimize panel), then the Deploy panel.
xdotool key ctrl+7
sleep 0.5
xdotool key ctrl+q
sleep 6
import -window root "$out/7b-optimize-run.png"
xdotool key ctrl+8
sleep 1.5
import -window root "$out/8b-deploy-run.png"
xdotool key ctrl+2 ctrl+i
sleep 2
import -window root "$out/9-capture-instructor.png"
echo "screenshots in $out"
