//! FOMO through the command line, as a student runs the lab: `tinylab new --lab fomo`, import
//! generated scenes with Edge Impulse's `bounding_boxes.labels` (192 × 96 files, so the image
//! block's squash halves every box's width on the way to the 96 × 96 input), `tinylab train`,
//! then `tinylab eval --json` scores held-out scenes with FOMO's centroid matching at the lab's
//! 0.8 threshold, and `tinylab quantize` compares float32 with int8 on the same images.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout
)] // tests fail by panicking

mod common;

use common::ok;
use common::scenes::write_scenes;

/// Training scenes and epochs: the fewest that still pass with margin (seeded, reproducible).
const TRAIN_SCENES: usize = 160;
const TEST_SCENES: usize = 60;
const EPOCHS: &str = "10";

#[test]
fn fomo_lab_trains_evaluates_and_quantizes_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("fomo");
    let dir = project.to_str().unwrap();
    ok(&["new", dir, "--lab", "fomo"]);
    let (train, test) = (tmp.path().join("train"), tmp.path().join("test"));
    write_scenes(&train, TRAIN_SCENES, 21, (2, 1));
    write_scenes(&test, TEST_SCENES, 22, (2, 1));
    ok(&["import", dir, train.to_str().unwrap(), "--split", "train"]);
    ok(&["import", dir, test.to_str().unwrap(), "--split", "test"]);

    let out = ok(&["train", dir, "--epochs", EPOCHS, "--seed", "3"]);
    println!("{out}");
    let report: serde_json::Value = serde_json::from_str(&ok(&["eval", dir, "--json"])).unwrap();
    let detection = &report["detection"];
    println!("{}", serde_json::to_string_pretty(detection).unwrap());
    assert_eq!(
        report["labels"],
        serde_json::json!(["background", "box", "wheel"])
    );
    assert_eq!(detection["images"], TEST_SCENES);
    assert_eq!(detection["threshold"].as_f64().unwrap(), 0.800000011920929);
    let f1 = detection["f1"].as_f64().unwrap();
    assert!(f1 >= 0.8, "FOMO F1 on held-out scenes {f1:.3}");
    // The per-cell confusion matrix counts every cell of every test image.
    assert_eq!(report["samples"], TEST_SCENES * 144);
    let text = ok(&["eval", dir]);
    assert!(text.contains("F1") && text.contains("wheel"), "{text}");

    // int8: the same images through TFLite's reference kernels, within 2 points of float32.
    let report: serde_json::Value =
        serde_json::from_str(&ok(&["quantize", dir, "--json"])).unwrap();
    let float_f1 = report["float_detection"]["f1"].as_f64().unwrap();
    let int8_f1 = report["int8_detection"]["f1"].as_f64().unwrap();
    println!("quantized: float32 F1 {float_f1:.3}, int8 F1 {int8_f1:.3}");
    // The interpreter's float32 graph is the trained model (batch norm folded).
    assert!(
        (float_f1 - f1).abs() < 0.02,
        "float32 {float_f1} vs eval {f1}"
    );
    assert!(
        (int8_f1 - float_f1).abs() <= 0.02,
        "int8 {int8_f1} vs float32 {float_f1}"
    );
}
