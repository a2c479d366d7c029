//! Training and evaluation end to end, headless: the demo motion project trains through the
//! engine with an epoch event per epoch, saves a run, evaluates it with an anomaly score per
//! sample, and the `train` / `eval` commands do the same from the command line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;

use common::{expect, tinylab};
use std::path::Path;
use std::sync::Arc;
use tinylab::engine::{Engine, create_demo_project};
use tinylab::project::runs::{self, DataSet};
use tinylab::project::sample::Split;
use tinylab::project::{NewSample, Project};
use tinylab::protocol::{Command, Event, JobOutcome, RunEvaluation};

/// The demo project (16 synthesized 10 s samples of the four motions), open in an engine.
fn demo(dir: &Path) -> Engine {
    create_demo_project(dir).unwrap();
    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(Command::OpenProject {
            dir: dir.to_owned(),
        })
        .unwrap();
    expect(&engine, "the project", |e| {
        matches!(e, Event::ProjectOpened { .. }).then_some(())
    });
    engine
}

/// Trains; returns the number of epoch reports seen and the evaluation sent after training.
fn train(engine: &Engine, epochs: usize, seed: u64) -> (usize, Arc<RunEvaluation>) {
    engine
        .send(Command::Train {
            epochs: Some(epochs),
            seed: Some(seed),
        })
        .unwrap();
    let mut seen = 0;
    let mut evaluation = None;
    expect(engine, "training to finish", |e| match e {
        Event::TrainingEpoch { .. } => {
            seen += 1;
            None
        }
        Event::Evaluated(e) => {
            evaluation = Some(e);
            None
        }
        Event::JobFinished {
            outcome: JobOutcome::Done(text),
            ..
        } if text.contains("trained") => Some(()),
        _ => None,
    });
    assert_eq!(seen, epochs);
    (seen, evaluation.expect("an evaluation after training"))
}

#[test]
fn the_demo_project_trains_and_evaluates_with_anomaly_scores() {
    let dir = tempfile::tempdir().unwrap();
    let engine = demo(dir.path());
    let (_, evaluation) = train(&engine, 30, 7);
    let run = runs::load(dir.path(), None).unwrap();
    let epochs = &run.record.history;
    assert!(epochs.windows(2).all(|w| w[1].epoch == w[0].epoch + 1));
    let last = epochs.last().unwrap();
    assert!(last.val_accuracy.is_some(), "20 % of train is held out");
    assert!(last.train_loss < epochs[0].train_loss, "the loss goes down");

    assert_eq!(evaluation.set, DataSet::Test);
    assert_eq!(
        evaluation.labels,
        ["idle", "lift", "maritime", "terrestrial"]
    );
    assert!(
        evaluation.metrics.accuracy > 0.9,
        "the four synthetic motions are easy to tell apart: {}",
        evaluation.metrics.accuracy
    );
    assert!(evaluation.has_anomaly);
    assert_eq!(evaluation.samples.len(), 4, "one test sample per class");
    assert!(evaluation.samples.iter().all(|s| s.max_anomaly.is_some()));

    assert_eq!(run.record.id, "run-001");
    assert_eq!(run.record.history.len(), 30);
    assert!(run.anomaly.is_some());
    let windows = run.record.predictions.len();
    assert!(windows > 600, "16 samples × 41 windows: {windows}");
}

#[test]
fn the_same_seed_trains_the_same_curves() {
    let dir = tempfile::tempdir().unwrap();
    let engine = demo(dir.path());
    train(&engine, 5, 3);
    train(&engine, 5, 3);
    let a = runs::load(dir.path(), Some("run-001")).unwrap();
    let b = runs::load(dir.path(), Some("run-002")).unwrap();
    let losses = |r: &runs::StoredRun| -> Vec<f32> {
        r.record.history.iter().map(|e| e.train_loss).collect()
    };
    assert_eq!(losses(&a), losses(&b));
    assert_eq!(a.model, b.model, "bit-identical weights");
    let c = {
        train(&engine, 5, 4);
        runs::load(dir.path(), Some("run-003")).unwrap()
    };
    assert_ne!(a.model, c.model, "another seed, other weights");
}

#[test]
fn cancelling_keeps_the_finished_epochs_as_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let engine = demo(dir.path());
    engine
        .send(Command::Train {
            epochs: Some(100_000),
            seed: None,
        })
        .unwrap();
    let job = expect(&engine, "the job", |e| match e {
        Event::JobStarted { id, .. } => Some(id),
        _ => None,
    });
    expect(&engine, "a first epoch", |e| {
        matches!(e, Event::TrainingEpoch { .. }).then_some(())
    });
    engine.send(Command::CancelJob(job)).unwrap();
    let text = expect(&engine, "the end of the job", |e| match e {
        Event::JobFinished { outcome, .. } => Some(outcome),
        _ => None,
    });
    let JobOutcome::Done(text) = text else {
        panic!("a run with finished epochs is kept: {text:?}");
    };
    assert!(text.contains("cancelled after"), "{text}");
    let run = runs::load(dir.path(), None).unwrap();
    assert!(!run.record.history.is_empty() && run.record.history.len() < 100_000);
}

#[test]
fn an_upside_down_board_scores_as_an_anomaly() {
    let dir = tempfile::tempdir().unwrap();
    let engine = demo(dir.path());
    // The book's anomaly: the kit rolling upside down — gravity on −z and a slow roll on x/y.
    let mut project = Project::open(dir.path()).unwrap();
    let rate_hz = 50.0;
    let values: Vec<f32> = (0..500)
        .flat_map(|i| {
            let t = i as f32 / rate_hz as f32;
            let roll = (t * 1.3).sin() * 9.0;
            [roll, (t * 0.7).cos() * 9.0, -9.8 + roll * 0.2]
        })
        .collect();
    project
        .add_many(vec![NewSample {
            series: tinylab::project::sample::Series {
                axes: vec!["accX".into(), "accY".into(), "accZ".into()],
                rate_hz,
                values,
            },
            label: "idle".into(),
            split: Split::Test,
            source: "test:upside-down".into(),
            image: None,
            boxes: Vec::new(),
        }])
        .unwrap();
    drop(project);
    engine
        .send(Command::OpenProject {
            dir: dir.path().to_owned(),
        })
        .unwrap();
    let (_, evaluation) = train(&engine, 20, 1);
    let mut scores: Vec<(String, f32)> = evaluation
        .samples
        .iter()
        .map(|s| (s.sample.to_string(), s.max_anomaly.unwrap()))
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (worst, score) = &scores[0];
    assert_eq!(
        worst, "s00017",
        "the upside-down sample scores highest: {scores:?}"
    );
    assert!(*score > 1.0, "far outside every cluster: {score}");
    assert!(
        scores[1..].iter().all(|(_, s)| *s < *score / 2.0),
        "normal samples score much lower: {scores:?}"
    );
}

#[test]
fn evaluating_without_a_run_says_to_train_first() {
    let dir = tempfile::tempdir().unwrap();
    let engine = demo(dir.path());
    engine.send(Command::Evaluate { run: None }).unwrap();
    let why = common::expect_job_failure(&engine);
    assert!(
        why.contains("no training run yet") && why.contains("Train"),
        "{why}"
    );
}

#[test]
fn cli_train_prints_each_epoch_and_eval_prints_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    create_demo_project(dir.path()).unwrap();
    let path = dir.path().to_str().unwrap();
    let out = tinylab(&["train", path, "--epochs", "12", "--seed", "5"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let epochs = stdout.lines().filter(|l| l.starts_with("epoch")).count();
    assert_eq!(epochs, 12, "{stdout}");
    assert!(stdout.contains("run-001 trained"), "{stdout}");

    let out = tinylab(&["eval", path, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["run"], "run-001");
    assert_eq!(json["labels"].as_array().unwrap().len(), 4);
    assert_eq!(json["confusion_matrix"].as_array().unwrap().len(), 4);
    let accuracy = json["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    for label in ["idle", "lift", "maritime", "terrestrial"] {
        let class = &json["per_class"][label];
        for key in ["precision", "recall", "f1"] {
            assert!(class[key].is_number(), "{label}.{key} in {json}");
        }
    }

    let out = tinylab(&["eval", path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("true \\ predicted") && text.contains("precision"),
        "{text}"
    );
    // `tinylab classify` on a 10 s recording of the sensor project: 41 windows of 2 s every
    // 200 ms, each with its probabilities and anomaly score, then the detections.
    let sample = dir.path().join("samples").join("s00005.csv");
    let out = tinylab(&["classify", path, sample.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let windows: Vec<&str> = text.lines().filter(|l| l.contains(" s  ")).collect();
    assert_eq!(windows.len(), 41, "{text}");
    assert!(windows[1].trim_start().starts_with("0.20 s  "), "{text}");
    assert!(windows.iter().all(|l| l.contains("anomaly")), "{text}");
    assert!(
        text.contains("mean of the last 10 windows above 0.6"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("detected: ")), "{text}");
}

#[test]
fn a_damaged_run_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    create_demo_project(dir.path()).unwrap();
    let path = dir.path().to_str().unwrap();
    assert!(tinylab(&["train", path, "--epochs", "1"]).status.success());
    std::fs::write(dir.path().join("runs/run-001/model.json"), "{ not json").unwrap();
    let out = tinylab(&["eval", path]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model.json") && stderr.contains("damaged"),
        "{stderr}"
    );
}
