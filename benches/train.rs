//! Training speed of the KWS Conv1D and motion DNN presets, against Keras (README, "Speed").
//!
//! `cargo bench --bench train` builds both models from the shipped presets, trains them with
//! `nn::train` on 2,000 synthetic rows (batch 32, no validation split, 10 and 30 epochs, the
//! presets' learning rates), once with `shards = 1` (one thread) and once with `shards = 2` (the
//! default: the second half of each batch on a helper thread when it has enough work, which the
//! KWS model has and the motion DNN has not), and prints training samples/s (rows × epochs ÷ the
//! wall time of the whole `train` call, best of runs) and the accuracy of the trained model on
//! the training rows and on 500 held-out rows. Also:
//!
//! - `cargo bench --bench train -- --write-data DIR` only writes the data for
//!   `benches/reference/keras_train.py` (raw little-endian `f32` rows and `u8` labels);
//! - `cargo bench --bench train -- --keras DIR/keras-results.json` adds the ratio to the figures
//!   that script wrote.
//!
//! `--models kws` (or `motion`) runs one case only.
//!
//! Run without `--bench` (as `cargo test --benches` would), it trains each case for one epoch
//! on 200 rows, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a bench may panic

#[path = "common/mod.rs"]
mod common;

use common::best_of;
use std::f64::consts::PI;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tinylab::nn::Model;
use tinylab::nn::spec::Preset;
use tinylab::nn::train::{Dataset, TrainConfig, TrainOutcome, predict, train};
use tinylab::rng::Rng;

const CLASSES: usize = 4;
const TRAIN_ROWS: usize = 2000;
const VAL_ROWS: usize = 500;

/// One benchmark problem: a preset and its synthetic data.
struct Case {
    /// File prefix and the name the Keras script reports.
    name: &'static str,
    preset: &'static str,
    features: usize,
    epochs: usize,
    /// Row generator: `(seed, rows) -> (values, labels)`.
    rows: fn(u64, usize) -> (Vec<f32>, Vec<u8>),
    /// Seeds of the training and the held-out rows.
    seeds: (u64, u64),
}

const CASES: [Case; 2] = [
    Case {
        name: "kws",
        preset: include_str!("../models/kws-conv1d.toml"),
        features: 49 * 13,
        epochs: 10,
        rows: kws_rows,
        seeds: (1, 2),
    },
    Case {
        name: "motion",
        preset: include_str!("../models/motion-dnn.toml"),
        features: 63,
        epochs: 30,
        rows: motion_rows,
        seeds: (3, 4),
    },
];

/// KWS-like MFCC rows, 49 frames × 13 coefficients (row-major, frame first), 4 balanced classes
/// (`class = row % 4`). Each row draws, in this order from one `Rng` for the whole set: a time
/// shift `below(13) − 6` frames, an amplitude `range(0.6, 1.4)`, then one Gaussian per value in
/// row-major order. A value is
/// `amplitude · envelope(t − shift) · cos(π · k · (f + 0.5) / 13) + gaussian`, where classes 0
/// and 1 have `k = 2`, classes 2 and 3 `k = 3` (two spectral shapes), and even classes have one
/// "syllable" `exp(−(t − 24)² / (2 · 5²))`, odd classes two, `exp(−(t − 16)² / 18) + exp(−(t −
/// 32)² / 18)`. Keras reaches about 92 % on held-out rows after 10 epochs: learnable, not trivial.
fn kws_rows(seed: u64, rows: usize) -> (Vec<f32>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut values = Vec::with_capacity(rows * 49 * 13);
    let mut labels = Vec::with_capacity(rows);
    for i in 0..rows {
        let class = i % CLASSES;
        let shift = rng.below(13) as f64 - 6.0;
        let amplitude = rng.range((0.6, 1.4));
        let k = if class < 2 { 2.0 } else { 3.0 };
        let bump = |t: f64, centre: f64, width: f64| {
            (-(t - centre - shift).powi(2) / (2.0 * width * width)).exp()
        };
        for t in 0..49 {
            let t = f64::from(t);
            let envelope = if class.is_multiple_of(2) {
                bump(t, 24.0, 5.0)
            } else {
                bump(t, 16.0, 3.0) + bump(t, 32.0, 3.0)
            };
            for f in 0..13 {
                let tone = (PI * k * (f64::from(f) + 0.5) / 13.0).cos();
                values.push((amplitude * envelope * tone + rng.next_gaussian()) as f32);
            }
        }
        labels.push(class as u8);
    }
    (values, labels)
}

/// Motion-feature-like rows of 63 values, 4 balanced classes (`class = row % 4`): each row draws
/// an amplitude `range(0.5, 1.5)`, then 63 Gaussians; value `j` is
/// `amplitude · sin(0.37 · (j + 1) · (class + 1)) + 2 · gaussian`. Keras reaches about 86 % on
/// held-out rows after 30 epochs (and about 95 % on its training rows).
fn motion_rows(seed: u64, rows: usize) -> (Vec<f32>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut values = Vec::with_capacity(rows * 63);
    let mut labels = Vec::with_capacity(rows);
    for i in 0..rows {
        let class = i % CLASSES;
        let amplitude = rng.range((0.5, 1.5));
        for j in 0..63 {
            let pattern = (0.37 * f64::from(j + 1) * (class + 1) as f64).sin();
            values.push((amplitude * pattern + 2.0 * rng.next_gaussian()) as f32);
        }
        labels.push(class as u8);
    }
    (values, labels)
}

/// Writes `NAME-{train,val}.{f32,u8}` for every case into `dir`.
fn write_data(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for case in &CASES {
        for (split, seed, rows) in [
            ("train", case.seeds.0, TRAIN_ROWS),
            ("val", case.seeds.1, VAL_ROWS),
        ] {
            let (values, labels) = (case.rows)(seed, rows);
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(dir.join(format!("{}-{split}.f32", case.name)), bytes).unwrap();
            std::fs::write(dir.join(format!("{}-{split}.u8", case.name)), labels).unwrap();
        }
    }
    println!(
        "wrote {} × {TRAIN_ROWS} training and {VAL_ROWS} held-out rows to {}",
        CASES.len(),
        dir.display()
    );
}

/// Share of rows whose most probable class is the label.
fn accuracy(model: &Model, values: &[f32], features: usize, labels: &[usize]) -> f64 {
    let probs = predict(model, values, &[features], 256).unwrap();
    let right = probs
        .outer_iter()
        .zip(labels)
        .filter(|(p, label)| {
            let best = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            best == Some(**label)
        })
        .count();
    right as f64 / labels.len() as f64
}

/// Keras's best samples/s for `model` with `threads`, from `keras_train.py`'s JSON.
fn keras_figure(results: &[serde_json::Value], model: &str, threads: u64) -> Option<f64> {
    results
        .iter()
        .find(|r| r["model"] == model && r["threads"] == threads)
        .and_then(|r| r["samples_per_s"].as_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    if let Some(dir) = value_of("--write-data") {
        write_data(&dir);
        return;
    }
    let keras: Vec<serde_json::Value> = value_of("--keras")
        .map(|path| serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
        .unwrap_or_default();
    let (full, _) = common::mode();
    // Each configuration trains again until this budget is spent (at least once); the results
    // are bit-identical run to run, only the time varies.
    let budget = if full {
        Duration::from_secs(8)
    } else {
        Duration::ZERO
    };
    let (train_rows, val_rows) = if full {
        (TRAIN_ROWS, VAL_ROWS)
    } else {
        (200, 100)
    };

    println!(
        "{:<7} {:>7} {:>6} {:>10} {:>10} {:>10} {:>5} {:>9} {:>9} {:>8} {:>9}",
        "model",
        "shards",
        "epochs",
        "samples/s",
        "epochs 2+",
        "median",
        "runs",
        "fit acc",
        "train acc",
        "val acc",
        "× Keras"
    );
    let only = value_of("--models").map(|p| p.display().to_string());
    for case in CASES.iter().filter(|c| {
        only.as_ref()
            .is_none_or(|o| o.split(',').any(|m| m == c.name))
    }) {
        let preset = Preset::parse(case.preset).unwrap();
        let (x, y) = (case.rows)(case.seeds.0, train_rows);
        let (xv, yv) = (case.rows)(case.seeds.1, val_rows);
        let y: Vec<usize> = y.into_iter().map(usize::from).collect();
        let yv: Vec<usize> = yv.into_iter().map(usize::from).collect();
        let data = Dataset {
            inputs: &x,
            sample_shape: vec![case.features],
            labels: &y,
            classes: CLASSES,
            cell_labels: None,
        };
        let epochs = if full { case.epochs } else { 1 };
        for shards in [1, 2] {
            let config = TrainConfig {
                epochs,
                batch_size: 32,
                validation_share: 0.0,
                shards,
                ..TrainConfig::from_table(&preset.training).unwrap()
            };
            let mut outcome: Option<TrainOutcome> = None;
            // Samples/s over epochs 2..N of each run, the figure the Keras script reports (it
            // leaves out its first epoch, which traces the graph).
            let mut steady = 0.0f64;
            // Samples/s of every run (timed inside `train`), for the median.
            let mut rates = Vec::new();
            let best = best_of(budget, || {
                let model =
                    Model::classifier(&[case.features], &preset.layers, CLASSES, 0).unwrap();
                let trained = train(model, &data, &config, |_| ControlFlow::Continue(())).unwrap();
                if let (Some(first), Some(last)) = (trained.history.first(), trained.history.last())
                    && last.epoch > first.epoch
                {
                    let rows = train_rows * (last.epoch - first.epoch);
                    steady = steady.max(rows as f64 / (last.elapsed_s - first.elapsed_s));
                }
                if let Some(last) = trained.history.last() {
                    rates.push((train_rows * last.epoch) as f64 / last.elapsed_s);
                }
                outcome = Some(trained);
            });
            let outcome = outcome.unwrap();
            let rate = (train_rows * epochs) as f64 / best.as_secs_f64();
            rates.sort_by(f64::total_cmp);
            let median = rates.get(rates.len() / 2).copied().unwrap_or(rate);
            let ratio = keras_figure(&keras, case.name, shards as u64)
                .map_or_else(|| "–".to_string(), |k| format!("{:.1}×", rate / k));
            println!(
                "{:<7} {:>7} {:>6} {:>10.0} {:>10.0} {:>10.0} {:>5} {:>9.3} {:>9.3} {:>8.3} {:>9}",
                case.name,
                shards,
                epochs,
                rate,
                if steady > 0.0 { steady } else { rate },
                median,
                rates.len(),
                outcome.history.last().map_or(0.0, |h| h.train_accuracy),
                accuracy(&outcome.model, &x, case.features, &y),
                accuracy(&outcome.model, &xv, case.features, &yv),
                ratio
            );
        }
    }
    println!(
        "samples/s: training rows × epochs ÷ wall time of the whole train call, best of runs; \
         epochs 2+: the same over epochs 2..N (what the Keras script reports); median: of all \
         runs (whole call); shards: parts of \
         each batch, the second on a helper thread when a part has enough work (KWS yes, the \
         motion DNN no: it stays on one thread); fit acc: running accuracy over the last epoch \
         (dropout on); train/val acc: the trained model on the {train_rows} training and \
         {val_rows} held-out rows; × Keras: samples/s over Keras's epochs-2..N samples/s with as \
         many threads as shards"
    );
}
