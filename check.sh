#!/usr/bin/env bash
# What CI does, in one command: install what is missing, then formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked --tests
