//! Helpers the integration tests share.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    dead_code
)] // tests fail by panicking

pub mod arm;
pub mod demo_library;
pub mod pyref;
pub mod scenes;

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

/// Waits for the next job to end and returns why it failed; a job that ends otherwise, or no
/// answer within [`WAIT`], fails the test.
pub fn expect_job_failure(engine: &Engine) -> String {
    loop {
        match engine.recv_timeout(WAIT) {
            Some(Event::JobFinished {
                outcome: JobOutcome::Failed(why),
                ..
            }) => return why,
            Some(Event::JobFinished { outcome, .. }) => panic!("the job did not fail: {outcome:?}"),
            Some(_) => {}
            None => panic!("no job ended within {WAIT:?}"),
        }
    }
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

/// Writes a WAV of a 440 Hz sine at half full scale on the first channel (the others silent),
/// `seconds` long, as `bits`-bit integers or 32-bit floats.
pub fn write_tone_wav(
    path: &std::path::Path,
    rate_hz: u32,
    channels: u16,
    bits: u16,
    float: bool,
    seconds: f64,
) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate_hz,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let frames = (f64::from(rate_hz) * seconds).round() as usize;
    for i in 0..frames {
        let v = 0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / f64::from(rate_hz)).sin();
        for channel in 0..channels {
            let v = if channel == 0 { v } else { 0.0 };
            if float {
                writer.write_sample(v as f32).unwrap();
            } else {
                let full = f64::from(1u32 << (bits - 1)) - 1.0;
                writer.write_sample((v * full).round() as i32).unwrap();
            }
        }
    }
    writer.finalize().unwrap();
}

/// Batch-norm statistics and parameters far from the identity (recursing into residual bodies),
/// so folding and the inference affine map are exercised.
pub fn randomise_batch_norms(layers: &mut [tinylab::nn::Layer], rng: &mut tinylab::rng::Rng) {
    for layer in layers {
        match layer {
            tinylab::nn::Layer::BatchNorm {
                gamma,
                beta,
                moving_mean,
                moving_variance,
                ..
            } => {
                for v in gamma.iter_mut() {
                    *v = rng.range((0.5, 1.5)) as f32;
                }
                for v in beta.iter_mut().chain(moving_mean.iter_mut()) {
                    *v = rng.range((-0.5, 0.5)) as f32;
                }
                for v in moving_variance.iter_mut() {
                    *v = rng.range((0.2, 2.0)) as f32;
                }
            }
            tinylab::nn::Layer::Residual { layers } => randomise_batch_norms(layers, rng),
            _ => {}
        }
    }
}

/// The motion demo project in `root/demo`, trained for a few epochs and quantized, from the
/// command line (what the deploy tests send to boards).
pub fn quantized_demo(root: &std::path::Path) -> std::path::PathBuf {
    let dir = root.join("demo");
    let d = dir.to_str().unwrap();
    ok(&["new", d, "--demo"]);
    ok(&["train", d, "--epochs", "3"]);
    ok(&["quantize", d]);
    dir
}
