//! The Evaluate panel's live classification section, driven through egui_kittest: the motion
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking
//! demo trained from the command line, one of its recordings played as a stream from the section's
//! "Stream file" field, a moving bar per class, the detected label, the latencies and the
//! anomaly score shown, then Stop.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::process::Command;
use std::time::{Duration, Instant};
use tinylab::ui::state::UiState;
use tinylab::ui::tab::Tab;
use tinylab::ui::{Startup, TinyLabApp};

fn step_until(
    harness: &mut Harness<'static, TinyLabApp>,
    what: &str,
    done: impl Fn(&TinyLabApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(harness.state()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; notices: {:?}; path {:?}; device {:?}",
            harness.state().view.notices,
            harness.state().forms.live.stream_path,
            harness.state().view.device.name,
        );
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.step();
}

#[test]
fn live_classification_of_a_streamed_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let d = dir.to_str().unwrap();
    for args in [vec!["new", d, "--demo"], vec!["train", d, "--epochs", "10"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_tinylab"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ctx = egui::Context::default();
    let app = TinyLabApp::new(&ctx, UiState::default(), Startup::Project(dir.clone())).unwrap();
    let mut harness = Harness::builder()
        .with_size([1280.0, 900.0])
        .build_ui_state(|ui, app: &mut TinyLabApp| app.ui_frame(ui), app);
    step_until(&mut harness, "the run", |app| app.view.evaluation.is_some());
    harness.get_by_label("Evaluate").click();
    harness.step();
    assert_eq!(harness.state().state.tab, Tab::Evaluate);
    // A 10 s "lift" recording of the demo (samples 5-8 are lift), played as a stream.
    let lift = harness
        .state()
        .view
        .samples
        .iter()
        .find(|s| s.label == "lift")
        .unwrap()
        .file
        .clone();
    let file = dir.join("samples").join(lift);
    harness.get_by_label("file").focus();
    harness.step();
    harness
        .get_by_label("file")
        .type_text(file.to_str().unwrap());
    harness.step();
    assert_eq!(
        harness.state().forms.live.stream_path,
        file.to_str().unwrap()
    );
    harness.get_by_label("Start live classification").click();
    harness.step();
    harness.get_by_label("Stream file").click();
    step_until(&mut harness, "three live windows", |app| {
        app.view.live_classification.windows.len() >= 3
    });
    // The labels of the bars also appear in the confusion matrix below.
    for text in [
        "Detected: lift",
        "DSP ",
        "anomaly score",
        "terrestrial",
        "idle",
    ] {
        assert!(
            harness.query_all_by_label_contains(text).next().is_some(),
            "the live section should show {text:?}"
        );
    }
    harness.get_by_label("Stop live classification").click();
    step_until(&mut harness, "the stop", |app| {
        app.view.live_classification.running.is_none()
    });
    assert!(
        harness
            .query_by_label("Start live classification")
            .is_some()
    );
}
