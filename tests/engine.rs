//! The engine end to end: commands in, events out, through real jobs and the virtual board.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;

use common::expect;

use std::fs;
use std::path::Path;
use std::time::Duration;
use tinylab::devices::forwarder::StreamFormat;
use tinylab::engine::Engine;
use tinylab::project::DATASET_FILE;
use tinylab::project::sample::{SampleMeta, Split};
use tinylab::protocol::{Command, DeviceSpec, Event, JobOutcome, RecordRequest, SplitChoice};
use tinylab::sim::motion::Motion;

fn samples_after(engine: &Engine) -> Vec<SampleMeta> {
    expect(engine, "DatasetChanged", |e| match e {
        Event::DatasetChanged { samples, .. } => Some(samples),
        _ => None,
    })
}

fn new_project(engine: &Engine, dir: &Path) {
    engine
        .send(Command::CreateProject {
            dir: dir.to_owned(),
            lab: "motion".into(),
            demo: false,
        })
        .unwrap();
    expect(engine, "ProjectOpened", |e| {
        matches!(e, Event::ProjectOpened { .. }).then_some(())
    });
    assert!(samples_after(engine).is_empty());
}

#[test]
fn dataset_commands_edit_and_undo() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(Command::OpenDemoProject {
            dir: tmp.path().join("demo"),
        })
        .unwrap();
    let samples = samples_after(&engine);
    assert_eq!(
        samples.len(),
        16,
        "demo project: 4 samples of each of 4 motions"
    );
    let first = samples[0].clone();

    engine
        .send(Command::Relabel {
            ids: vec![first.id],
            label: "wobble".into(),
        })
        .unwrap();
    let (samples, undo) = expect(&engine, "relabel", |e| match e {
        Event::DatasetChanged { samples, undo } => Some((samples, undo)),
        _ => None,
    });
    assert_eq!(samples[0].label, "wobble");
    assert_eq!(undo.as_deref(), Some("relabel 1 sample"));

    engine
        .send(Command::SetSplit {
            ids: vec![first.id],
            split: Split::Test,
        })
        .unwrap();
    assert_eq!(samples_after(&engine)[0].split, Split::Test);

    engine
        .send(Command::Delete(vec![first.id, samples[1].id]))
        .unwrap();
    assert_eq!(samples_after(&engine).len(), 14);

    // Undo the delete, the move and the relabel, newest first.
    let mut restored = Vec::new();
    for _ in 0..3 {
        engine.send(Command::Undo).unwrap();
        restored = samples_after(&engine);
        assert_eq!(restored.len(), 16);
    }
    assert_eq!(restored[0], first, "every edit undone, in order");

    engine.send(Command::LoadSample(first.id)).unwrap();
    let series = expect(&engine, "SampleLoaded", |e| match e {
        Event::SampleLoaded { series, .. } => Some(series),
        _ => None,
    });
    assert_eq!(series.readings(), 500, "10 s at 50 Hz");
}

#[test]
fn bad_label_is_refused_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = Engine::start(|| {}).unwrap();
    new_project(&engine, &tmp.path().join("p"));
    engine
        .send(Command::Relabel {
            ids: vec![],
            label: "x".into(),
        })
        .unwrap();
    let text = expect(&engine, "notice", |e| match e {
        Event::Notice { text, .. } => Some(text),
        _ => None,
    });
    assert!(text.contains("select"), "{text}");
}

#[test]
fn import_job_reports_progress_and_cancel_stops_it() {
    let tmp = tempfile::tempdir().unwrap();
    let files_dir = tmp.path().join("files");
    fs::create_dir(&files_dir).unwrap();
    let mut rows = String::from("timestamp,accX,accY,accZ\n");
    for i in 0..500 {
        rows += &format!("{},0.1,0.2,9.8\n", i * 20);
    }
    for i in 0..40 {
        fs::write(files_dir.join(format!("idle.{i}.csv")), &rows).unwrap();
    }
    let dir = tmp.path().join("p");
    let engine = Engine::start(|| {}).unwrap();
    new_project(&engine, &dir);

    // A complete import: progress events, then Done, and the samples appear.
    engine
        .send(Command::Import {
            files: vec![files_dir.clone()],
            label: None,
            split: SplitChoice::Auto,
        })
        .unwrap();
    let mut progress = 0;
    let outcome = expect(&engine, "JobFinished", |e| match e {
        Event::JobProgress { .. } => {
            progress += 1;
            None
        }
        Event::JobFinished { outcome, .. } => Some(outcome),
        _ => None,
    });
    assert!(
        matches!(&outcome, JobOutcome::Done(text) if text.contains("40 samples (32 train, 8 test)")),
        "{outcome:?}"
    );
    assert!(progress >= 1, "no progress reported");

    // A cancelled import: stops, reports Cancelled, adds nothing.
    let index_before = fs::read(dir.join(DATASET_FILE)).unwrap();
    let many: Vec<_> = (0..400).map(|_| files_dir.clone()).collect();
    engine
        .send(Command::Import {
            files: many,
            label: None,
            split: SplitChoice::Auto,
        })
        .unwrap();
    let id = expect(&engine, "JobStarted", |e| match e {
        Event::JobStarted { id, .. } => Some(id),
        _ => None,
    });
    engine.send(Command::CancelJob(id)).unwrap();
    let outcome = expect(&engine, "JobFinished", |e| match e {
        Event::JobFinished { outcome, .. } => Some(outcome),
        _ => None,
    });
    assert_eq!(outcome, JobOutcome::Cancelled);
    assert_eq!(fs::read(dir.join(DATASET_FILE)).unwrap(), index_before);
}

#[test]
fn records_from_the_virtual_board_and_keeps_a_partial_recording() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let engine = Engine::start(|| {}).unwrap();
    new_project(&engine, &dir);
    engine
        .send(Command::Connect(DeviceSpec::VirtualBoard {
            rate_hz: 50.0,
            motion: Motion::Lift,
        }))
        .unwrap();
    let format = expect(&engine, "FormatDetected", |e| match e {
        Event::FormatDetected(format) => Some(format),
        _ => None,
    });
    assert_eq!(format.axes.len(), 3);
    assert!((format.rate_hz - 50.0).abs() <= 0.5, "{format:?}");

    engine
        .send(Command::StartRecording(RecordRequest {
            label: "lift".into(),
            seconds: 2.0,
            split: Split::Test,
        }))
        .unwrap();
    let meta = expect(&engine, "RecordingSaved", |e| match e {
        Event::RecordingSaved(meta) => Some(meta),
        _ => None,
    });
    assert_eq!(
        (meta.readings, meta.label.as_str(), meta.split),
        (100, "lift", Split::Test)
    );

    // Pull the virtual cable one second into a 10 s recording.
    engine
        .send(Command::StartRecording(RecordRequest {
            label: "idle".into(),
            seconds: 10.0,
            split: Split::Train,
        }))
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    engine.send(Command::UnplugVirtualBoard).unwrap();
    let readings = expect(&engine, "RecordingInterrupted", |e| match e {
        Event::RecordingInterrupted { readings, .. } => Some(readings),
        _ => None,
    });
    assert!(readings > 10 && readings < 500, "{readings}");
    engine.send(Command::KeepPartial(true)).unwrap();
    let kept = expect(&engine, "RecordingSaved", |e| match e {
        Event::RecordingSaved(meta) => Some(meta),
        _ => None,
    });
    assert_eq!(kept.readings, readings);
}

#[test]
fn a_format_set_by_hand_replaces_detection() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = Engine::start(|| {}).unwrap();
    new_project(&engine, &tmp.path().join("p"));
    let manual = StreamFormat {
        axes: vec!["x".into(), "y".into(), "z".into()],
        rate_hz: 25.0,
    };
    engine
        .send(Command::SetStreamFormat(Some(StreamFormat {
            axes: vec![],
            rate_hz: 25.0,
        })))
        .unwrap();
    let text = expect(&engine, "notice", |e| match e {
        Event::Notice { text, .. } => Some(text),
        _ => None,
    });
    assert!(text.contains("at least one axis"), "{text}");
    engine
        .send(Command::SetStreamFormat(Some(manual.clone())))
        .unwrap();
    engine
        .send(Command::Connect(DeviceSpec::VirtualBoard {
            rate_hz: 50.0,
            motion: Motion::Idle,
        }))
        .unwrap();
    let format = expect(&engine, "FormatDetected", |e| match e {
        Event::FormatDetected(format) => Some(format),
        _ => None,
    });
    assert_eq!(format, manual, "no detection: the user's format at once");
    engine
        .send(Command::StartRecording(RecordRequest {
            label: "idle".into(),
            seconds: 1.0,
            split: Split::Train,
        }))
        .unwrap();
    let meta = expect(&engine, "RecordingSaved", |e| match e {
        Event::RecordingSaved(meta) => Some(meta),
        _ => None,
    });
    assert_eq!(
        (meta.readings, meta.rate_hz, meta.axes.clone()),
        (25, 25.0, manual.axes)
    );
}
