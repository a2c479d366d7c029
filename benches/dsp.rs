//! Speed of the processing blocks against the Python references (see README, "Speed").
//!
//! `cargo bench --bench dsp` times, best of runs: MFCC of 1 s of 16 kHz audio at the KWS lab's
//! settings, spectral analysis of a 2 s, 50 Hz, 3-axis window at the motion lab's settings, and
//! the feature job over a 1,000-sample motion dataset (10 s each, 41 windows per sample).
//! `python benches/reference/dsp_reference.py EI_DIR` times the same inputs in Python.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a bench may panic

use std::f64::consts::TAU;
#[path = "common/mod.rs"]
mod common;

use common::best_of;
use std::hint::black_box;
use std::time::Duration;
use tinylab::dsp::Signal;
use tinylab::dsp::block::BlockInput;
use tinylab::engine::features_job::{FeaturePlan, generate};
use tinylab::engine::jobs::{JobMsg, JobRunner};
use tinylab::project::sample::{Series, Split};
use tinylab::project::{NewSample, Project};
use tinylab::sim::motion::{Motion, synthesize};

/// The same formulas as `benches/reference/dsp_reference.py`.
fn audio_1s() -> Vec<f32> {
    (0..16_000)
        .map(|i| {
            let i = f64::from(i);
            let tone = 3000.0 * (TAU * 440.0 * i / 16_000.0).sin()
                + 2000.0 * (TAU * 1250.0 * i / 16_000.0).sin();
            let noise = (((12.9898 * i).sin() * 43_758.545_3).rem_euclid(1.0) - 0.5) * 2000.0;
            (tone + noise).round() as f32
        })
        .collect()
}

fn motion_window() -> Vec<f32> {
    (0..100)
        .flat_map(|i| {
            let t = f64::from(i) / 50.0;
            [
                2.0 * (TAU * 0.4 * t).sin(),
                1.5 * (TAU * 2.0 * t + 0.3).sin(),
                9.81 + 0.8 * (TAU * 0.9 * t).sin(),
            ]
        })
        .map(|v| v as f32)
        .collect()
}

fn main() {
    let (full, budget) = common::mode();
    let kws = tinylab::labs::lab("kws").unwrap();
    let motion = tinylab::labs::lab("motion").unwrap();

    let audio = audio_1s();
    let names = vec!["audio".to_owned()];
    let input = BlockInput::Signal {
        signal: Signal {
            axes: 1,
            rate_hz: 16_000.0,
            values: &audio,
        },
        axis_names: &names,
    };
    let t = best_of(budget, || {
        black_box(kws.dsp.features(&input).unwrap());
    });
    report("MFCC, 1 s at 16 kHz (KWS lab settings)", t);

    let window = motion_window();
    let axes = vec!["accX".to_owned(), "accY".to_owned(), "accZ".to_owned()];
    let input = BlockInput::Signal {
        signal: Signal {
            axes: 3,
            rate_hz: 50.0,
            values: &window,
        },
        axis_names: &axes,
    };
    let t = best_of(budget, || {
        black_box(motion.dsp.features(&input).unwrap());
    });
    report("spectral analysis, 2 s × 3 axes at 50 Hz", t);

    // The explorer's largest lab case: 2,000 windows of 637 MFCC features.
    let rows: Vec<Vec<f32>> = (0..if full { 2000u64 } else { 50 })
        .map(|i| {
            let mut rng = tinylab::rng::Rng::new(i);
            let class = (i % 4) as f64;
            (0..637)
                .map(|j| (class * ((j % 7) as f64 - 3.0) + rng.next_gaussian()) as f32)
                .collect()
        })
        .collect();
    let t = best_of(budget, || {
        black_box(tinylab::dsp::pca::pca_2d(&rows).unwrap());
    });
    report(&format!("PCA of {} rows × 637 features", rows.len()), t);

    // A 1,000-sample motion dataset through the feature job (no cache: a fresh folder each run).
    let samples = if full { 1000 } else { 20 };
    let tmp = std::env::temp_dir().join(format!("tinylab-dsp-bench-{}", std::process::id()));
    let mut project = Project::create(&tmp, &motion).unwrap();
    let batch = (0..samples)
        .map(|i| NewSample {
            series: Series {
                axes: axes.clone(),
                rate_hz: 50.0,
                values: synthesize(Motion::ALL[i % 4], 50.0, 10.0, i as u64),
            },
            label: Motion::ALL[i % 4].label().to_owned(),
            split: Split::Train,
            source: "bench".into(),
            image: None,
            boxes: Vec::new(),
        })
        .collect();
    project.add_many(batch).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut runner = JobRunner::new(tx);
    let mut run = 0;
    let t = best_of(
        if full {
            Duration::from_secs(10)
        } else {
            Duration::ZERO
        },
        || {
            run += 1;
            let plan = FeaturePlan {
                dsp: project.settings().dsp.clone(),
                window: project.settings().impulse.clone(),
                samples: project
                    .samples()
                    .iter()
                    .map(|m| (m.clone(), project.sample_path(m)))
                    .collect(),
                cache_root: tmp.join(format!("cache-{run}")),
            };
            runner
                .spawn("bench", move |ctx| generate(plan, ctx))
                .unwrap();
            loop {
                if let JobMsg::Finished { id, result } = rx.recv().unwrap() {
                    let set = result.unwrap();
                    assert_eq!(set.rows.len(), samples * 41);
                    runner.finished(id);
                    break;
                }
            }
        },
    );
    report(
        &format!("feature job, {samples} samples × 41 windows (+ PCA)"),
        t,
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

fn report(what: &str, best: Duration) {
    println!("{what:<52} {:>10.3} ms", best.as_secs_f64() * 1e3);
}
