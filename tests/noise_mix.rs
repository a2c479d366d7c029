//! Background-noise mixing (the KWS lab's audio augmentation) through the engine: noisy copies
//! at the chosen signal-to-noise ratio, never of the noise itself, undone in one step, and a
//! clear error without noise recordings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;

use common::expect;
use tinylab::engine::Engine;
use tinylab::labs;
use tinylab::project::sample::{SampleMeta, Series, Split};
use tinylab::project::{NewSample, Project};
use tinylab::protocol::{Command, Event, JobOutcome};
use tinylab::rng::Rng;

fn clip(label: &str, values: Vec<f32>) -> NewSample {
    NewSample {
        series: Series {
            axes: vec!["audio".into()],
            rate_hz: 16_000.0,
            values,
        },
        label: label.into(),
        split: Split::Train,
        source: "test".into(),
        image: None,
        boxes: Vec::new(),
    }
}

fn rms(values: &[f32]) -> f64 {
    (values.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

fn samples(engine: &Engine) -> Vec<SampleMeta> {
    expect(engine, "the dataset", |e| match e {
        Event::DatasetChanged { samples, .. } => Some(samples),
        _ => None,
    })
}

#[test]
fn noisy_copies_have_the_chosen_snr_and_undo_in_one_step() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kws");
    let mut project = Project::create(&dir, &labs::lab("kws").unwrap()).unwrap();
    let tone = |hz: f32| -> Vec<f32> {
        (0..16_000)
            .map(|i| 8000.0 * (std::f32::consts::TAU * hz * i as f32 / 16_000.0).sin())
            .collect()
    };
    let mut rng = Rng::new(9);
    let noise: Vec<f32> = (0..24_000)
        .map(|_| 1500.0 * rng.next_gaussian() as f32)
        .collect();
    project
        .add_many(vec![
            clip("yes", tone(440.0)),
            clip("no", tone(300.0)),
            clip("noise", noise),
        ])
        .unwrap();
    drop(project);

    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(Command::OpenProject { dir: dir.clone() })
        .unwrap();
    assert_eq!(samples(&engine).len(), 3);
    engine
        .send(Command::MixNoise {
            noise_label: "noise".into(),
            snr_db: 10.0,
            copies: 2,
        })
        .unwrap();
    let after = samples(&engine);
    assert_eq!(
        after.len(),
        3 + 4,
        "two copies of yes and of no, none of the noise"
    );
    let project = Project::open(&dir).unwrap();
    for meta in &after[3..] {
        assert!(meta.source.starts_with("augment:noise"), "{}", meta.source);
        assert_ne!(meta.label, "noise");
        let original = &after[if meta.label == "yes" { 0 } else { 1 }];
        let clean = project.load_series(original.id).unwrap().values;
        let noisy = project.load_series(meta.id).unwrap().values;
        assert_eq!(noisy.len(), clean.len());
        let added: Vec<f32> = noisy.iter().zip(&clean).map(|(n, c)| n - c).collect();
        let snr_db = 20.0 * (rms(&clean) / rms(&added)).log10();
        assert!((snr_db - 10.0).abs() < 0.1, "SNR {snr_db} dB");
    }
    let outcome = expect(&engine, "the job's end", |e| match e {
        Event::JobFinished { outcome, .. } => Some(outcome),
        _ => None,
    });
    assert!(matches!(outcome, JobOutcome::Done(_)));

    // Mixing again copies only the original recordings, not the noisy copies.
    engine
        .send(Command::MixNoise {
            noise_label: "noise".into(),
            snr_db: 5.0,
            copies: 1,
        })
        .unwrap();
    assert_eq!(samples(&engine).len(), 7 + 2);
    engine.send(Command::Undo).unwrap();
    assert_eq!(samples(&engine).len(), 7, "one undo removes one mix");
}

#[test]
fn mixing_without_noise_recordings_says_what_to_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kws");
    let mut project = Project::create(&dir, &labs::lab("kws").unwrap()).unwrap();
    project
        .add_many(vec![clip("yes", vec![100.0; 16_000])])
        .unwrap();
    drop(project);
    let engine = Engine::start(|| {}).unwrap();
    engine.send(Command::OpenProject { dir }).unwrap();
    samples(&engine);
    engine
        .send(Command::MixNoise {
            noise_label: "noise".into(),
            snr_db: 10.0,
            copies: 1,
        })
        .unwrap();
    let why = common::expect_job_failure(&engine);
    assert!(
        why.contains("\"noise\"") && why.contains("record or import"),
        "{why}"
    );
}
