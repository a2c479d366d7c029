//! The Dataset panel's box editor, driven through egui_kittest: on a `--lab fomo` project with
//! two imported images, drag on the picture to draw a box and check the project file got it;
//! number keys relabel, Delete removes the selected box, undo (Ctrl+Z) restores each step;
//! "Copy boxes from previous image" brings the first image's boxes to the second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;
#[path = "common/ui.rs"]
mod ui_common;

use common::ok;
use egui_kittest::kittest::Queryable;
use tinylab::project::Project;
use tinylab::project::sample::{BoundingBox, SampleId};
use tinylab::ui::Startup;
use tinylab::ui::tab::Tab;
use ui_common::{harness, step_until};

fn gray_png(path: &std::path::Path, width: u32, height: u32) {
    image::GrayImage::from_pixel(width, height, image::Luma([90u8]))
        .save(path)
        .unwrap();
}

fn boxes_on_disk(dir: &std::path::Path, id: SampleId) -> Vec<BoundingBox> {
    Project::open(dir)
        .unwrap()
        .sample(id)
        .unwrap()
        .boxes
        .clone()
}

#[test]
fn boxes_are_drawn_relabelled_deleted_copied_and_undone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fomo");
    let images = tmp.path().join("images");
    std::fs::create_dir(&images).unwrap();
    gray_png(&images.join("a.png"), 96, 96);
    gray_png(&images.join("b.png"), 96, 96);
    let d = dir.to_str().unwrap();
    ok(&["new", d, "--lab", "fomo"]);
    ok(&["import", d, images.to_str().unwrap(), "--split", "train"]);

    let mut harness = harness(Startup::Project(dir.clone()));
    step_until(&mut harness, "the two images", |app| {
        app.view.samples.len() == 2
    });
    let (first, second) = {
        let samples = &harness.state().view.samples;
        (samples[0].id, samples[1].id)
    };
    harness.state_mut().state.tab = Tab::Dataset;
    harness.state_mut().focus_sample(first, 0);
    harness
        .state_mut()
        .send(tinylab::protocol::Command::LoadSample(first));
    step_until(&mut harness, "the first image", |app| {
        app.view.loaded_image.as_ref().is_some_and(|l| l.0 == first)
    });

    // Drag from (20, 30) to (50, 60) in image pixels.
    let picture = harness.get_by_label_contains("image s0000").rect();
    let scale = picture.width() / 96.0;
    let at = |x: f32, y: f32| picture.min + egui::vec2(x * scale, y * scale);
    harness.hover_at(at(20.2, 30.2));
    harness.step();
    harness.drag_at(at(20.2, 30.2));
    harness.step();
    for t in 1..=5 {
        let f = t as f32 / 5.0;
        harness.hover_at(at(20.2 + 29.6 * f, 30.2 + 29.6 * f));
        harness.step();
    }
    harness.drop_at(at(49.8, 59.8));
    step_until(&mut harness, "the drawn box", |app| {
        app.view
            .samples
            .iter()
            .any(|s| s.id == first && s.boxes.len() == 1)
    });
    let drawn = boxes_on_disk(&dir, first);
    assert_eq!(
        drawn,
        vec![BoundingBox {
            label: "box".into(),
            x: 20,
            y: 30,
            width: 30,
            height: 30
        }],
        "the first label (box) is the default"
    );

    // The new box is selected: 2 relabels it "wheel", Delete removes it.
    harness.key_press(egui::Key::Num2);
    step_until(&mut harness, "the relabel", |app| {
        app.view
            .samples
            .iter()
            .any(|s| s.id == first && s.boxes.first().is_some_and(|b| b.label == "wheel"))
    });
    harness.key_press(egui::Key::Delete);
    step_until(&mut harness, "the delete", |app| {
        app.view
            .samples
            .iter()
            .any(|s| s.id == first && s.boxes.is_empty())
    });
    assert_eq!(
        harness.state().view.samples.len(),
        2,
        "Delete removed the box, not the image"
    );
    // Undo brings back the wheel box, then the box label.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "undo of the delete", |app| {
        app.view
            .samples
            .iter()
            .any(|s| s.id == first && s.boxes.len() == 1)
    });
    assert_eq!(boxes_on_disk(&dir, first)[0].label, "wheel");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "undo of the relabel", |app| {
        app.view
            .samples
            .iter()
            .any(|s| s.id == first && s.boxes.first().is_some_and(|b| b.label == "box"))
    });
    assert_eq!(boxes_on_disk(&dir, first), drawn);

    // The second image takes the first one's boxes.
    harness.state_mut().focus_sample(second, 0);
    harness
        .state_mut()
        .send(tinylab::protocol::Command::LoadSample(second));
    step_until(&mut harness, "the second image", |app| {
        app.view
            .loaded_image
            .as_ref()
            .is_some_and(|l| l.0 == second)
    });
    harness
        .get_by_label("Copy boxes from previous image")
        .click();
    step_until(&mut harness, "the copied boxes", |app| {
        app.view
            .samples
            .iter()
            .any(|s| s.id == second && s.boxes.len() == 1)
    });
    assert_eq!(boxes_on_disk(&dir, second), drawn);
}

/// A FOMO run in the Evaluate panel: the detection F1, the per-class table and "predictions vs
/// labels" stepping through the test images (a brief training: the view, not the model, is
/// under test here; `tests/fomo_project.rs` scores the model).
#[test]
fn evaluate_shows_detection_results_and_steps_through_images() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fomo");
    let d = dir.to_str().unwrap();
    ok(&["new", d, "--lab", "fomo"]);
    let (train, test) = (tmp.path().join("train"), tmp.path().join("test"));
    common::scenes::write_scenes(&train, 12, 5, (1, 1));
    common::scenes::write_scenes(&test, 3, 6, (1, 1));
    ok(&["import", d, train.to_str().unwrap(), "--split", "train"]);
    ok(&["import", d, test.to_str().unwrap(), "--split", "test"]);
    ok(&["train", d, "--epochs", "1"]);

    let mut harness = harness(Startup::Project(dir));
    step_until(&mut harness, "the run's evaluation", |app| {
        app.view
            .evaluation
            .as_ref()
            .is_some_and(|e| e.detection.is_some())
    });
    harness.state_mut().state.tab = Tab::Evaluate;
    harness.step();
    harness.get_by_label_contains("F1 ");
    harness.get_by_label_contains("precision ");
    harness.get_by_label("TP");
    harness.get_by_label("Predictions vs labels");
    harness.get_by_label("1 of 3");
    step_until(&mut harness, "the first test image", |app| {
        let first = app
            .view
            .evaluation
            .as_ref()
            .unwrap()
            .detection
            .as_ref()
            .unwrap()
            .images[0]
            .sample;
        app.view.loaded_image.as_ref().is_some_and(|l| l.0 == first)
    });
    harness.get_by_label_contains("with its labels and predictions");
    harness.get_by_label("Next image").click();
    harness.step();
    harness.get_by_label("2 of 3");
    step_until(&mut harness, "the second test image", |app| {
        let second = app
            .view
            .evaluation
            .as_ref()
            .unwrap()
            .detection
            .as_ref()
            .unwrap()
            .images[1]
            .sample;
        app.view
            .loaded_image
            .as_ref()
            .is_some_and(|l| l.0 == second)
    });
}
