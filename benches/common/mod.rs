//! What the benches share: best-of timing within a budget.

use std::time::{Duration, Instant};

/// Runs `work` repeatedly for about `budget` (at least once) and returns the best time of one run.
pub fn best_of(budget: Duration, mut work: impl FnMut()) -> Duration {
    let started = Instant::now();
    let mut best = Duration::MAX;
    while started.elapsed() < budget || best == Duration::MAX {
        let t = Instant::now();
        work();
        best = best.min(t.elapsed());
    }
    best
}

/// `(true, 2 s per case)` under `cargo bench` (which passes `--bench`), else `(false, 0)`: one
/// quick run of each case, as a smoke test.
pub fn mode() -> (bool, Duration) {
    let full = std::env::args().any(|a| a == "--bench");
    (
        full,
        if full {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        },
    )
}
