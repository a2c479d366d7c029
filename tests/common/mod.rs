//! Helpers the integration tests share.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    dead_code
)] // tests fail by panicking

use std::time::{Duration, Instant};
use tinylab::engine::Engine;
use tinylab::protocol::{Event, JobOutcome};

/// How long a test waits for one event: generous, tests run in parallel on 2 cores.
pub const WAIT: Duration = Duration::from_secs(120);

/// Waits for the first event `pick` accepts; a failed job or a timeout fails the test.
pub fn expect<T>(engine: &Engine, what: &str, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let Some(event) = engine.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        if let Event::JobFinished {
            outcome: JobOutcome::Failed(why),
            ..
        } = &event
        {
            panic!("a job failed while waiting for {what}: {why}");
        }
        if let Some(found) = pick(event) {
            return found;
        }
    }
    panic!("no {what} within {WAIT:?}");
}

/// Runs the `tinylab` binary with `args`.
pub fn tinylab(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tinylab"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs the `tinylab` binary with `args`, fails the test if it fails, and returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = tinylab(args);
    assert!(
        out.status.success(),
        "tinylab {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
