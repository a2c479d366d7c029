//! Correctness of the neural-network layers: backward against central finite differences,
//! forward against Keras fixtures, batch norm folding, serde and the presets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

use tinylab::nn::{Layer, Model, Padding, Tensor};
use tinylab::rng::Rng;

/// A tensor of `shape` with values uniform in `[-1, 1)` from `seed`.
fn random(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    Tensor::from_shape_fn(shape, |_| rng.range((-1.0, 1.0)) as f32)
}

/// `body` alone as a model on `input_shape`, weights initialised from `seed` (the classifier
/// head that `Model::classifier` appends is dropped again). Biases and batch norm parameters get
/// random values too, so their gradients are not checked at a special point.
fn bare(input_shape: &[usize], body: &[Layer], seed: u64) -> Model {
    let mut model = Model::classifier(input_shape, body, 2, seed).unwrap();
    model.layers.truncate(model.layers.len() - 2);
    let mut rng = Rng::new(seed ^ 0xABCD);
    for p in model.params_mut() {
        for v in p.iter_mut() {
            *v += rng.range((-0.3, 0.3)) as f32;
        }
    }
    model
}

/// Loss `Σ y·r` of the training forward pass (fixed dropout seed), accumulated in f64.
fn loss(model: &Model, x: &Tensor, r: &Tensor) -> f64 {
    let (y, _) = model.forward_train(x, &mut Rng::new(99)).unwrap();
    y.iter()
        .zip(r.iter())
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum()
}

/// Checks the input and parameter gradients of `body` on a batch of `input` against central
/// differences with step `eps`: every checked derivative within `rel` of the larger of the two
/// (plus a small absolute floor for derivatives near zero).
fn check_grads(input: &[usize], body: &[Layer], seed: u64, eps: f32, rel: f64) {
    let model = bare(&input[1..], body, seed);
    let x = random(input, seed + 1);
    let (y, trace) = model.forward_train(&x, &mut Rng::new(99)).unwrap();
    let r = random(y.shape(), seed + 2);
    let (dx, grads) = model.backward_with_input(&trace, &r).unwrap();
    let close = |numeric: f64, analytic: f64, what: &str| {
        let scale = numeric.abs().max(analytic.abs());
        assert!(
            (numeric - analytic).abs() <= rel * scale + 2e-3,
            "{body:?} {input:?} {what}: numeric {numeric} analytic {analytic}"
        );
    };
    // Input gradient, at up to 40 positions spread over the tensor.
    let n = x.len();
    for i in (0..n).step_by((n / 40).max(1)) {
        let mut plus = x.clone();
        plus.as_slice_mut().unwrap()[i] += eps;
        let mut minus = x.clone();
        minus.as_slice_mut().unwrap()[i] -= eps;
        let numeric = (loss(&model, &plus, &r) - loss(&model, &minus, &r)) / (2.0 * f64::from(eps));
        close(
            numeric,
            f64::from(dx.as_slice().unwrap()[i]),
            &format!("dx[{i}]"),
        );
    }
    // Parameter gradients, up to 20 entries of every vector.
    let count = grads.0.len();
    for p in 0..count {
        let len = grads.0[p].len();
        for i in (0..len).step_by((len / 20).max(1)) {
            let shifted = |delta: f32| {
                let mut m = model.clone();
                m.params_mut()[p][i] += delta;
                loss(&m, &x, &r)
            };
            let numeric = (shifted(eps) - shifted(-eps)) / (2.0 * f64::from(eps));
            close(
                numeric,
                f64::from(grads.0[p][i]),
                &format!("param {p}[{i}]"),
            );
        }
    }
}

fn dense(units: usize) -> Layer {
    Layer::Dense {
        units,
        weights: vec![],
        bias: vec![],
    }
}

#[test]
fn dense_backward() {
    for (i, shape) in [[3, 5], [1, 1], [7, 12]].iter().enumerate() {
        check_grads(shape, &[dense(4)], i as u64, 1e-3, 1e-2);
    }
}

#[test]
fn softmax_and_activations_backward() {
    check_grads(&[4, 6], &[Layer::Softmax], 1, 1e-3, 1e-2);
    check_grads(
        &[4, 6],
        &[dense(5), Layer::Relu, dense(3), Layer::Relu6],
        2,
        1e-3,
        1e-2,
    );
}

#[test]
fn reshape_flatten_dropout_backward() {
    check_grads(
        &[3, 12],
        &[
            Layer::Reshape { shape: vec![4, 3] },
            Layer::Flatten,
            Layer::Dropout { rate: 0.3 },
            dense(2),
        ],
        3,
        1e-3,
        1e-2,
    );
}

#[test]
fn padding_rules_are_tflite() {
    assert_eq!(Padding::Same.output_and_pad(5, 3, 2), Some((3, 1)));
    assert_eq!(Padding::Same.output_and_pad(96, 3, 2), Some((48, 0)));
    assert_eq!(Padding::Valid.output_and_pad(5, 3, 2), Some((2, 0)));
    assert_eq!(Padding::Valid.output_and_pad(2, 3, 1), None);
}
