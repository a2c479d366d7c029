//! A lab's demo project trained and exported as a C library through the command line, and its
//! test split as that library takes it — each window's raw input (or each image's decoded RGB)
//! beside the Rust DSP's features of it and the run's int8 graph — for the tests that compare
//! the C with the Rust engine (`tests/c_library.rs` on the host, `tests/cortex_m.rs` on QEMU).

use std::path::{Path, PathBuf};

use tinylab::dsp::block::BlockInput;
use tinylab::dsp::image::ImageInput;
use tinylab::dsp::windowing::{readings_in, window_values, windows};
use tinylab::project::Project;
use tinylab::project::runs::StoredRun;
use tinylab::project::sample::Split;
use tinylab::quant::Graph;

/// A trained demo project and its exported C library.
pub struct DemoLibrary {
    /// The project folder.
    pub project: PathBuf,
    /// The `c-library` export's folder.
    pub lib: PathBuf,
    /// What `tinylab export` printed (the RAM and flash figures).
    pub export_said: String,
    /// The run exported.
    pub stored: StoredRun,
    /// Its int8 graph, read back from the run's `model-int8.tflite`.
    pub int8: Graph,
}

/// `tinylab new ROOT/demo --lab LAB --demo`, `train --epochs EPOCHS --seed 3`, `export --format
/// c-library --out ROOT/lib`; the export's folder must hold exactly the contract's four files.
pub fn trained_demo_library(root: &Path, lab: &str, epochs: &str) -> DemoLibrary {
    let project = root.join("demo");
    let p = project.to_str().unwrap();
    super::ok(&["new", p, "--lab", lab, "--demo"]);
    super::ok(&["train", p, "--epochs", epochs, "--seed", "3"]);
    let lib = root.join("lib");
    let export_said = super::ok(&[
        "export",
        p,
        "--format",
        "c-library",
        "--out",
        lib.to_str().unwrap(),
    ]);
    assert!(
        export_said.contains("RAM:") && export_said.contains("flash:"),
        "{export_said}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&lib)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "tinylab_dsp.c",
            "tinylab_dsp.h",
            "tinylab_model.c",
            "tinylab_model.h"
        ]
    );
    let stored = tinylab::project::runs::load(&project, None).unwrap();
    let int8 = tinylab::export::tflite::read(
        &std::fs::read(
            tinylab::project::runs::run_dir(&project, &stored.record.id)
                .join(tinylab::project::runs::INT8_TFLITE),
        )
        .unwrap(),
    )
    .unwrap();
    DemoLibrary {
        project,
        lib,
        export_said,
        stored,
        int8,
    }
}

/// The test split of a time-series (motion, audio) project, one entry per window.
pub struct SeriesWindows {
    /// Each window's values as `tinylab_dsp` takes them (readings × axes; audio in int16 units).
    pub raw: Vec<Vec<f32>>,
    /// The Rust DSP's features of each window.
    pub features: Vec<Vec<f32>>,
    /// The feature names (for the anomaly detector's columns).
    pub names: Vec<String>,
}

/// Every window of every test sample of `demo`, through the run's own DSP in Rust.
pub fn series_test_windows(demo: &DemoLibrary) -> SeriesWindows {
    let project = Project::open(&demo.project).unwrap();
    let record = &demo.stored.record;
    let mut out = SeriesWindows {
        raw: Vec::new(),
        features: Vec::new(),
        names: Vec::new(),
    };
    for meta in project.samples().iter().filter(|m| m.split == Split::Test) {
        let series = project.load_series(meta.id).unwrap();
        let axes = series.axes.len();
        let window_readings = readings_in(record.impulse.window_ms, meta.rate_hz);
        for range in windows(series.readings(), meta.rate_hz, &record.impulse) {
            let values = window_values(&series.values, axes, range, window_readings);
            let features = record
                .dsp
                .features(&BlockInput::Signal {
                    signal: tinylab::dsp::Signal {
                        axes,
                        rate_hz: meta.rate_hz,
                        values: &values,
                    },
                    axis_names: &series.axes,
                })
                .unwrap();
            out.names = features.names;
            out.raw.push(values);
            out.features.push(features.values);
        }
    }
    out
}

/// One test image of an image project, decoded as the app decodes it.
pub struct TestImage {
    /// Its width in pixels (the file's, before the block's resize).
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// RGB888, row-major.
    pub rgb: Vec<u8>,
    /// The Rust image block's features of it.
    pub features: Vec<f32>,
}

/// Every test image of `demo`, through the run's image block in Rust.
pub fn image_test_windows(demo: &DemoLibrary) -> Vec<TestImage> {
    let project = Project::open(&demo.project).unwrap();
    let dsp = &demo.stored.record.dsp;
    project
        .samples()
        .iter()
        .filter(|m| m.split == Split::Test)
        .map(|meta| {
            let (width, height, rgb) = project.load_image(meta.id).unwrap();
            let features = dsp
                .features(&BlockInput::Image(ImageInput {
                    width,
                    height,
                    rgb: &rgb,
                }))
                .unwrap()
                .values;
            TestImage {
                width,
                height,
                rgb,
                features,
            }
        })
        .collect()
}
