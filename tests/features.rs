//! Feature generation end to end: the engine job over the motion demo project (cached on the
//! second run), block steps for the Features panel, and the `tinylab features` / `tinylab dsp` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;

use common::expect;

use std::process::Command as Process;
use std::sync::Arc;
use tinylab::dsp::block::{BlockSteps, DspSettings};
use tinylab::engine::Engine;
use tinylab::protocol::{Command, Event, FeatureSummary};

fn generate(engine: &Engine) -> Arc<FeatureSummary> {
    engine.send(Command::GenerateFeatures).unwrap();
    expect(engine, "FeaturesGenerated", |e| match e {
        Event::FeaturesGenerated(summary) => Some(summary),
        _ => None,
    })
}

#[test]
fn motion_demo_features_are_63_per_window_and_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(Command::OpenDemoProject {
            dir: tmp.path().join("demo"),
        })
        .unwrap();
    expect(&engine, "the demo project", |e| {
        matches!(e, Event::DatasetChanged { .. }).then_some(())
    });

    let first = generate(&engine);
    assert_eq!(first.shape, [63], "the book's 63 spectral features");
    assert_eq!(first.names.len(), 63);
    assert_eq!(first.names[0], "accX RMS");
    // 10 s samples at 50 Hz, 2 s windows every 200 ms: (500 - 100) / 10 + 1 = 41 windows each.
    assert_eq!((first.samples, first.windows), (16, 16 * 41));
    assert_eq!(first.points.len(), first.windows);
    assert_eq!(first.from_cache, 0);
    let [a, b] = first.explained_variance_ratio;
    assert!(a >= b && a + b <= 1.0 + 1e-9 && a > 0.2, "{a} {b}");

    let second = generate(&engine);
    assert_eq!(
        second.from_cache, 16,
        "nothing changed: every sample from the cache"
    );
    assert_eq!(second.points, first.points);

    // New settings invalidate the cache and change the shape.
    let mut dsp = DspSettings::default_for("spectral").unwrap();
    dsp.set("fft_length", "64").unwrap();
    dsp.set("do_fft_overlap", "false").unwrap();
    engine.send(Command::SetDsp(dsp)).unwrap();
    expect(&engine, "ProjectSettings", |e| {
        matches!(e, Event::ProjectSettings(_)).then_some(())
    });
    let third = generate(&engine);
    assert_eq!(
        (third.from_cache, third.shape.clone()),
        (0, vec![3 * (5 + 32)])
    );

    let sample = first.points[0].sample;
    engine
        .send(Command::PreviewSteps {
            sample,
            window: 1000,
        })
        .unwrap();
    let (window, windows, steps) = expect(&engine, "StepsReady", |e| match e {
        Event::StepsReady {
            window,
            windows,
            steps,
            ..
        } => Some((window, windows, steps)),
        _ => None,
    });
    assert_eq!(
        (window, windows),
        (40, 41),
        "the window index is clamped to the last"
    );
    let BlockSteps::Spectral(steps) = steps.as_ref() else {
        panic!("spectral steps")
    };
    assert_eq!(steps.axes.len(), 3);
    assert_eq!(steps.axes[0].filtered.len(), 100);
}

fn tinylab(args: &[&str]) -> std::process::Output {
    Process::new(env!("CARGO_BIN_EXE_tinylab"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_features_and_dsp() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let dir_s = dir.to_str().unwrap();
    assert!(tinylab(&["new", dir_s]).status.success());
    // A 3 s, 50 Hz recording as CSV with timestamps, imported, then featurised.
    let mut csv = String::from("timestamp,accX,accY,accZ\n");
    for i in 0..150 {
        let t = i as f64 / 50.0;
        csv += &format!(
            "{},{:.3},{:.3},{:.3}\n",
            i * 20,
            (t * 5.0).sin(),
            (t * 13.0).cos(),
            9.81 + (t * 2.0).sin()
        );
    }
    let file = tmp.path().join("lift.1.csv");
    std::fs::write(&file, &csv).unwrap();
    assert!(
        tinylab(&["import", dir_s, file.to_str().unwrap()])
            .status
            .success()
    );
    let out = tinylab(&["features", dir_s, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["shape"], serde_json::json!([63]));
    assert_eq!(summary["windows"], 6, "(150 - 100) / 10 + 1");

    let out = tinylab(&[
        "dsp",
        "spectral",
        file.to_str().unwrap(),
        "--set",
        "fft_length=32",
        "--set",
        "do_fft_overlap=false",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let features: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(features["shape"], serde_json::json!([63]));
    assert_eq!(features["names"][0], "accX RMS");

    let out = tinylab(&[
        "dsp",
        "spectral",
        file.to_str().unwrap(),
        "--set",
        "fft_lenght=32",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fft_length"),
        "an unknown key lists the real ones"
    );

    // MFCC of a real one-second keyword at the KWS lab's settings: 49 × 13.
    let wav = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/tflm-models/yes_1000ms.wav"
    );
    if std::path::Path::new(wav).exists() {
        let sets = [
            "frame_length=0.025",
            "frame_stride=0.02",
            "fft_length=512",
            "win_size=151",
            "low_frequency=80",
        ];
        let mut args = vec!["dsp", "mfcc", wav, "--json"];
        for set in &sets {
            args.extend(["--set", set]);
        }
        let out = tinylab(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let features: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(features["shape"], serde_json::json!([49, 13]));
    }
}
