//! The window on an audio project, through egui_kittest: the Capture panel's microphone chooser,
//! level meter, clipping warning and 3-2-1 countdown; the Dataset panel's waveform and Play button
//! (which says why it cannot play where there is no sound output).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;
#[path = "common/ui.rs"]
mod ui_common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};
use tinylab::dsp::audio::Level;
use tinylab::labs;
use tinylab::project::Project;
use tinylab::protocol::{Event, SplitChoice};
use tinylab::ui::tab::Tab;
use tinylab::ui::{Startup, TinyLabApp};
use ui_common::{harness, step_until};

fn harness_on_kws_project(dir: &std::path::Path) -> Harness<'static, TinyLabApp> {
    Project::create(dir, &labs::lab("kws").unwrap()).unwrap();
    let mut harness = harness(Startup::Project(dir.to_owned()));
    step_until(&mut harness, "the project", |app| {
        app.view.project.is_some()
    });
    harness
}

#[test]
fn capture_panel_offers_the_microphone_meter_and_a_countdown() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = harness_on_kws_project(&tmp.path().join("kws"));
    harness.get_by_label(Tab::Capture.title()).click();
    harness.step();
    harness.step();
    // The chooser is labelled, and the microphone list was asked for.
    harness.get_by_label("Input");
    harness.get_by_label("Refresh microphones");
    harness.get_by_label("Connect microphone");
    assert!(
        harness
            .query_by_label_contains("Level: no signal")
            .is_some()
    );
    assert!(harness.state().forms.audio.asked);

    // A loud, clipping level as the engine reports it.
    let mut level = Level::of(&[0.2, -1.0, 0.5]);
    level.clipped = 1;
    harness.state_mut().view.apply(Event::AudioLevel {
        level,
        lost_frames: 0,
    });
    harness.step();
    assert!(harness.query_by_label_contains("Clipping").is_some());
    assert!(harness.query_by_label_contains("dBFS peak").is_some());

    // With a device connected, Start recording counts down 3-2-1 before it records.
    harness.state_mut().view.apply(Event::DeviceConnected {
        name: "test microphone".into(),
        is_virtual: false,
    });
    harness.state_mut().view.apply(Event::FormatDetected(
        tinylab::devices::forwarder::StreamFormat {
            axes: vec!["audio".into()],
            rate_hz: 16_000.0,
        },
    ));
    harness.state_mut().view.apply(Event::AudioSpectrum {
        columns: vec![vec![60.0; 257]; 10],
        max_hz: 8_000.0,
    });
    harness.state_mut().state.record_label = "yes".into();
    harness.step();
    assert!(
        harness
            .query_by_label_contains("Spectrogram (last 5 s, 0 to 8000 Hz)")
            .is_some()
    );
    assert_eq!(harness.state().view.audio.spectrum.len(), 10);
    harness.step();
    harness.get_by_label("Start recording").click();
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label_contains("Recording \"yes\" in 3")
            .is_some()
    );
    assert!(
        harness.state().view.recording.is_none(),
        "nothing recorded yet"
    );
    harness.get_by_label("Cancel countdown").click();
    harness.step();
    harness.step();
    harness.step();
    assert!(harness.state().forms.audio.countdown.is_none());
    assert!(
        harness
            .query_by_label_contains("Recording \"yes\" in")
            .is_none()
    );

    harness.get_by_label("Start recording").click();
    harness.step();
    let started = Instant::now();
    step_until(&mut harness, "the countdown to end", |app| {
        app.forms.audio.countdown.is_none()
    });
    assert!(
        started.elapsed() >= Duration::from_millis(2_900),
        "three seconds"
    );
    assert!(
        harness.state().view.recording.is_some(),
        "the recording was requested when the countdown ended"
    );
}

#[test]
fn dataset_panel_shows_the_waveform_and_plays_or_says_why_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kws");
    let mut harness = harness_on_kws_project(&dir);
    let wav = tmp.path().join("yes.1.wav");
    common::write_tone_wav(&wav, 48_000, 1, 16, false, 1.0);
    harness
        .state_mut()
        .send(tinylab::protocol::Command::Import {
            files: vec![wav],
            label: None,
            split: SplitChoice::Auto,
        });
    step_until(&mut harness, "the imported sample", |app| {
        app.view.samples.len() == 1
    });
    harness.get_by_label(Tab::Dataset.title()).click();
    harness.step();
    harness.get_by_label("Import WAV files…");
    harness.get_by_label("Import folder of labels…");
    let id = harness.state().view.samples[0].id;
    harness.get_by_label(&id.to_string()).click();
    step_until(&mut harness, "the sample's data", |app| {
        app.view.loaded.as_ref().is_some_and(|(l, _)| *l == id)
    });
    assert!(
        harness
            .query_by_label_contains("16000 readings at 16000 Hz")
            .is_some(),
        "resampled from 48 kHz on import"
    );
    harness.get_by_label("Play").click();
    step_until(&mut harness, "playback or an error", |app| {
        app.view.audio.playback.is_some()
            || app
                .view
                .notices
                .iter()
                .any(|n| n.text.contains("cannot play"))
    });
    if harness.state().view.audio.playback.is_some() {
        harness.get_by_label("Stop").click();
        step_until(&mut harness, "playback to stop", |app| {
            app.view.audio.playback.is_none()
        });
    } else {
        let text = harness
            .state()
            .view
            .notices
            .iter()
            .map(|n| n.text.clone())
            .find(|t| t.contains("cannot play"))
            .unwrap();
        assert!(
            text.contains("no sound output") || text.contains("could not use"),
            "{text}"
        );
    }
}
