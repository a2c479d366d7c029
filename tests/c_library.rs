//! The int8 model as C (`export::c_model`), checked against TinyLab's Rust int8 engine (which
//! `tests/quantization.rs` checks against TensorFlow Lite Micro): every model preset, and each
//! operator kind alone, generated, compiled with `gcc -std=c99 -Wall -Wextra -Werror -pedantic
//! -O2` (and clang when installed) together with the harness `tests/c_harness/main.c`, and run
//! on several inputs — int8 outputs bit for bit, float scores (quantize, invoke, dequantize)
//! identical; the generated text has no allocation and no recursion; its static arena is no
//! larger than the smallest arena TFLM's interpreter accepts for the same `.tflite`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use tinylab::export::c_model::{CModel, ModelInfo, model_sources};
use tinylab::nn::{Layer, Model};
use tinylab::quant::interpreter::{Runner, TensorData};
use tinylab::quant::ptq::{PtqOptions, quantize};
use tinylab::quant::{Graph, lower};
use tinylab::rng::Rng;

/// The input shape each preset is tested with (a preset added to models/ must be added here).
fn preset_shape(id: &str) -> Vec<usize> {
    match id {
        "motion-dnn" => vec![39],
        "kws-conv1d" => vec![637],
        "image-cnn" => vec![32, 32, 3],
        "mobilenetv2-0.1" | "mobilenetv2-0.35" => vec![96, 96, 3],
        "fomo-mobilenetv2-0.35" => vec![96, 96, 1],
        other => panic!("tests/c_library.rs: give preset {other} an input shape"),
    }
}

/// Each operator kind the presets may not reach, alone before the classifier head.
fn single_layers() -> Vec<(&'static str, &'static str, Vec<usize>)> {
    vec![
        (
            "avg_pool2d_same_stride_2",
            "type = \"avg_pool2d\"\npool_size = [3, 3]\nstride = [2, 2]\npadding = \"same\"",
            vec![7, 5, 3],
        ),
        (
            "max_pool1d",
            "type = \"max_pool1d\"\npool_size = 3",
            vec![10, 2],
        ),
        (
            "conv1d_valid_stride_2",
            "type = \"conv1d\"\nfilters = 4\nkernel_size = 5\nstride = 2\npadding = \"valid\"",
            vec![20, 3],
        ),
        (
            "depthwise_valid",
            "type = \"depthwise_conv2d\"\nkernel_size = [3, 3]\npadding = \"valid\"",
            vec![6, 6, 4],
        ),
        ("relu6_alone", "type = \"relu6\"", vec![12]),
        ("relu_alone", "type = \"relu\"", vec![12]),
        (
            "global_average_pool",
            "type = \"global_avg_pool\"",
            vec![4, 4, 3],
        ),
    ]
}

fn random_inputs(count: usize, len: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| (0..len).map(|_| rng.range((-1.0, 1.0)) as f32).collect())
        .collect()
}

/// `model` lowered and quantized on random calibration windows.
fn int8_graph(model: &Model, shape: &[usize], per_channel: bool) -> Graph {
    let float = lower::lower_float(model, "c_library test").unwrap();
    let len = shape.iter().product();
    let calibration = random_inputs(8, len, 3);
    quantize(
        &float,
        &calibration,
        PtqOptions {
            per_channel,
            percentile: None,
        },
    )
    .unwrap()
}

/// Every model of part (a): the presets, a per-tensor motion model, and each single layer.
fn all_graphs() -> Vec<(String, Graph, usize)> {
    let mut graphs = Vec::new();
    for id in tinylab::models::preset_ids() {
        let preset = tinylab::models::preset(id).unwrap();
        let shape = preset_shape(id);
        let mut model = Model::with_head(&shape, &preset.layers, 3, 7, preset.head).unwrap();
        common::randomise_batch_norms(&mut model.layers, &mut Rng::new(11));
        graphs.push((id.to_string(), int8_graph(&model, &shape, true), 3));
        if id == "motion-dnn" {
            graphs.push((
                "motion-dnn-per-tensor".into(),
                int8_graph(&model, &shape, false),
                3,
            ));
        }
    }
    for (name, layer, shape) in single_layers() {
        let layer: Layer = toml::from_str(layer).unwrap();
        let mut model = Model::classifier(&shape, &[layer, Layer::Flatten], 3, 5).unwrap();
        common::randomise_batch_norms(&mut model.layers, &mut Rng::new(2));
        graphs.push((name.to_string(), int8_graph(&model, &shape, true), 3));
    }
    graphs
}

fn labels(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("class \"{i}\"")).collect()
}

fn generate(graph: &Graph, labels: &[String]) -> CModel {
    model_sources(
        graph,
        &ModelInfo {
            project: "test */ project",
            run: "run-001",
            generated: "2025-01-01",
            labels,
            with_classify: false,
        },
        None,
    )
    .unwrap()
}

/// The C compilers to build with: gcc, and clang when one is installed.
fn compilers() -> Vec<String> {
    let mut found = vec!["gcc".to_string()];
    for clang in ["clang", "clang-14", "clang-15", "clang-16"] {
        if Command::new(clang).arg("--version").output().is_ok() {
            found.push(clang.to_string());
            break;
        }
    }
    found
}

fn harness_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c_harness/main.c")
}

/// Compiles `dir`'s `.c` files with the harness under the strict flags; returns the binary.
fn compile(compiler: &str, dir: &Path, extra: &[&str]) -> PathBuf {
    let binary = dir.join(format!("harness-{compiler}"));
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    let out = Command::new(compiler)
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-O2",
        ])
        .args(extra)
        .arg("-I")
        .arg(dir)
        .arg(harness_source())
        .args(&sources)
        .arg("-o")
        .arg(&binary)
        .arg("-lm")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} rejected the generated C in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    binary
}

fn run_harness(binary: &Path, mode: &str, input: &[u8], dir: &Path) -> Vec<u8> {
    let (in_path, out_path) = (
        dir.join(format!("{mode}.in")),
        dir.join(format!("{mode}.out")),
    );
    std::fs::write(&in_path, input).unwrap();
    let out = Command::new(binary)
        .arg(mode)
        .arg(&in_path)
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {mode} failed: {}",
        binary.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(out_path).unwrap()
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn write_library(dir: &Path, model: &CModel) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("tinylab_model.h"), &model.header).unwrap();
    std::fs::write(dir.join("tinylab_model.c"), &model.source).unwrap();
}

/// Part (a): the C gives the Rust engine's int8 outputs, and its float entry point the Rust
/// engine's probabilities, bit for bit.
fn check_bit_exact(name: &str, graph: &Graph, classes: usize, root: &Path) {
    let model = generate(graph, &labels(classes));
    let dir = root.join(name);
    write_library(&dir, &model);
    let runner = Runner::new(graph).unwrap();
    let windows = 4;
    let mut rng = Rng::new(17);
    let int8_inputs: Vec<Vec<i8>> = (0..windows)
        .map(|_| {
            (0..model.input_len)
                .map(|_| rng.range((-128.0, 128.0)).floor() as i8)
                .collect()
        })
        .collect();
    // Float features spread over more than the input's range, so clamping is exercised.
    let float_inputs: Vec<Vec<f32>> = random_inputs(windows, model.input_len, 23)
        .into_iter()
        .map(|x| x.into_iter().map(|v| v * 3.0).collect())
        .collect();
    let expected_int8: Vec<i8> = int8_inputs
        .iter()
        .flat_map(|x| {
            match runner
                .invoke(&[TensorData::I8(x.clone())])
                .unwrap()
                .remove(0)
            {
                TensorData::I8(v) => v,
                other => panic!("{name}: int8 output expected, got {:?}", other.dtype()),
            }
        })
        .collect();
    let expected_scores: Vec<f32> = float_inputs
        .iter()
        .flat_map(|x| {
            let mut scores = runner.probabilities(x).unwrap();
            scores.push(0.0); // the harness appends the anomaly score (none here)
            scores
        })
        .collect();
    for compiler in compilers() {
        let binary = compile(&compiler, &dir, &[]);
        let input: Vec<u8> = int8_inputs.iter().flatten().map(|&v| v as u8).collect();
        let got: Vec<i8> = run_harness(&binary, "int8", &input, &dir)
            .into_iter()
            .map(|b| b as i8)
            .collect();
        assert_eq!(got.len(), expected_int8.len(), "{name} ({compiler})");
        assert_eq!(
            got, expected_int8,
            "{name} ({compiler}): int8 outputs differ"
        );
        let input = f32_bytes(&float_inputs.concat());
        let got = f32s(&run_harness(&binary, "float", &input, &dir));
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            expected_scores
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            "{name} ({compiler}): scores differ: {got:?} vs {expected_scores:?}"
        );
    }
    check_text(name, &model);
}

/// Part (c): no allocation, and no function whose body calls itself.
fn check_text(name: &str, model: &CModel) {
    for text in [&model.header, &model.source] {
        for banned in ["malloc", "calloc", "realloc", "free("] {
            assert!(!text.contains(banned), "{name}: the C mentions {banned}");
        }
    }
    // A function definition starts at column 0 with `type name(` and ends at the next `}` at
    // column 0; its body must not mention its own name followed by `(`.
    let source = &model.source;
    let mut functions = 0;
    let lines: Vec<&str> = source.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let is_definition = !line.starts_with(' ')
            && !line.starts_with('#')
            && !line.starts_with('/')
            && line.contains('(')
            && !line.trim_end().ends_with(';');
        if is_definition {
            let before_paren = &line[..line.find('(').unwrap()];
            let function = before_paren
                .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap()
                .to_string();
            let mut body = String::new();
            i += 1;
            while i < lines.len() && !lines[i].starts_with('}') {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            let call = format!("{function}(");
            assert!(
                !body.contains(&call),
                "{name}: {function} calls itself:\n{body}"
            );
            functions += 1;
        }
        i += 1;
    }
    assert!(functions >= 4, "{name}: only {functions} functions found");
}

#[test]
fn every_preset_and_operator_compiles_and_matches_the_int8_engine_bit_for_bit() {
    let root = tempfile::tempdir().unwrap();
    let graphs = all_graphs();
    let mut kinds = std::collections::BTreeSet::new();
    for (name, graph, classes) in &graphs {
        check_bit_exact(name, graph, *classes, root.path());
        kinds.extend(graph.operators.iter().map(|op| op.kind.name()));
    }
    // Every operator kind an int8 graph of TinyLab contains was generated at least once.
    for kind in [
        "FULLY_CONNECTED",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "MAX_POOL_2D",
        "AVERAGE_POOL_2D",
        "MEAN",
        "ADD",
        "RESHAPE",
        "SOFTMAX",
        "RELU",
        "RELU6",
    ] {
        assert!(kinds.contains(kind), "no test model contains {kind}");
    }
}

/// The smallest arena TFLM's Python interpreter accepts for `model` (`tests/reference/tflm_arena.py`).
fn tflm_arena_bytes(tflite: &Path) -> usize {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/tflm_arena.py");
    let out = Command::new(common::pyref::python())
        .arg(script)
        .arg(tflite)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tflm_arena.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    value["arena_bytes"].as_u64().unwrap() as usize
}

/// Part (d): the static arena is no larger than TFLM's for the same `.tflite` (the figures go in
/// README: `cargo test --locked --test c_library arena -- --nocapture`).
#[test]
fn arena_is_no_larger_than_tflite_micros() {
    let root = tempfile::tempdir().unwrap();
    for (name, graph, classes) in all_graphs()
        .into_iter()
        .filter(|(n, _, _)| !n.contains('_') && !n.ends_with("per-tensor"))
    {
        let model = generate(&graph, &labels(classes));
        let path = root.path().join(format!("{name}.tflite"));
        std::fs::write(&path, tinylab::export::tflite::write(&graph).unwrap()).unwrap();
        let tflm = tflm_arena_bytes(&path);
        println!(
            "{name}: C arena {} bytes, TFLM arena {tflm} bytes",
            model.arena_bytes
        );
        assert!(
            model.arena_bytes <= tflm,
            "{name}: the C arena ({}) is larger than TFLM's ({tflm})",
            model.arena_bytes
        );
    }
}

/// Part (b): a trained demo library against the Rust engine on the demo's test split. `input`
/// is what the harness mode `mode` reads (built with `define`), one record per window; `rust` the
/// Rust DSP's features of each. The C features are within 1e-5 (relative to max(1, |value|)) of
/// Rust's; their int8 quantization is identical on ≥ 99.9 % of the elements; the C scores (and
/// anomaly scores) are bit-identical to the Rust int8 engine's on the C features, and on Rust's
/// own features for every window whose quantized input is the same.
fn check_like_the_engine(
    demo: &common::demo_library::DemoLibrary,
    (mode, define): (&str, &str),
    input: &[u8],
    rust: &[Vec<f32>],
    feature_names: &[String],
) {
    let record = &demo.stored.record;
    let runner = Runner::new(&demo.int8).unwrap();
    let columns = record.model.anomaly.feature_indices(feature_names);
    let windows_count = rust.len();
    let features_len = rust[0].len();
    let classes = record.labels.len();
    let tensor = demo.int8.tensor(demo.int8.inputs[0]).unwrap();
    let (scale, zero_point) = tensor.quantization.as_ref().unwrap().single().unwrap();
    let quantize = |x: &[f32]| -> Vec<i8> {
        tinylab::quant::kernels::elementwise::quantize_f32_to_i8(x, scale, zero_point as i32)
    };
    for compiler in compilers() {
        let binary = compile(&compiler, &demo.lib, &[define]);
        let got = f32s(&run_harness(&binary, mode, input, &demo.lib));
        let per_window = features_len + classes + 1;
        assert_eq!(got.len(), windows_count * per_window, "{compiler}");
        let (mut worst, mut same_int8, mut same_windows) = (0.0f32, 0usize, 0usize);
        for (w, rust) in rust.iter().enumerate() {
            let row = &got[w * per_window..(w + 1) * per_window];
            let (c_features, c_scores) = row.split_at(features_len);
            for (c, r) in c_features.iter().zip(rust) {
                worst = worst.max((c - r).abs() / r.abs().max(1.0));
            }
            let (c_q, r_q) = (quantize(c_features), quantize(rust));
            same_int8 += c_q.iter().zip(&r_q).filter(|(a, b)| a == b).count();
            // The model half is exact: the C scores are the Rust engine's on the C features.
            let mut expected = runner.probabilities(c_features).unwrap();
            expected.push(demo.stored.anomaly.as_ref().map_or(0.0, |kmeans| {
                let picked: Vec<f32> = columns.iter().map(|&c| c_features[c]).collect();
                kmeans.score(&picked)
            }));
            assert_eq!(
                c_scores.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{compiler}: window {w}: scores {c_scores:?} vs the Rust engine's {expected:?}"
            );
            if c_q == r_q {
                same_windows += 1;
                let rust_scores = runner.probabilities(rust).unwrap();
                assert_eq!(&c_scores[..classes], rust_scores.as_slice(), "window {w}");
            }
        }
        let share = same_int8 as f64 / (windows_count * features_len) as f64;
        println!(
            "{compiler}: {windows_count} test windows, features within {worst:e}, int8 input \
             identical on {:.4} % of elements, {same_windows} windows with identical int8 input \
             and so identical scores",
            share * 100.0
        );
        assert!(worst <= 1e-5, "{compiler}: features differ by {worst}");
        assert!(
            share >= 0.999,
            "{compiler}: int8 input identical on {share}"
        );
    }
}

/// A time-series lab's demo, trained `epochs` epochs and exported by the CLI: every window of its
/// test split raw → `tinylab_dsp` → `tinylab_classify` in C against the Rust DSP and int8 engine.
/// Returns the demo and its test windows.
fn check_series_demo(
    lab: &str,
    epochs: &str,
    root: &Path,
) -> (
    common::demo_library::DemoLibrary,
    common::demo_library::SeriesWindows,
) {
    let demo = common::demo_library::trained_demo_library(root, lab, epochs);
    let windows = common::demo_library::series_test_windows(&demo);
    println!("{lab}: {}", demo.export_said.trim());
    check_like_the_engine(
        &demo,
        ("raw", "-DTL_HARNESS_RAW"),
        &f32_bytes(&windows.raw.concat()),
        &windows.features,
        &windows.names,
    );
    (demo, windows)
}

#[test]
fn trained_motion_library_classifies_the_test_split_like_the_rust_engine() {
    let root = tempfile::tempdir().unwrap();
    let (demo, windows) = check_series_demo("motion", "20", root.path());
    let model_source = std::fs::read_to_string(demo.lib.join("tinylab_model.c")).unwrap();
    assert!(
        model_source.contains("tl_anomaly"),
        "the demo run has a K-means detector"
    );
    assert!(
        windows.raw.len() > 100,
        "{} test windows",
        windows.raw.len()
    );
}

/// The KWS demo (espeak words in one-second clips at 16 kHz, MFCC 13 × 49, `kws-conv1d`): each
/// test clip's int16 samples raw → MFCC → int8 model in C, as in Rust.
#[test]
fn trained_kws_library_classifies_the_test_split_like_the_rust_engine() {
    let root = tempfile::tempdir().unwrap();
    let (demo, windows) = check_series_demo("kws", "15", root.path());
    let header = std::fs::read_to_string(demo.lib.join("tinylab_dsp.h")).unwrap();
    assert!(header.contains("16000"), "one second at 16 kHz:\n{header}");
    assert!(windows.raw.len() >= 40, "{} test clips", windows.raw.len());
    assert!(windows.raw.iter().all(|w| w.len() == 16_000));
}

/// The image demo (drawn pictures, 128 × 96 JPEG, squashed to 96 × 96 RGB, `image-cnn`): each
/// test image's decoded RGB888 at its file size → `tinylab_dsp_image` (the resize in C) →
/// `tinylab_infer`, as in Rust.
#[test]
fn trained_image_library_classifies_the_test_split_like_the_rust_engine() {
    let root = tempfile::tempdir().unwrap();
    let demo = common::demo_library::trained_demo_library(root.path(), "image", "3");
    println!("image: {}", demo.export_said.trim());
    let images = common::demo_library::image_test_windows(&demo);
    assert!(images.len() >= 10, "{} test images", images.len());
    assert!(
        images.iter().any(|i| (i.width, i.height) != (96, 96)),
        "the resize must be exercised"
    );
    let mut input = Vec::new();
    for image in &images {
        input.extend(image.width.to_le_bytes());
        input.extend(image.height.to_le_bytes());
        input.extend(&image.rgb);
    }
    let features: Vec<Vec<f32>> = images.into_iter().map(|i| i.features).collect();
    check_like_the_engine(
        &demo,
        ("image", "-DTL_HARNESS_IMAGE"),
        &input,
        &features,
        &[],
    );
}
