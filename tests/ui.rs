//! The window, driven through egui_kittest (AccessKit queries, no GPU): every panel opens by its
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking
//! label, and on Capture and Dataset a real flow runs against the engine and the virtual board;
//! on Evaluate, live classification of a file played as a stream.

#[path = "common/ui.rs"]
mod ui_common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};
use tinylab::ui::tab::Tab;
use tinylab::ui::{Startup, TinyLabApp};
use ui_common::{harness, step_until};

/// The window on a fresh demo project (16 samples) in `root`.
fn demo(root: &std::path::Path) -> Harness<'static, TinyLabApp> {
    let mut harness = harness(Startup::Demo(root.join("demo")));
    step_until(&mut harness, "the demo project", |app| {
        app.view.samples.len() == 16
    });
    harness
}

/// [`demo`] on the Train panel, once the model's layers are known.
fn demo_on_train_panel(root: &std::path::Path) -> Harness<'static, TinyLabApp> {
    let mut harness = demo(root);
    harness.get_by_label("Train").click();
    step_until(&mut harness, "the model's layers", |app| {
        matches!(app.view.model, Some(Ok(_)))
    });
    harness
}

/// The demo project in `root/demo`, trained from the command line for `epochs`.
fn trained_demo(root: &std::path::Path, epochs: usize) -> std::path::PathBuf {
    let dir = root.join("demo");
    let d = dir.to_str().unwrap();
    let epochs = epochs.to_string();
    for args in [
        vec!["new", d, "--demo"],
        vec!["train", d, "--epochs", &epochs],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tinylab"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

#[test]
fn every_panel_opens_by_its_label() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = demo(tmp.path());
    let expected = [
        (Tab::Lab, "Motion classification + anomaly detection"),
        (Tab::Capture, "Live signal"),
        (Tab::Dataset, "16 samples, 160 s in total"),
        (Tab::Features, "Processing block"),
        (Tab::Train, "Anomaly detection (K-means)"),
        (Tab::Evaluate, "No trained model yet"),
        (Tab::Optimize, "Optimization"),
        (Tab::Deploy, "Deployment"),
    ];
    for (tab, text) in expected {
        harness.get_by_label(tab.title()).click();
        harness.step();
        harness.step();
        assert_eq!(harness.state().state.tab, tab);
        assert!(
            harness.query_by_label_contains(text).is_some(),
            "{tab:?} panel should show {text:?}"
        );
    }
}

#[test]
fn features_panel_generates_and_explores() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = demo(tmp.path());
    harness.get_by_label("Features").click();
    step_until(&mut harness, "the block's steps on a window", |app| {
        app.view.steps.is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Spectrum (max-hold power)")
            .is_some()
    );
    harness.get_by_label("Generate features").click();
    step_until(&mut harness, "the features", |app| {
        app.view.features.is_some()
    });
    let summary = harness.state().view.features.clone().unwrap();
    assert_eq!((summary.windows, summary.shape.clone()), (656, vec![63]));
    assert!(
        harness
            .query_by_label_contains("PCA: the two axes explain")
            .is_some()
    );
}

#[test]
fn shortcuts_switch_panels_and_instructor_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = harness(Startup::Demo(tmp.path().join("demo")));
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num3);
    harness.step();
    assert_eq!(harness.state().state.tab, Tab::Dataset);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::I);
    harness.step();
    harness.step();
    assert!(harness.state().state.instructor_mode);
    assert!(
        harness.ctx.zoom_factor() > 1.5,
        "instructor mode enlarges everything"
    );
}

#[test]
fn record_a_sample_on_the_virtual_board_then_relabel_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    tinylab::project::Project::create(&dir, &tinylab::labs::lab("motion").unwrap()).unwrap();
    let mut harness = harness(Startup::Project(dir));
    step_until(&mut harness, "the project", |app| {
        app.view.project.is_some()
    });

    harness.get_by_label("Capture").click();
    harness.step();
    harness.get_by_label("Start virtual board").click();
    step_until(&mut harness, "the stream format", |app| {
        app.view.device.format.is_some()
    });
    assert!(
        harness.query_by_label_contains("3 axes · 50 Hz").is_some(),
        "status bar shows the stream"
    );

    harness.get_by_label("terrestrial").click();
    harness.state_mut().state.record_label = "terrestrial".into();
    harness.state_mut().state.record_seconds = 1.0;
    harness.step();
    harness.get_by_label("Start recording").click();
    step_until(&mut harness, "the recording", |app| {
        app.view.samples.len() == 1
    });
    let sample = harness.state().view.samples[0].clone();
    assert_eq!(
        (sample.label.as_str(), sample.readings),
        ("terrestrial", 50)
    );

    harness.get_by_label("Dataset").click();
    harness.step();
    harness.get_by_label(&sample.id.to_string()).click();
    harness.step();
    harness.state_mut().forms.relabel = "maritime".into();
    harness.step();
    harness.get_by_label("Relabel").click();
    step_until(&mut harness, "the relabel", |app| {
        app.view.samples[0].label == "maritime"
    });
    assert!(
        harness.query_all_by_label("maritime").count() >= 2,
        "new label in the table and in the class balance"
    );

    harness.get_by_label("Delete").click();
    step_until(&mut harness, "the delete", |app| {
        app.view.samples.is_empty()
    });
    harness
        .get_by_label_contains("Undo delete 1 sample")
        .click();
    step_until(&mut harness, "the undo", |app| app.view.samples.len() == 1);
}

#[test]
fn train_panel_trains_live_and_evaluate_opens_a_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = demo_on_train_panel(tmp.path());
    let preset = tinylab::models::preset("motion-dnn").unwrap();
    assert!(
        harness
            .query_by_label_contains(&preset.description)
            .is_some()
    );
    harness.get_by_label("Start training").click();
    step_until(&mut harness, "live epochs", |app| {
        app.view.training.is_some() || !app.view.runs.is_empty()
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while harness.state().view.runs.is_empty() {
        assert!(Instant::now() < deadline, "training did not finish");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.step();
    assert!(
        harness
            .query_by_label_contains("Training curves: run-001")
            .is_some()
    );

    harness.get_by_label("Evaluate").click();
    step_until(&mut harness, "the evaluation", |app| {
        app.view.evaluation.is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Confusion matrix")
            .is_some()
    );
    assert!(harness.query_by_label_contains("Accuracy").is_some());
    let first_sample = harness.state().view.evaluation.as_ref().unwrap().samples[0].sample;
    harness
        .query_all_by_label(&first_sample.to_string())
        .last()
        .unwrap()
        .click();
    harness.step();
    assert_eq!(harness.state().state.tab, Tab::Dataset);
    assert_eq!(harness.state().forms.focused, Some(first_sample));
}

#[test]
fn a_layer_added_in_the_editor_changes_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = demo_on_train_panel(tmp.path());
    let layers = |app: &TinyLabApp| match &app.view.model {
        Some(Ok(model)) => model.layers.len(),
        _ => 0,
    };
    let before = layers(harness.state());
    assert_eq!(
        before, 6,
        "dense, relu, dense, relu + the head's dense and softmax"
    );
    harness.get_by_label("Edit layers").click();
    harness.step();
    harness.get_by_label("Add layer").click();
    harness.step();
    harness.step();
    harness.get_by_label("dropout").click();
    step_until(&mut harness, "the model with a dropout layer", |app| {
        layers(app) == before + 1
    });
    let project = harness.state().view.project.clone().unwrap();
    assert_eq!(
        project.settings.model.layers.len(),
        5,
        "saved as edited layers"
    );
    harness.get_by_label("Back to the preset's layers").click();
    step_until(&mut harness, "the preset's layers again", |app| {
        layers(app) == before
    });
}

/// The Evaluate panel's live classification section: the motion demo trained from the command
/// line, one of its recordings played as a stream from the section's "Stream file" field, a bar
/// per class, the detected label, the latencies and the anomaly score shown, then Stop.
#[test]
fn live_classification_of_a_streamed_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = trained_demo(tmp.path(), 10);
    let mut harness = harness(Startup::Project(dir.clone()));
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

/// The split review window: a 6 s recording of three tone bursts (words) over noise in a KWS
/// project, "Split into words" in the Dataset panel, three clips proposed, one rejected, the other
/// two added as samples labelled "yes" with the original kept; undo takes them back.
#[test]
fn split_review_cuts_a_recording_into_word_clips() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kws");
    let mut project =
        tinylab::project::Project::create(&dir, &tinylab::labs::lab("kws").unwrap()).unwrap();
    let rate = 16_000.0;
    let mut rng = tinylab::rng::Rng::new(3);
    let mut values: Vec<f32> = (0..96_000)
        .map(|_| 100.0 * (rng.next_f64() as f32 - 0.5))
        .collect();
    for centre_s in [1.0, 3.0, 5.0] {
        let start = ((centre_s - 0.2) * rate) as usize;
        for i in 0..6400 {
            values[start + i] += 6000.0 * (i as f32 * 0.17).sin();
        }
    }
    let series = tinylab::project::sample::Series {
        axes: vec!["audio".into()],
        rate_hz: rate,
        values,
    };
    let meta = project
        .add_series(
            &series,
            "yes",
            tinylab::project::sample::Split::Train,
            "test",
        )
        .unwrap();
    drop(project);
    let mut harness = harness(Startup::Project(dir));
    step_until(&mut harness, "the project", |app| {
        app.view.samples.len() == 1
    });
    harness.get_by_label("Dataset").click();
    harness.step();
    harness.get_by_label(&meta.id.to_string()).click();
    harness.step();
    harness.step();
    harness.get_by_label("Split into words").click();
    step_until(&mut harness, "the proposed clips", |app| {
        app.view.split.is_some()
    });
    assert!(harness.query_by_label_contains("3 word(s) found").is_some());
    harness
        .get_by_label_contains("clip 2 at 2.50-3.50 s")
        .click();
    harness.step();
    harness.get_by_label("Add 2 clip(s)").click();
    step_until(&mut harness, "the clips", |app| app.view.samples.len() == 3);
    let clips: Vec<_> = harness.state().view.samples[1..].to_vec();
    assert!(
        clips
            .iter()
            .all(|m| m.label == "yes" && m.readings == 16_000)
    );
    harness
        .get_by_label_contains("Undo split into 2 samples")
        .click();
    step_until(&mut harness, "the undo", |app| app.view.samples.len() == 1);
}

/// Optimize and Deploy on a run trained from the command line: Quantize shows the float32/int8
/// comparison and the kits, then Deploy writes the int8 `.tflite` and its labels.
#[test]
fn optimize_quantizes_and_deploy_exports_the_int8_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = trained_demo(tmp.path(), 8);
    let mut harness = harness(Startup::Project(dir.clone()));
    step_until(&mut harness, "the run", |app| app.view.run.is_some());
    harness.get_by_label("Optimize").click();
    harness.step();
    assert!(
        harness
            .query_by_label_contains("Not quantized yet")
            .is_some()
    );
    harness.get_by_label("per tensor").click();
    harness.get_by_label("Quantize to int8").click();
    step_until(&mut harness, "the quantization", |app| {
        app.view.quantized.is_some()
    });
    let report = harness.state().view.quantized.clone().unwrap();
    assert!(
        !report.settings.per_channel,
        "the per-tensor choice reached the engine"
    );
    for text in [
        "Test accuracy",
        "Predictions that change",
        "Arduino Nicla Vision",
        "MACs",
        "C library: static RAM",
    ] {
        assert!(
            harness.query_all_by_label_contains(text).next().is_some(),
            "{text}"
        );
    }
    harness.get_by_label("Deploy").click();
    harness.step();
    let target = tmp.path().join("exported").join("model.tflite");
    harness.state_mut().forms.deploy.path = target.display().to_string();
    harness.step();
    harness.get_by_label("Export model").click();
    step_until(&mut harness, "the exported model", |_| {
        target.is_file() && target.with_file_name("labels.txt").is_file()
    });
    let bytes = std::fs::read(&target).unwrap();
    assert_eq!(bytes.len() as u64, report.int8_footprint.file_bytes);
    // The C library figures are the export's: the motion demo's window is 300 floats.
    let c = report
        .c_library
        .as_ref()
        .expect("the motion run exports as C");
    assert_eq!(c.raw_window_bytes, 1200);
    assert!(
        c.dsp_buffer_bytes > 0 && c.model_constant_bytes > 0,
        "{c:?}"
    );
}

/// The Lab panel's steps on the demo: the checks computed from the project (the recordings and
/// the test split pass, training not yet), and "Open …" buttons that go to the step's panel.
#[test]
fn lab_steps_show_their_checks_and_open_their_panels() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = demo(tmp.path());
    harness.state_mut().state.tab = Tab::Lab;
    harness.step();
    harness.step();
    // Eight steps, seven with a check (connecting the kit is the student's).
    assert!(harness.query_by_label_contains("of 7 done").is_some());
    assert!(
        harness
            .query_by_label_contains("no validation accuracy yet")
            .is_some()
    );
    harness.get_by_label("Open Features").click();
    harness.step();
    assert_eq!(harness.state().state.tab, Tab::Features);
    harness.state_mut().state.tab = Tab::Lab;
    harness.step();
    harness.get_by_label("Open Train").click();
    harness.step();
    assert_eq!(harness.state().state.tab, Tab::Train);
}

#[test]
fn lab_panel_takes_a_kit_lab_from_a_new_project_to_a_trained_model() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = demo(tmp.path());
    harness.state_mut().state.tab = Tab::Lab;
    harness.step();
    // Pick the kit: its card says what it is, and the lab list becomes its labs.
    let open_combo = |harness: &mut Harness<'static, TinyLabApp>, index: usize| {
        let role = egui::accesskit::Role::ComboBox;
        harness
            .get_all_by_role(role)
            .nth(index)
            .unwrap()
            .scroll_to_me();
        for _ in 0..20 {
            harness.step();
        }
        harness.get_all_by_role(role).nth(index).unwrap().click();
        for _ in 0..3 {
            harness.step();
        }
    };
    open_combo(&mut harness, 0);
    harness.get_by_label("Arduino Nicla Vision").click();
    harness.step();
    harness.step();
    assert!(harness.query_by_label_contains("STM32H747").is_some());
    open_combo(&mut harness, 1);
    harness
        .get_by_label("Motion classification + anomaly detection (Nicla Vision) (nicla-motion)")
        .click();
    harness.step();
    let dir = tmp.path().join("nicla");
    harness.state_mut().forms.new_project_dir = dir.display().to_string();
    scroll_and_click(&mut harness, "Fill it with demo data");
    harness.step();
    scroll_and_click(&mut harness, "Create project");
    step_until(&mut harness, "the new project with its demo data", |app| {
        app.view
            .project
            .as_ref()
            .is_some_and(|p| p.settings.lab == "nicla-motion")
            && app.view.samples.len() == 16
    });
    assert!(harness.query_by_label_contains("of 7 done").is_some());
    // Follow the steps' buttons: features, then training.
    scroll_and_click(&mut harness, "Open Features");
    harness.step();
    assert_eq!(harness.state().state.tab, Tab::Features);
    harness.get_by_label("Generate features").click();
    step_until(&mut harness, "the features", |app| {
        app.view.features.is_some()
    });
    harness.state_mut().state.tab = Tab::Lab;
    harness.step();
    scroll_and_click(&mut harness, "Open Train");
    step_until(&mut harness, "the model's layers", |app| {
        matches!(app.view.model, Some(Ok(_)))
    });
    harness.get_by_label("Start training").click();
    let deadline = Instant::now() + Duration::from_secs(300);
    while harness.state().view.runs.is_empty() {
        assert!(Instant::now() < deadline, "training did not finish");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.state_mut().state.tab = Tab::Lab;
    step_until(&mut harness, "the run's checks", |app| {
        app.view
            .runs
            .last()
            .is_some_and(|r| r.val_accuracy.is_some())
    });
    harness.step();
    // Samples, test split, features and validation accuracy are done; the book's Nicla figures
    // stand beside the student's.
    assert!(
        harness.query_by_label_contains("4 of 7 done").is_some()
            || harness.query_by_label_contains("5 of 7 done").is_some()
    );
    assert!(harness.query_by_label_contains("94.82").is_some());
}

/// Scrolls the widget labelled `label` into view, then clicks it (a click lands where the widget
/// is drawn, so it must be on screen).
fn scroll_and_click(harness: &mut Harness<'static, TinyLabApp>, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    // Scrolling is animated over a few frames.
    for _ in 0..20 {
        harness.step();
    }
    harness.get_by_label(label).click();
    harness.step();
}

#[test]
fn deploy_panel_watches_the_virtual_board_and_shows_its_predictions() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = demo(tmp.path());
    harness.get_by_label("Deploy").click();
    harness.step();
    harness.get_by_label("Boards");
    harness.get_by_label("Watch the virtual board").click();
    step_until(&mut harness, "the virtual board's predictions", |app| {
        app.view.boards.results >= 2
    });
    let latest = harness.state().view.boards.latest.clone().unwrap();
    assert_eq!(latest.classes.len(), 4);
    assert_eq!(latest.top_class().unwrap().label, "idle");
    harness.get_by_label("The board says:");
    // The bar and its text are both labelled.
    assert!(harness.get_all_by_label_contains("idle: 0.").count() >= 1);
    harness.get_by_label_contains("on the board: DSP");
    harness.get_by_label("Stop").click();
    step_until(&mut harness, "the monitor to stop", |app| {
        app.view.boards.job.is_none()
    });
    assert!(
        harness
            .state()
            .view
            .boards
            .log
            .back()
            .unwrap()
            .contains("stopped")
    );
}
