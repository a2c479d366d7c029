//! The `.tflite` reader and writer against TensorFlow's own files and runtimes: the TFLM
//! example models read to the numbers TensorFlow's Python schema reader and LiteRT report,
//! round trips, LiteRT and TFLM running what we write, and damaged files failing cleanly.
//!
//! The expected numbers in `check_reference_model` calls were dumped once from the files in
//! /work/shared/reference/tflm-models (never copied here) with `ai_edge_litert`'s generated
//! `schema_py_generated` (Model/SubGraph/Tensor/Operator accessors, builtin codes as
//! `max(deprecated_builtin_code, builtin_code)`) and `Interpreter.get_tensor_details()`; floats
//! are numpy's `repr(np.float32(..))`, the shortest decimal that parses back to the same f32, and
//! are compared exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};

use common::pyref::{run_reference, write_npy_f32, write_npy_i8};
use tinylab::export::tflite;
use tinylab::nn::Padding;
use tinylab::quant::{
    Activation, DType, Graph, Metadata, OpKind, Operator, QuantError, TensorSpec,
};

const MODELS_DIR: &str = "/work/shared/reference/tflm-models";

fn model_path(name: &str) -> PathBuf {
    Path::new(MODELS_DIR).join(format!("{name}.tflite"))
}

fn model_bytes(name: &str) -> Vec<u8> {
    std::fs::read(model_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// What an input or output tensor should be: shape, type, per-tensor (scale, zero point).
struct Io {
    index: usize,
    name: &'static str,
    shape: &'static [usize],
    dtype: DType,
    quantization: Option<(f32, i64)>,
}

struct Expected {
    name: &'static str,
    tensor_count: usize,
    ops: Vec<&'static str>,
    input: Io,
    output: Io,
    description: &'static str,
    metadata_names: &'static [&'static str],
}

fn check_io(graph: &Graph, io: &Io, model: &str) {
    let t = &graph.tensors[io.index];
    assert_eq!(t.name, io.name, "{model}");
    assert_eq!(t.shape, io.shape, "{model} {}", io.name);
    assert_eq!(t.dtype, io.dtype, "{model} {}", io.name);
    let q = t.quantization.as_ref().map(|q| q.single().unwrap());
    assert_eq!(q, io.quantization, "{model} {}", io.name);
}

/// Reads the model and checks it against the independently dumped numbers; returns the graph.
fn check_reference_model(expected: &Expected) -> Graph {
    let graph = tflite::read(&model_bytes(expected.name))
        .unwrap_or_else(|e| panic!("{}: {e}", expected.name));
    assert_eq!(
        graph.tensors.len(),
        expected.tensor_count,
        "{}",
        expected.name
    );
    let ops: Vec<&str> = graph.operators.iter().map(|op| op.kind.name()).collect();
    assert_eq!(ops, expected.ops, "{}", expected.name);
    assert_eq!(graph.inputs, [expected.input.index], "{}", expected.name);
    assert_eq!(graph.outputs, [expected.output.index], "{}", expected.name);
    check_io(&graph, &expected.input, expected.name);
    check_io(&graph, &expected.output, expected.name);
    assert_eq!(graph.description, expected.description);
    let names: Vec<&str> = graph.metadata.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, expected.metadata_names, "{}", expected.name);
    graph
}

fn person_detect_expected() -> Expected {
    let mut ops = vec!["DEPTHWISE_CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"];
    for _ in 0..12 {
        ops.extend(["DEPTHWISE_CONV_2D", "CONV_2D"]);
    }
    ops.extend(["AVERAGE_POOL_2D", "CONV_2D", "RESHAPE", "SOFTMAX"]);
    Expected {
        name: "person_detect",
        tensor_count: 89,
        ops,
        input: Io {
            index: 88,
            name: "input",
            shape: &[1, 96, 96, 1],
            dtype: DType::I8,
            quantization: Some((0.007_843_138, -1)),
        },
        output: Io {
            index: 87,
            name: "MobilenetV1/Predictions/Reshape_1",
            shape: &[1, 2],
            dtype: DType::I8,
            quantization: Some((0.00390625, -128)),
        },
        description: "TOCO Converted.",
        metadata_names: &[],
    }
}

#[test]
fn person_detect_reads_as_tensorflow_describes_it() {
    let graph = check_reference_model(&person_detect_expected());
    // Per-channel depthwise weights: 8 scales along axis 3 of [1, 3, 3, 8].
    let w = &graph.tensors[0];
    assert_eq!(w.name, "MobilenetV1/Conv2d_0/weights/read");
    assert_eq!(w.shape, [1, 3, 3, 8]);
    assert_eq!(w.dtype, DType::I8);
    assert_eq!(w.data.len(), 72);
    let q = w.quantization.as_ref().unwrap();
    assert_eq!(
        (q.scale.len(), q.zero_point.len(), q.quantized_dimension),
        (8, 8, 3)
    );
    // Operator options as schema_py_generated reads them.
    let op0 = &graph.operators[0];
    assert_eq!(op0.inputs, [Some(88), Some(0), Some(33)]);
    assert_eq!(op0.outputs, [34]);
    assert_eq!(
        op0.kind,
        OpKind::DepthwiseConv2d {
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::Same,
            depth_multiplier: 8,
            activation: Activation::Relu6,
        }
    );
    assert_eq!(
        graph.operators[2].kind,
        OpKind::Conv2d {
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Same,
            activation: Activation::Relu6,
        }
    );
    assert_eq!(
        graph.operators[27].kind,
        OpKind::AveragePool2d {
            filter: [3, 3],
            stride: [2, 2],
            padding: Padding::Valid,
            activation: Activation::None,
        }
    );
    assert_eq!(
        graph.operators[29].kind,
        OpKind::Reshape {
            new_shape: Some(vec![1, 2])
        }
    );
    assert_eq!(graph.operators[29].inputs, [Some(28), Some(32)]);
    assert_eq!(graph.operators[30].kind, OpKind::Softmax { beta: 1.0 });
}

#[test]
fn micro_speech_reads_as_tensorflow_describes_it() {
    let graph = check_reference_model(&Expected {
        name: "micro_speech_quantized",
        tensor_count: 10,
        ops: vec!["RESHAPE", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"],
        input: Io {
            index: 3,
            name: "Reshape_1",
            shape: &[1, 1960],
            dtype: DType::I8,
            quantization: Some((0.101_715_684, -128)),
        },
        output: Io {
            index: 9,
            name: "labels_softmax",
            shape: &[1, 4],
            dtype: DType::I8,
            quantization: Some((0.00390625, -128)),
        },
        description: "TOCO Converted.",
        metadata_names: &["min_runtime_version"],
    });
    assert_eq!(
        graph.metadata_entry("min_runtime_version"),
        Some(&b"1.5.0"[..])
    );
    assert_eq!(
        graph.operators[0].kind,
        OpKind::Reshape {
            new_shape: Some(vec![-1, 49, 40, 1])
        }
    );
    assert_eq!(
        graph.operators[1].kind,
        OpKind::DepthwiseConv2d {
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::Same,
            depth_multiplier: 8,
            activation: Activation::Relu,
        }
    );
    assert_eq!(graph.operators[2].inputs, [Some(2), Some(7), Some(1)]);
    // Conv2D_bias: int32 [8], 8 scales (get_tensor_details: index 0).
    let bias = &graph.tensors[0];
    assert_eq!(
        (bias.name.as_str(), bias.dtype),
        ("Conv2D_bias", DType::I32)
    );
    assert_eq!(bias.quantization.as_ref().unwrap().scale.len(), 8);
}

fn hello_world_expected(name: &'static str, int8: bool) -> Expected {
    Expected {
        name,
        tensor_count: 10,
        ops: vec!["FULLY_CONNECTED"; 3],
        input: Io {
            index: 0,
            name: "serving_default_dense_input:0",
            shape: &[1, 1],
            dtype: if int8 { DType::I8 } else { DType::F32 },
            quantization: int8.then_some((0.024_480_116, -128)),
        },
        output: Io {
            index: 9,
            name: "StatefulPartitionedCall:0",
            shape: &[1, 1],
            dtype: if int8 { DType::I8 } else { DType::F32 },
            quantization: int8.then_some((0.008_290_957, 5)),
        },
        description: "MLIR Converted.",
        metadata_names: &["min_runtime_version", "CONVERSION_METADATA"],
    }
}

#[test]
fn hello_world_float_reads_as_tensorflow_describes_it() {
    let graph = check_reference_model(&hello_world_expected("hello_world_float", false));
    // LiteRT's get_tensor(4): sequential/dense/MatMul, float32 [16, 1].
    let w = &graph.tensors[4];
    assert_eq!(w.name, "sequential/dense/MatMul");
    assert_eq!(w.shape, [16, 1]);
    assert_eq!(
        w.data_f32().unwrap()[..4],
        [-0.121_809_36, -0.392_949_9, 0.196_248_13, 0.695_622_56]
    );
    assert_eq!(
        graph.operators[0].kind,
        OpKind::FullyConnected {
            activation: Activation::Relu,
            keep_num_dims: false
        }
    );
    assert_eq!(graph.operators[0].inputs, [Some(0), Some(4), Some(3)]);
    assert_eq!(
        graph.operators[2].kind,
        OpKind::FullyConnected {
            activation: Activation::None,
            keep_num_dims: false
        }
    );
}

#[test]
fn hello_world_int8_reads_as_tensorflow_describes_it() {
    let graph = check_reference_model(&hello_world_expected("hello_world_int8", true));
    // LiteRT's get_tensor(2): sequential/dense_2/MatMul, int8 [1, 16].
    let w = &graph.tensors[2];
    assert_eq!(w.name, "sequential/dense_2/MatMul");
    assert_eq!(
        w.data_i8().unwrap(),
        [
            -39, 59, 39, 21, 28, -32, -34, -35, 15, 27, -59, -41, 18, -35, -7, 127
        ]
    );
}

#[test]
fn keyword_scrambled_is_refused_naming_its_svdf_ops() {
    // Its ops (schema_py_generated): QUANTIZE, SVDF, FULLY_CONNECTED, ..., SOFTMAX, QUANTIZE.
    match tflite::read(&model_bytes("keyword_scrambled_8bit")) {
        Err(QuantError::Unsupported(what)) => assert_eq!(what, "SVDF"),
        other => panic!("expected SVDF to be unsupported, got {other:?}"),
    }
}

#[test]
fn read_write_read_is_the_first_read() {
    for name in [
        "person_detect",
        "micro_speech_quantized",
        "hello_world_int8",
        "hello_world_float",
    ] {
        let first = tflite::read(&model_bytes(name)).unwrap();
        let written = tflite::write(&first).unwrap();
        let second = tflite::read(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(second, first, "{name}");
        assert_eq!(
            written.len() % 16,
            0,
            "{name}: the file size is a multiple of 16"
        );
    }
}

#[test]
fn truncated_and_garbled_files_are_errors_not_panics() {
    let bytes = model_bytes("hello_world_int8");
    assert!(tflite::read(&[]).is_err());
    assert!(tflite::read(b"not a model at all").is_err());
    for len in (0..bytes.len()).step_by(7) {
        assert!(
            tflite::read(&bytes[..len]).is_err(),
            "truncated to {len} bytes"
        );
    }
    // Every byte position set to a few values: some reads succeed (a changed weight), none
    // may panic. A fixed-seed LCG picks extra random multi-byte damage.
    for position in 0..bytes.len() {
        for value in [0x00, 0x7f, 0x80, 0xff] {
            let mut garbled = bytes.clone();
            garbled[position] = value;
            let _ = tflite::read(&garbled);
        }
    }
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    for _ in 0..2000 {
        let mut garbled = bytes.clone();
        for _ in 0..1 + next() % 8 {
            let i = next() % garbled.len();
            garbled[i] = next() as u8;
        }
        let _ = tflite::read(&garbled);
    }
}

/// Runs `original` and our `write(read(original))` with `runtime` on the same input: outputs
/// must be identical (same kernels, same constants, same quantization).
fn check_rewrite_runs_the_same(name: &str, input_npy: &Path, runtime: &str, dir: &Path) {
    let ours = dir.join(format!("{name}_tinylab.tflite"));
    let graph = tflite::read(&model_bytes(name)).unwrap();
    std::fs::write(&ours, tflite::write(&graph).unwrap()).unwrap();
    let expected = run_reference(&model_path(name), input_npy, runtime);
    let got = run_reference(&ours, input_npy, runtime);
    assert!(!expected.is_empty());
    assert_eq!(got, expected, "{name} with {runtime}");
}

#[test]
fn litert_and_tflm_run_our_rewrite_of_hello_world_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.npy");
    write_npy_f32(&input, &[1, 1], &[1.5]);
    for runtime in ["litert-ref", "litert", "tflm"] {
        check_rewrite_runs_the_same("hello_world_float", &input, runtime, dir.path());
    }
    let input = dir.path().join("x_int8.npy");
    write_npy_i8(&input, &[1, 1], &[10]);
    for runtime in ["litert-ref", "tflm"] {
        check_rewrite_runs_the_same("hello_world_int8", &input, runtime, dir.path());
    }
}

#[test]
fn litert_and_tflm_run_our_rewrite_of_micro_speech_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("features.npy");
    let features: Vec<i8> = (0..1960)
        .map(|i| ((i * 29 + i / 40 * 7) % 256) as u8 as i8)
        .collect();
    write_npy_i8(&input, &[1, 1960], &features);
    for runtime in ["litert-ref", "tflm"] {
        check_rewrite_runs_the_same("micro_speech_quantized", &input, runtime, dir.path());
    }
}

#[test]
fn tflm_runs_our_rewrite_of_person_detect_like_the_original() {
    // LiteRT refuses the original itself ("quantized_dimension must be in range [0, 1). Was
    // 3." for its rank-1 biases), so only TFLM, which the file was made for, is the reference.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("image.npy");
    let pixels: Vec<i8> = (0..96 * 96)
        .map(|i| ((i * 37 + i / 96 * 11) % 256) as u8 as i8)
        .collect();
    write_npy_i8(&input, &[1, 96, 96, 1], &pixels);
    check_rewrite_runs_the_same("person_detect", &input, "tflm", dir.path());
}

#[test]
fn a_hand_built_float_graph_runs_in_litert_as_computed_by_hand() {
    // x [1, 3] → FULLY_CONNECTED (weights [3 units, 3 in], bias, fused RELU) → SOFTMAX.
    let x = [1.0f32, -2.0, 0.5];
    let weights = [[0.5f32, -1.0, 2.0], [1.5, 0.25, -0.5], [0.0, 0.0, 1.0]];
    let bias = [0.1f32, -1.2, 0.0];
    let mut graph = Graph {
        description: "hand-built by tests/tflite_io.rs".into(),
        metadata: vec![Metadata {
            name: "labels".into(),
            data: b"a\nb\nc\n".to_vec(),
        }],
        ..Graph::default()
    };
    let input = graph.push_tensor(TensorSpec::activation("x", vec![1, 3], DType::F32));
    let w = graph.push_tensor(TensorSpec::constant_f32(
        "dense/weights",
        vec![3, 3],
        weights.as_flattened(),
    ));
    let b = graph.push_tensor(TensorSpec::constant_f32("dense/bias", vec![3], &bias));
    let hidden = graph.push_tensor(TensorSpec::activation("dense/relu", vec![1, 3], DType::F32));
    let output = graph.push_tensor(TensorSpec::activation("softmax", vec![1, 3], DType::F32));
    graph.operators = vec![
        Operator {
            kind: OpKind::FullyConnected {
                activation: Activation::Relu,
                keep_num_dims: false,
            },
            inputs: vec![Some(input), Some(w), Some(b)],
            outputs: vec![hidden],
        },
        Operator {
            kind: OpKind::Softmax { beta: 1.0 },
            inputs: vec![Some(hidden)],
            outputs: vec![output],
        },
    ];
    graph.inputs = vec![input];
    graph.outputs = vec![output];

    // By hand: h = relu(W·x + b) = relu([0.5 + 2 + 1 + 0.1, 1.5 − 0.5 − 0.25 − 1.2, 0.5])
    // = [3.6, 0, 0.5]; softmax(h)_i = e^{h_i} / Σ e^{h_j}.
    let h = [3.6f64, 0.0, 0.5];
    let sum: f64 = h.iter().map(|v| v.exp()).sum();
    let expected: Vec<f64> = h.iter().map(|v| v.exp() / sum).collect();

    let bytes = tflite::write(&graph).unwrap();
    assert_eq!(tflite::read(&bytes).unwrap(), graph);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("hand.tflite");
    std::fs::write(&model, &bytes).unwrap();
    let input_npy = dir.path().join("x.npy");
    write_npy_f32(&input_npy, &[1, 3], &x);
    for runtime in ["litert-ref", "litert", "tflm"] {
        let outputs = run_reference(&model, &input_npy, runtime);
        assert_eq!(outputs.len(), 1, "{runtime}");
        assert_eq!(outputs[0].shape, [1, 3], "{runtime}");
        assert_eq!(outputs[0].dtype, "float32", "{runtime}");
        for (got, want) in outputs[0].values.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-5, "{runtime}: {got} vs {want}");
        }
    }
}

#[test]
fn writing_an_invalid_graph_is_an_error() {
    let mut graph = Graph::default();
    let x = graph.push_tensor(TensorSpec::activation("x", vec![1, 2], DType::F32));
    graph.inputs = vec![x];
    graph.outputs = vec![x + 1];
    assert!(matches!(tflite::write(&graph), Err(QuantError::Invalid(_))));
    // Constant bytes that do not fill the shape.
    let mut graph = Graph::default();
    let x = graph.push_tensor(TensorSpec::activation("x", vec![1, 2], DType::F32));
    let mut w = TensorSpec::constant_f32("w", vec![2, 2], &[1.0, 2.0, 3.0, 4.0]);
    w.data.pop();
    let w = graph.push_tensor(w);
    let y = graph.push_tensor(TensorSpec::activation("y", vec![1, 2], DType::F32));
    graph.operators = vec![Operator {
        kind: OpKind::FullyConnected {
            activation: Activation::None,
            keep_num_dims: false,
        },
        inputs: vec![Some(x), Some(w), None],
        outputs: vec![y],
    }];
    graph.inputs = vec![x];
    graph.outputs = vec![y];
    let err = tflite::write(&graph).unwrap_err();
    assert!(err.to_string().contains("\"w\""), "{err}");
}

#[test]
fn the_c_array_compiles_and_holds_the_model_bytes_16_byte_aligned() {
    use tinylab::export::c_array::c_array_files;
    let dir = tempfile::tempdir().unwrap();
    let graph = tflite::read(&model_bytes("hello_world_int8")).unwrap();
    let model = tflite::write(&graph).unwrap();
    assert_ne!(
        model.len() % 12,
        0,
        "the last line should be a short one here"
    );
    let labels = vec!["sine".to_owned(), "two\nlines".to_owned()];
    let files = c_array_files(&model, "g_model", &labels);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["model.h", "model.cc", "labels.txt"]);
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    assert_eq!(files[2].1, "sine\ntwo lines\n");
    let source = &files[1].1;
    assert!(source.contains("alignas(16) const unsigned char g_model[] = {"));
    assert!(source.contains(&format!(
        "const unsigned int g_model_len = {};",
        model.len()
    )));
    let full_lines = source
        .lines()
        .filter(|l| l.starts_with("    0x") && l.matches("0x").count() == 12)
        .count();
    assert_eq!(full_lines, model.len() / 12);

    // A program that writes the array back out as a file, and fails if it is misaligned.
    std::fs::write(
        dir.path().join("main.cc"),
        r#"#include <cstdint>
#include <cstdio>
#include "model.h"
int main(int argc, char** argv) {
  if (reinterpret_cast<std::uintptr_t>(g_model) % 16 != 0) return 2;
  std::FILE* out = std::fopen(argv[1], "wb");
  if (!out || std::fwrite(g_model, 1, g_model_len, out) != g_model_len) return 3;
  return std::fclose(out) == 0 ? 0 : 4;
}
"#,
    )
    .unwrap();
    let exe = dir.path().join("dump");
    let compiled = std::process::Command::new("g++")
        .current_dir(dir.path())
        .args([
            "-std=c++17",
            "-Wall",
            "-Werror",
            "main.cc",
            "model.cc",
            "-o",
        ])
        .arg(&exe)
        .output()
        .expect("g++ (scripts/install-deps.sh installs build-essential)");
    assert!(
        compiled.status.success(),
        "g++ failed: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let dumped = dir.path().join("dumped.tflite");
    let status = std::process::Command::new(&exe)
        .arg(&dumped)
        .status()
        .unwrap();
    assert!(status.success(), "the program failed: {status}");
    assert_eq!(std::fs::read(&dumped).unwrap(), model);
}
