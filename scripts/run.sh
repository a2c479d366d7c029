#!/usr/bin/env bash
# Quick start: install what is missing, then open TinyLab on the demo project (motion lab,
# fed by the built-in virtual board). Extra arguments go to tinylab, e.g. `scripts/run.sh gui DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
exec cargo run -- "$@"
