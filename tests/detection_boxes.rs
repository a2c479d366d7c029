//! Bounding boxes for object detection: box metadata in `dataset.json` (old projects without it
//! still load), import from Edge Impulse's `bounding_boxes.labels` and from YOLO txt folders,
//! export back to Edge Impulse's layout and in again, malformed label files refused whole; and
//! FOMO's centroid-matching metrics on hand-made cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout
)] // tests fail by panicking

mod common;

use common::{ok, tinylab};
use std::path::{Path, PathBuf};
use tinylab::nn::detection::{
    self, Centroid, Counts, DetectionMetrics, Grid, InputBox, cell_targets, decode,
};
use tinylab::project::sample::{BoundingBox, SampleMeta};

fn new_project(root: &Path) -> PathBuf {
    let project = root.join("project");
    ok(&["new", project.to_str().unwrap(), "--lab", "image"]);
    project
}

fn samples_in(project: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(project.join("dataset.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&text).unwrap();
    index["samples"].as_array().unwrap().clone()
}

fn gray(path: &Path, width: u32, height: u32) {
    image::GrayImage::from_fn(width, height, |x, y| image::Luma([((x + y) % 256) as u8]))
        .save(path)
        .unwrap();
}

fn boxes_of(sample: &serde_json::Value) -> Vec<BoundingBox> {
    serde_json::from_value(sample["boxes"].clone()).unwrap_or_default()
}

fn bb(label: &str, x: u32, y: u32, width: u32, height: u32) -> BoundingBox {
    BoundingBox {
        label: label.into(),
        x,
        y,
        width,
        height,
    }
}

#[test]
fn sample_metadata_without_boxes_still_loads_and_boxes_round_trip() {
    let old = r#"{"id": 3, "file": "s00003.png", "label": "box", "split": "train",
        "sensor": "camera", "axes": [], "rate_hz": 0.0, "readings": 1, "source": "x",
        "created_unix_s": 0, "image": {"width": 96, "height": 96, "channels": 1}}"#;
    let meta: SampleMeta = serde_json::from_str(old).unwrap();
    assert!(meta.boxes.is_empty());
    let mut with = meta.clone();
    with.boxes = vec![bb("box", 1, 2, 3, 4), bb("wheel", 10, 20, 30, 40)];
    let text = serde_json::to_string(&with).unwrap();
    assert!(text.contains("\"boxes\""));
    assert_eq!(serde_json::from_str::<SampleMeta>(&text).unwrap(), with);
    // No boxes, no key: files of non-detection projects do not change.
    assert!(!serde_json::to_string(&meta).unwrap().contains("boxes"));
}

#[test]
fn edge_impulse_labels_import_export_and_import_again() {
    let dir = tempfile::tempdir().unwrap();
    let project = new_project(dir.path());
    let images = dir.path().join("scenes");
    std::fs::create_dir(&images).unwrap();
    gray(&images.join("a.png"), 96, 96);
    gray(&images.join("b.png"), 96, 96);
    gray(&images.join("c.png"), 96, 96);
    std::fs::write(
        images.join("bounding_boxes.labels"),
        r#"{"version": 1, "type": "bounding-box-labels", "boundingBoxes": {
            "a.png": [{"label": "box", "x": 10, "y": 12, "width": 20, "height": 22},
                      {"label": "wheel", "x": 50, "y": 60, "width": 16, "height": 16},
                      {"label": "box", "x": 70, "y": 5, "width": 8, "height": 8}],
            "b.png": [{"label": "wheel", "x": 90, "y": 90, "width": 10, "height": 10}],
            "elsewhere.png": []}}"#,
    )
    .unwrap();
    ok(&[
        "import",
        project.to_str().unwrap(),
        images.to_str().unwrap(),
        "--split",
        "train",
    ]);
    let samples = samples_in(&project);
    assert_eq!(samples.len(), 3);
    let by_source = |name: &str| {
        samples
            .iter()
            .find(|s| s["source"] == format!("import:{name}"))
            .unwrap()
            .clone()
    };
    let a = by_source("a.png");
    assert_eq!(
        boxes_of(&a),
        vec![
            bb("box", 10, 12, 20, 22),
            bb("wheel", 50, 60, 16, 16),
            bb("box", 70, 5, 8, 8)
        ]
    );
    assert_eq!(
        a["label"], "box",
        "most frequent box label names the sample"
    );
    // Clipped to the 96×96 image.
    let b = by_source("b.png");
    assert_eq!(boxes_of(&b), vec![bb("wheel", 90, 90, 6, 6)]);
    assert_eq!(b["label"], "wheel");
    let c = by_source("c.png");
    assert!(boxes_of(&c).is_empty());
    assert_eq!(c["label"], "background");

    // Export in Edge Impulse's layout, then into a new project: the same boxes.
    let out = dir.path().join("export");
    ok(&[
        "export",
        project.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let labels = std::fs::read_to_string(out.join("training/bounding_boxes.labels")).unwrap();
    assert!(labels.contains("bounding-box-labels"), "{labels}");
    let again = dir.path().join("again");
    ok(&["new", again.to_str().unwrap(), "--lab", "image"]);
    ok(&[
        "import",
        again.to_str().unwrap(),
        out.join("training").to_str().unwrap(),
    ]);
    let mut before: Vec<_> = samples.iter().map(boxes_of).collect();
    let mut after: Vec<_> = samples_in(&again).iter().map(boxes_of).collect();
    before.sort_by_key(|b| format!("{b:?}"));
    after.sort_by_key(|b| format!("{b:?}"));
    assert_eq!(before, after);
}

#[test]
fn yolo_folders_import_with_their_class_list() {
    let dir = tempfile::tempdir().unwrap();
    let project = new_project(dir.path());
    let root = dir.path().join("yolo");
    std::fs::create_dir_all(root.join("images")).unwrap();
    std::fs::create_dir_all(root.join("labels")).unwrap();
    std::fs::write(root.join("classes.txt"), "box\nwheel\n").unwrap();
    gray(&root.join("images/one.png"), 100, 50);
    gray(&root.join("images/two.png"), 100, 50);
    // Centre (0.5, 0.5), 0.2 × 0.4 of a 100×50 image → x 40, y 15, 20×20.
    std::fs::write(
        root.join("labels/one.txt"),
        "0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.2 0.2\n",
    )
    .unwrap();
    std::fs::write(root.join("labels/two.txt"), "").unwrap();
    ok(&[
        "import",
        project.to_str().unwrap(),
        root.join("images").to_str().unwrap(),
    ]);
    let samples = samples_in(&project);
    assert_eq!(samples.len(), 2);
    let one = samples
        .iter()
        .find(|s| s["source"] == "import:one.png")
        .unwrap();
    assert_eq!(
        boxes_of(one),
        vec![bb("box", 40, 15, 20, 20), bb("wheel", 0, 0, 20, 10)]
    );
    let two = samples
        .iter()
        .find(|s| s["source"] == "import:two.png")
        .unwrap();
    assert!(boxes_of(two).is_empty());
    assert_eq!(two["label"], "background");
}

/// Imports `folder` and expects a failure naming `culprit` and saying `why`, nothing added.
fn check_refused(project: &Path, folder: &Path, culprit: &str, why: &str) {
    let out = tinylab(&[
        "import",
        project.to_str().unwrap(),
        folder.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "import of {culprit} succeeded");
    assert!(stderr.contains(culprit), "names {culprit}: {stderr}");
    assert!(stderr.contains(why), "says {why:?}: {stderr}");
    assert!(samples_in(project).is_empty(), "nothing added");
}

#[test]
fn malformed_label_files_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let project = new_project(dir.path());
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "bounding_boxes.labels",
            "{not json",
            "bounding_boxes.labels",
            "not JSON",
        ),
        (
            "bounding_boxes.labels",
            r#"{"version": 2, "type": "bounding-box-labels", "boundingBoxes": {}}"#,
            "bounding_boxes.labels",
            "\"version\" must be 1",
        ),
        (
            "bounding_boxes.labels",
            r#"{"version": 1, "type": "bounding-box-labels",
                "boundingBoxes": {"a.png": [{"label": "box", "x": 1, "y": 1, "width": "wide"}]}}"#,
            "bounding_boxes.labels",
            "no number \"width\"",
        ),
        (
            "a.txt",
            "0 0.5 0.5 0.2\n",
            "a.txt",
            "line 1: expected `class cx cy w h`",
        ),
        ("a.txt", "0 0.5 0.5 0.2 1.7\n", "a.txt", "outside 0..1"),
        (
            "a.txt",
            "5 0.5 0.5 0.2 0.2\n",
            "a.txt",
            "class 5, but the class list has 2",
        ),
    ];
    for (i, (file, text, culprit, why)) in cases.iter().enumerate() {
        let folder = dir.path().join(format!("case{i}"));
        std::fs::create_dir(&folder).unwrap();
        gray(&folder.join("a.png"), 32, 32);
        gray(&folder.join("b.png"), 32, 32);
        std::fs::write(folder.join("classes.txt"), "box\nwheel\n").unwrap();
        std::fs::write(folder.join(file), text).unwrap();
        check_refused(&project, &folder, culprit, why);
    }
    // A YOLO file without a class list.
    let folder = dir.path().join("no-classes");
    std::fs::create_dir(&folder).unwrap();
    gray(&folder.join("a.png"), 32, 32);
    std::fs::write(folder.join("a.txt"), "0 0.5 0.5 0.2 0.2\n").unwrap();
    check_refused(&project, &folder, "a.txt", "no class list");
}

fn grid() -> Grid {
    Grid {
        width: 12,
        height: 12,
        input_width: 96,
        input_height: 96,
    }
}

fn ib(class: usize, x: f32, y: f32, w: f32, h: f32) -> InputBox {
    InputBox {
        class,
        x,
        y,
        width: w,
        height: h,
    }
}

fn centroid(class: usize, x: f32, y: f32, score: f32) -> Centroid {
    Centroid {
        class,
        x,
        y,
        score,
        cells: 1,
    }
}

#[test]
fn targets_mark_the_cell_of_each_box_centre() {
    let cells = cell_targets(
        grid(),
        &[ib(1, 0.0, 0.0, 16.0, 16.0), ib(2, 80.0, 40.0, 16.0, 9.0)],
    );
    assert_eq!(cells.len(), 144);
    // Centre (8, 8) → cell (1, 1); centre (88, 44.5) → row 5, column 11.
    assert_eq!(cells[12 + 1], 1);
    assert_eq!(cells[5 * 12 + 11], 2);
    assert_eq!(cells.iter().filter(|&&c| c != 0).count(), 2);
}

#[test]
fn decoding_thresholds_and_merges_touching_cells_of_a_class() {
    let classes = 3;
    let mut probs = vec![0.0f32; 144 * classes];
    let mut set = |row: usize, col: usize, class: usize, p: f32| {
        let cell = row * 12 + col;
        probs[cell * classes] = 1.0 - p;
        probs[cell * classes + class] = p;
    };
    for cell in 0..144 {
        set(cell / 12, cell % 12, 1, 0.0);
    }
    // Two touching "box" cells → one centroid between them.
    set(2, 2, 1, 0.9);
    set(2, 3, 1, 0.95);
    // A "wheel" cell touching them: a separate object (another class).
    set(3, 3, 2, 0.85);
    // Diagonal neighbours do not merge.
    set(8, 8, 1, 0.9);
    set(9, 9, 1, 0.9);
    // Below the threshold: nothing.
    set(11, 0, 2, 0.79);
    let found = decode(&probs, grid(), classes, 0.8);
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(found[0].class, 1);
    assert_eq!((found[0].x, found[0].y), (24.0, 20.0));
    assert_eq!(found[0].cells, 2);
    assert!((found[0].score - 0.925).abs() < 1e-6);
    assert_eq!((found[1].class, found[1].x, found[1].y), (2, 28.0, 28.0));
    assert_eq!((found[2].x, found[2].y), (68.0, 68.0));
    assert_eq!((found[3].x, found[3].y), (76.0, 76.0));
}

#[test]
fn centroid_matching_counts_each_box_once() {
    let boxes = [ib(1, 10.0, 10.0, 20.0, 20.0), ib(2, 50.0, 50.0, 20.0, 20.0)];
    let mut per_class = vec![Counts::default(); 3];
    detection::match_image(
        &[
            // Two detections in the same box: one TP, one FP.
            centroid(1, 15.0, 15.0, 0.9),
            centroid(1, 25.0, 25.0, 0.95),
            // Inside the wheel box but called a box: FP for box, and the wheel is missed.
            centroid(1, 60.0, 60.0, 0.9),
            // A wheel nowhere: FP.
            centroid(2, 90.0, 5.0, 0.9),
        ],
        &boxes,
        &mut per_class,
    );
    let box_counts = Counts {
        true_positives: 1,
        false_positives: 2,
        false_negatives: 0,
    };
    let wheel_counts = Counts {
        true_positives: 0,
        false_positives: 1,
        false_negatives: 1,
    };
    assert_eq!(per_class[1], box_counts);
    assert_eq!(per_class[2], wheel_counts);
    let labels = ["background".to_owned(), "box".into(), "wheel".into()];
    let m = DetectionMetrics::from_counts(&labels, &per_class, 1, 0.8);
    assert_eq!(m.per_class.len(), 2);
    assert!((m.per_class[0].precision - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(m.per_class[0].recall, 1.0);
    assert!((m.per_class[0].f1 - 0.5).abs() < 1e-12);
    assert_eq!(m.per_class[1].f1, 0.0);
    // Overall: TP 1, FP 3, FN 1 → precision 0.25, recall 0.5, F1 2/(2+4) = 1/3.
    assert_eq!(m.precision, 0.25);
    assert_eq!(m.recall, 0.5);
    assert!((m.f1 - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn a_perfect_heat_map_scores_one_and_an_empty_one_zero() {
    let labels = ["background".to_owned(), "box".into()];
    let boxes = [ib(1, 8.0, 8.0, 16.0, 16.0), ib(1, 60.0, 20.0, 12.0, 12.0)];
    let targets = cell_targets(grid(), &boxes);
    let probs: Vec<f32> = targets
        .iter()
        .flat_map(|&c| if c == 1 { [0.0, 1.0] } else { [1.0, 0.0] })
        .collect();
    let m = DetectionMetrics::evaluate([(&probs[..], &boxes[..])], grid(), &labels, 0.8);
    assert_eq!((m.precision, m.recall, m.f1), (1.0, 1.0, 1.0));
    let background: Vec<f32> = (0..144).flat_map(|_| [1.0, 0.0]).collect();
    let m = DetectionMetrics::evaluate([(&background[..], &boxes[..])], grid(), &labels, 0.8);
    assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
    assert_eq!(m.per_class[0].counts.false_negatives, 2);
}
