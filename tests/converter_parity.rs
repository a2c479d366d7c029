//! TinyLab against TensorFlow's own TFLite converter, on two presets rebuilt in Keras with seeded
//! weights (`tests/fixtures/converter/make_models.py` made the fixtures and says how):
//! - the converter's int8 models run in TinyLab exactly as in TFLM;
//! - TinyLab quantizing the converter's float32 model on the same calibration windows gives the
//!   converter's int8 model field by field: the same operators and fused activations, per-channel
//!   weight scales on `quantized_dimension` 0, int8 weights, int32 biases with scale
//!   input × weight, activation scales and zero points, softmax at 1/256 and −128;
//! - TinyLab's own lowering of the preset emits the converter's operator sequence (Conv1D as
//!   RESHAPE + CONV_2D with a 1×3 kernel).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::pyref::{run_reference, write_npy_i8};
use std::path::{Path, PathBuf};
use tinylab::quant::interpreter::{Runner, TensorData};
use tinylab::quant::ptq::{PtqOptions, quantize};
use tinylab::quant::{Graph, OpKind, Quantization, lower};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/converter")
        .join(name)
}

fn read(name: &str) -> Graph {
    tinylab::export::tflite::read(&std::fs::read(fixture(name)).unwrap()).unwrap()
}

fn calibration(name: &str) -> Vec<Vec<f32>> {
    let bytes = std::fs::read(fixture(&format!("{name}_calibration.npy"))).unwrap();
    let array = tinylab::quant::npy::parse(&bytes).unwrap();
    let TensorData::F32(values) = array.data else {
        panic!("float32 calibration expected");
    };
    values.chunks(array.shape[1]).map(<[f32]>::to_vec).collect()
}

fn quantization(graph: &Graph, index: usize) -> Quantization {
    graph.tensors[index].quantization.clone().unwrap()
}

fn close(a: f32, b: f32, relative: f32) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs())
}

const MODELS: [&str; 2] = ["motion_dnn", "kws_conv1d"];

#[test]
fn converter_int8_models_run_exactly_as_in_tflm() {
    let scratch = tempfile::tempdir().unwrap();
    for name in MODELS {
        let path = fixture(&format!("{name}_int8.tflite"));
        let graph = read(&format!("{name}_int8.tflite"));
        let runner = Runner::new(&graph).unwrap();
        let input = &graph.tensors[graph.inputs[0]];
        let (scale, zero_point) = input.quantization.as_ref().unwrap().single().unwrap();
        for (n, x) in calibration(name).iter().take(4).enumerate() {
            let q: Vec<i8> = x
                .iter()
                .map(|v| ((v / scale).round() + zero_point as f32).clamp(-128.0, 127.0) as i8)
                .collect();
            let ours = match runner
                .invoke(&[TensorData::I8(q.clone())])
                .unwrap()
                .remove(0)
            {
                TensorData::I8(v) => v,
                other => panic!("{:?}", other.dtype()),
            };
            let npy = scratch.path().join(format!("{name}{n}.npy"));
            write_npy_i8(&npy, &input.shape, &q);
            let tflm: Vec<i8> = run_reference(&path, &npy, "tflm")[0]
                .values
                .iter()
                .map(|&v| v as i8)
                .collect();
            assert_eq!(ours, tflm, "{name} input {n}");
        }
    }
}

#[test]
fn tinylab_quantizes_like_the_converter_field_by_field() {
    for name in MODELS {
        let float = read(&format!("{name}_float.tflite"));
        let theirs = read(&format!("{name}_int8.tflite"));
        let options = PtqOptions {
            per_channel: true,
            percentile: None,
        };
        let ours = quantize(&float, &calibration(name), options).unwrap();
        let kinds = |g: &Graph| {
            g.operators
                .iter()
                .map(|o| o.kind.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&ours),
            kinds(&theirs),
            "{name}: operators and options"
        );
        let input = |g: &Graph| quantization(g, g.inputs[0]);
        let (a, b) = (input(&ours), input(&theirs));
        assert!(
            close(a.scale[0], b.scale[0], 1e-5),
            "{name} input {a:?} {b:?}"
        );
        assert_eq!(a.zero_point, b.zero_point, "{name} input");
        let mut weights_compared = 0;
        let mut weights_one_off = 0;
        for (position, (mine, conv)) in ours.operators.iter().zip(&theirs.operators).enumerate() {
            let what = format!("{name} op {position} {}", mine.kind.name());
            // Every output: same scale (within float rounding of the same min/max) and zero point.
            let (a, b) = (
                quantization(&ours, mine.outputs[0]),
                quantization(&theirs, conv.outputs[0]),
            );
            assert!(
                close(a.scale[0], b.scale[0], 1e-5),
                "{what} output {a:?} {b:?}"
            );
            assert!(
                (a.zero_point[0] - b.zero_point[0]).abs() <= 1,
                "{what} output {a:?} {b:?}"
            );
            if let OpKind::Softmax { .. } = mine.kind {
                assert_eq!(a, Quantization::per_tensor(1.0 / 256.0, -128), "{what}");
            }
            let weighted = matches!(
                mine.kind,
                OpKind::Conv2d { .. } | OpKind::FullyConnected { .. }
            );
            if !weighted {
                continue;
            }
            let (w, cw) = (mine.inputs[1].unwrap(), conv.inputs[1].unwrap());
            let (a, b) = (quantization(&ours, w), quantization(&theirs, cw));
            assert_eq!(
                a.quantized_dimension, b.quantized_dimension,
                "{what} weights"
            );
            assert_eq!(
                a.scale.len(),
                b.scale.len(),
                "{what}: per-channel or per-tensor"
            );
            for (x, y) in a.scale.iter().zip(&b.scale) {
                assert!(close(*x, *y, 1e-5), "{what} weight scale {x} {y}");
            }
            assert!(a.zero_point.iter().all(|&z| z == 0) && b.zero_point.iter().all(|&z| z == 0));
            let (qa, qb) = (
                ours.tensors[w].data_i8().unwrap(),
                theirs.tensors[cw].data_i8().unwrap(),
            );
            for (x, y) in qa.iter().zip(&qb) {
                let diff = (*x as i32 - *y as i32).abs();
                assert!(diff <= 1, "{what} weight {x} {y}");
                weights_one_off += usize::from(diff == 1);
                weights_compared += 1;
            }
            let (bias, cbias) = (mine.inputs[2].unwrap(), conv.inputs[2].unwrap());
            let (a, b) = (quantization(&ours, bias), quantization(&theirs, cbias));
            let input_scale = quantization(&ours, mine.inputs[0].unwrap()).scale[0];
            let weight_scales = quantization(&ours, w).scale;
            for (i, (x, y)) in a.scale.iter().zip(&b.scale).enumerate() {
                let expected = input_scale * weight_scales[i.min(weight_scales.len() - 1)];
                assert!(
                    close(*x, expected, 1e-5),
                    "{what} bias scale = input × weight"
                );
                assert!(close(*x, *y, 1e-5), "{what} bias scale {x} {y}");
            }
            let (ba, bb) = (
                ours.tensors[bias].data_i32().unwrap(),
                theirs.tensors[cbias].data_i32().unwrap(),
            );
            for (x, y) in ba.iter().zip(&bb) {
                assert!((x - y).abs() <= 1, "{what} bias {x} {y}");
            }
        }
        println!(
            "{name}: {weights_one_off} of {weights_compared} int8 weights one step off the converter's"
        );
        assert!(
            weights_one_off * 100 <= weights_compared,
            "{name}: more than 1 % of weights differ"
        );
    }
}

#[test]
fn lowering_emits_the_converters_operators() {
    for (name, preset, shape, classes) in [
        ("motion_dnn", "motion-dnn", vec![39], 4),
        ("kws_conv1d", "kws-conv1d", vec![637], 5),
    ] {
        let layers = tinylab::models::preset(preset).unwrap().layers;
        let model = tinylab::nn::Model::classifier(&shape, &layers, classes, 1).unwrap();
        let ours = lower::lower_float(&model, preset).unwrap();
        let theirs = read(&format!("{name}_float.tflite"));
        let kinds = |g: &Graph| {
            g.operators
                .iter()
                .map(|o| o.kind.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&ours), kinds(&theirs), "{preset}");
        let shapes = |g: &Graph| {
            g.operators
                .iter()
                .map(|o| g.tensors[o.outputs[0]].shape.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(shapes(&ours), shapes(&theirs), "{preset}: output shapes");
    }
}
