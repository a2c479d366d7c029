//! End-to-end checks of [`Runner`] on small graphs whose outputs are worked out by hand from
//! TFLite's reference definitions.

use super::*;
use crate::nn::Padding;
use crate::quant::{Activation, OpKind, Operator, Quantization};

fn quantized(mut spec: TensorSpec, scale: f32, zero_point: i64) -> TensorSpec {
    spec.quantization = Some(Quantization::per_tensor(scale, zero_point));
    spec
}

fn op(kind: OpKind, inputs: &[Option<usize>], output: usize) -> Operator {
    Operator {
        kind,
        inputs: inputs.to_vec(),
        outputs: vec![output],
    }
}

/// Float FULLY_CONNECTED → SOFTMAX: x = [1, 2], w = [[1, 0], [0, -1]], b = [0, 1]:
/// logits [1, -1], softmax [e / (e + 1/e), ...].
fn float_classifier() -> Graph {
    let mut g = Graph::default();
    let x = g.push_tensor(TensorSpec::activation("x", vec![1, 2], DType::F32));
    let w = g.push_tensor(TensorSpec::constant_f32(
        "w",
        vec![2, 2],
        &[1.0, 0.0, 0.0, -1.0],
    ));
    let b = g.push_tensor(TensorSpec::constant_f32("b", vec![2], &[0.0, 1.0]));
    let logits = g.push_tensor(TensorSpec::activation("logits", vec![1, 2], DType::F32));
    let p = g.push_tensor(TensorSpec::activation("p", vec![1, 2], DType::F32));
    g.operators.push(op(
        OpKind::FullyConnected {
            activation: Activation::None,
            keep_num_dims: false,
        },
        &[Some(x), Some(w), Some(b)],
        logits,
    ));
    g.operators
        .push(op(OpKind::Softmax { beta: 1.0 }, &[Some(logits)], p));
    g.inputs = vec![x];
    g.outputs = vec![p];
    g
}

/// int8 FULLY_CONNECTED → RELU. Input scale 0.5, weights 0.25 (w = [[4, 0], [0, -4]], i.e.
/// [[1, 0], [0, -1]]), no bias, output scale 0.5, all zero points 0: the multiplier is
/// 0.5 · 0.25 / 0.5 = 0.25.
fn int8_classifier() -> Graph {
    let mut g = Graph::default();
    let x = g.push_tensor(quantized(
        TensorSpec::activation("x", vec![1, 2], DType::I8),
        0.5,
        0,
    ));
    let w = g.push_tensor(quantized(
        TensorSpec::constant_i8("w", vec![2, 2], &[4, 0, 0, -4]),
        0.25,
        0,
    ));
    let y = g.push_tensor(quantized(
        TensorSpec::activation("y", vec![1, 2], DType::I8),
        0.5,
        0,
    ));
    let r = g.push_tensor(quantized(
        TensorSpec::activation("r", vec![1, 2], DType::I8),
        0.5,
        0,
    ));
    g.operators.push(op(
        OpKind::FullyConnected {
            activation: Activation::None,
            keep_num_dims: false,
        },
        &[Some(x), Some(w), None],
        y,
    ));
    g.operators.push(op(OpKind::Relu, &[Some(y)], r));
    g.inputs = vec![x];
    g.outputs = vec![r];
    g
}

#[test]
fn float_graph_end_to_end() {
    let runner = Runner::new(&float_classifier()).unwrap();
    let p = runner.probabilities(&[1.0, 2.0]).unwrap();
    let e = 1f32.exp();
    let want = [e / (e + 1.0 / e), (1.0 / e) / (e + 1.0 / e)];
    assert!(
        (p[0] - want[0]).abs() < 1e-6 && (p[1] - want[1]).abs() < 1e-6,
        "{p:?}"
    );
}

#[test]
fn int8_graph_end_to_end_and_observed() {
    let runner = Runner::new(&int8_classifier()).unwrap();
    // Features [1, 2] quantize to [2, 4]; acc = [8, -16]; × 0.25 → [2, -4]; relu → [2, 0].
    let mut seen = Vec::new();
    let out = runner
        .invoke_observed(&[TensorData::I8(vec![2, 4])], &mut |i, d| {
            seen.push((i, d.clone()))
        })
        .unwrap();
    assert_eq!(out, vec![TensorData::I8(vec![2, 0])]);
    assert_eq!(
        seen,
        vec![
            (2, TensorData::I8(vec![2, -4])),
            (3, TensorData::I8(vec![2, 0]))
        ]
    );
    // probabilities quantizes, runs and dequantizes: [2, 0] · 0.5.
    assert_eq!(runner.probabilities(&[1.0, 2.0]).unwrap(), vec![1.0, 0.0]);
}

#[test]
fn conv_mean_reshape_graph() {
    // 3×3 input 1..9, 3×3 ones filter, SAME stride 2 → [12, 16, 24, 28]; MEAN over H, W → 20;
    // RESHAPE to [-1] → [20].
    let mut g = Graph::default();
    let x = g.push_tensor(TensorSpec::activation("x", vec![1, 3, 3, 1], DType::F32));
    let f = g.push_tensor(TensorSpec::constant_f32("f", vec![1, 3, 3, 1], &[1.0; 9]));
    let c = g.push_tensor(TensorSpec::activation("c", vec![1, 2, 2, 1], DType::F32));
    let axes = g.push_tensor(TensorSpec::constant_i32("axes", vec![2], &[1, 2]));
    let m = g.push_tensor(TensorSpec::activation("m", vec![1, 1], DType::F32));
    let shape = g.push_tensor(TensorSpec::constant_i32("shape", vec![1], &[-1]));
    let r = g.push_tensor(TensorSpec::activation("r", vec![1], DType::F32));
    g.operators.push(op(
        OpKind::Conv2d {
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::Same,
            activation: Activation::Relu,
        },
        &[Some(x), Some(f), None],
        c,
    ));
    g.operators.push(op(
        OpKind::Mean { keep_dims: false },
        &[Some(c), Some(axes)],
        m,
    ));
    g.operators.push(op(
        OpKind::Reshape { new_shape: None },
        &[Some(m), Some(shape)],
        r,
    ));
    g.inputs = vec![x];
    g.outputs = vec![r, c];
    let runner = Runner::new(&g).unwrap();
    let input: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let out = runner.invoke(&[TensorData::F32(input)]).unwrap();
    assert_eq!(
        out,
        vec![
            TensorData::F32(vec![20.0]),
            TensorData::F32(vec![12.0, 16.0, 24.0, 28.0])
        ]
    );
}

#[test]
fn int8_conv_per_channel_multipliers_from_scales() {
    // Input scale 0.5 (zero point -1), filter scales [0.25, 0.5] per output channel, output
    // scale 0.25 (zero point 3): multipliers 0.5 · 0.25 / 0.25 = 0.5 and 0.5 · 0.5 / 0.25 = 1.
    // Input [3, -1] → shifted [4, 0]; oc0 [2, 5] → 8 + bias 2 = 10 → 5 → + 3 = 8;
    // oc1 [-3, 7] → -12 → -12 → + 3 = -9.
    let mut g = Graph::default();
    let x = g.push_tensor(quantized(
        TensorSpec::activation("x", vec![1, 1, 2, 1], DType::I8),
        0.5,
        -1,
    ));
    let mut filter = TensorSpec::constant_i8("f", vec![2, 1, 2, 1], &[2, 5, -3, 7]);
    filter.quantization = Some(Quantization {
        scale: vec![0.25, 0.5],
        zero_point: vec![0, 0],
        quantized_dimension: 0,
    });
    let f = g.push_tensor(filter);
    let b = g.push_tensor(TensorSpec::constant_i32("b", vec![2], &[2, 0]));
    let y = g.push_tensor(quantized(
        TensorSpec::activation("y", vec![1, 1, 1, 2], DType::I8),
        0.25,
        3,
    ));
    g.operators.push(op(
        OpKind::Conv2d {
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Valid,
            activation: Activation::None,
        },
        &[Some(x), Some(f), Some(b)],
        y,
    ));
    g.inputs = vec![x];
    g.outputs = vec![y];
    let runner = Runner::new(&g).unwrap();
    assert_eq!(
        runner.invoke(&[TensorData::I8(vec![3, -1])]).unwrap(),
        vec![TensorData::I8(vec![8, -9])]
    );
    // A wrong output shape is caught when preparing.
    g.tensors[y].shape = vec![1, 1, 2, 2];
    assert!(matches!(Runner::new(&g), Err(QuantError::Invalid(_))));
}

#[test]
fn int8_pad_uses_the_zero_point() {
    let mut g = Graph::default();
    let x = g.push_tensor(quantized(
        TensorSpec::activation("x", vec![1, 2], DType::I8),
        0.1,
        -7,
    ));
    let p = g.push_tensor(TensorSpec::constant_i32("p", vec![2, 2], &[0, 0, 1, 1]));
    let y = g.push_tensor(quantized(
        TensorSpec::activation("y", vec![1, 4], DType::I8),
        0.1,
        -7,
    ));
    g.operators.push(op(OpKind::Pad, &[Some(x), Some(p)], y));
    g.inputs = vec![x];
    g.outputs = vec![y];
    let runner = Runner::new(&g).unwrap();
    assert_eq!(
        runner.invoke(&[TensorData::I8(vec![3, 4])]).unwrap(),
        vec![TensorData::I8(vec![-7, 3, 4, -7])]
    );
}

#[test]
fn quantize_then_dequantize_round_trip() {
    let mut g = Graph::default();
    let x = g.push_tensor(TensorSpec::activation("x", vec![4], DType::F32));
    let q = g.push_tensor(quantized(
        TensorSpec::activation("q", vec![4], DType::I8),
        0.5,
        3,
    ));
    let y = g.push_tensor(TensorSpec::activation("y", vec![4], DType::F32));
    g.operators.push(op(OpKind::Quantize, &[Some(x)], q));
    g.operators.push(op(OpKind::Dequantize, &[Some(q)], y));
    g.inputs = vec![x];
    g.outputs = vec![y];
    let runner = Runner::new(&g).unwrap();
    // 0.74 / 0.5 = 1.48 → 1 → 0.5; -100 clamps to -128 → -65.5.
    let out = runner
        .invoke(&[TensorData::F32(vec![1.5, -2.0, 0.74, -100.0])])
        .unwrap();
    assert_eq!(out, vec![TensorData::F32(vec![1.5, -2.0, 0.5, -65.5])]);
}

#[test]
fn wrong_inputs_are_input_errors() {
    let runner = Runner::new(&float_classifier()).unwrap();
    assert!(matches!(
        runner.invoke(&[TensorData::F32(vec![1.0])]),
        Err(QuantError::Input(_))
    ));
    assert!(matches!(
        runner.invoke(&[TensorData::I8(vec![1, 2])]),
        Err(QuantError::Input(_))
    ));
    assert!(matches!(runner.invoke(&[]), Err(QuantError::Input(_))));
    assert!(matches!(
        runner.probabilities(&[1.0, 2.0, 3.0]),
        Err(QuantError::Input(_))
    ));
}

#[test]
fn unsupported_types_and_missing_quantization_are_rejected() {
    let mut g = float_classifier();
    for t in &mut g.tensors {
        if t.name == "x" {
            t.dtype = DType::I16;
        }
    }
    match Runner::new(&g) {
        Err(QuantError::Invalid(message)) | Err(QuantError::Unsupported(message)) => {
            assert!(message.contains("int16"), "{message}")
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let mut g = int8_classifier();
    g.tensors[2].quantization = None;
    match Runner::new(&g) {
        Err(QuantError::Invalid(message)) => {
            assert!(message.contains("FULLY_CONNECTED"), "{message}")
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn runner_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Runner>();
}
