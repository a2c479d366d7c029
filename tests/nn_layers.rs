//! Correctness of the neural-network layers: backward against central finite differences,
//! forward against Keras fixtures, batch norm folding, serde and the presets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;

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
    let mut with_flatten = body.to_vec();
    with_flatten.push(Layer::Flatten);
    let mut model = Model::classifier(input_shape, &with_flatten, 2, seed).unwrap();
    model.layers.truncate(body.len());
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
    check_grads_at(&random(input, seed + 1), body, seed, eps, rel);
}

/// A tensor whose values are all at least 0.01 apart (a shuffled ramp over `[-1, 1]`), so that a
/// finite-difference step cannot change which value of a pooling window wins.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let values = order
        .iter()
        .map(|&i| (i as f32 - n as f32 / 2.0) * 0.01)
        .collect();
    Tensor::from_shape_vec(shape, values).unwrap()
}

/// [`check_grads`] at a given input batch.
fn check_grads_at(x: &Tensor, body: &[Layer], seed: u64, eps: f32, rel: f64) {
    let input = x.shape();
    let model = bare(&input[1..], body, seed);
    let (y, trace) = model.forward_train(x, &mut Rng::new(99)).unwrap();
    let r = random(y.shape(), seed + 2);
    let (dx, grads) = model.backward_with_input(&trace, &r).unwrap();
    let mut checked = 0;
    let mut retried = 0;
    let mut check = |f: &dyn Fn(f32) -> f64, analytic: f32, what: String| {
        checked += 1;
        let analytic = f64::from(analytic);
        let central = |eps: f32| (f(eps) - f(-eps)) / (2.0 * f64::from(eps));
        let first = central(eps);
        if within(first, analytic, rel, 2e-3) {
            return;
        }
        // A ReLU or max-pool kink inside the step makes the central difference straddle it;
        // a step ten times smaller rarely does (its quotient is noisier: a wider floor).
        retried += 1;
        let second = central(eps / 10.0);
        assert!(
            within(second, analytic, rel, 1e-2),
            "{body:?} {input:?} {what}: analytic {analytic}, central {first} (step {eps}), {second} (step {})",
            eps / 10.0
        );
    };
    // Input gradient, at up to 40 positions spread over the tensor.
    let n = x.len();
    for i in (0..n).step_by((n / 40).max(1)) {
        let shifted = |delta: f32| {
            let mut moved = x.clone();
            moved.as_slice_mut().unwrap()[i] += delta;
            loss(&model, &moved, &r)
        };
        check(&shifted, dx.as_slice().unwrap()[i], format!("dx[{i}]"));
    }
    // Parameter gradients, up to 20 entries of every vector.
    for (p, grad) in grads.0.iter().enumerate() {
        for i in (0..grad.len()).step_by((grad.len() / 20).max(1)) {
            let shifted = |delta: f32| {
                let mut m = model.clone();
                m.params_mut()[p][i] += delta;
                loss(&m, x, &r)
            };
            check(&shifted, grad[i], format!("param {p}[{i}]"));
        }
    }
    // A kink inside the step is the exception, not the rule.
    assert!(
        retried * 10 <= checked,
        "{body:?} {input:?}: {retried} of {checked} derivatives needed the smaller step"
    );
}

/// `numeric` and `analytic` agree within `rel` of the larger plus an absolute floor (f32
/// forward passes make the difference quotient noisy at about 1e-4 with step 1e-3).
fn within(numeric: f64, analytic: f64, rel: f64, floor: f64) -> bool {
    (numeric - analytic).abs() <= rel * numeric.abs().max(analytic.abs()) + floor
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
        check_grads(shape, &[dense(4)], i as u64, 1e-3, 3e-3);
    }
}

#[test]
fn softmax_and_activations_backward() {
    check_grads(&[4, 6], &[Layer::Softmax], 1, 1e-3, 3e-3);
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

fn conv1d(filters: usize, kernel_size: usize, stride: usize, padding: Padding) -> Layer {
    Layer::Conv1d {
        filters,
        kernel_size,
        stride,
        padding,
        weights: vec![],
        bias: vec![],
    }
}

fn conv2d(filters: usize, kernel: [usize; 2], stride: [usize; 2], padding: Padding) -> Layer {
    Layer::Conv2d {
        filters,
        kernel_size: kernel,
        stride,
        padding,
        weights: vec![],
        bias: vec![],
    }
}

fn depthwise(kernel: [usize; 2], stride: [usize; 2], padding: Padding) -> Layer {
    Layer::DepthwiseConv2d {
        kernel_size: kernel,
        stride,
        padding,
        weights: vec![],
        bias: vec![],
    }
}

fn batch_norm() -> Layer {
    Layer::BatchNorm {
        epsilon: 1e-3,
        momentum: 0.99,
        gamma: vec![],
        beta: vec![],
        moving_mean: vec![],
        moving_variance: vec![],
    }
}

/// Seeded random shapes: a simple property test over sizes, strides and both paddings.
fn shapes(seed: u64, count: usize) -> Vec<(usize, usize, usize, usize, usize, usize, Padding)> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let n = 1 + rng.below(3);
            let h = 1 + rng.below(6);
            let w = 2 + rng.below(7);
            let c = 1 + rng.below(4);
            let k = 1 + rng.below(3);
            let s = 1 + rng.below(2);
            let padding = if rng.below(2) == 0 {
                Padding::Same
            } else {
                Padding::Valid
            };
            (n, h, w, c, k, s, padding)
        })
        .collect()
}

#[test]
fn conv1d_backward_over_random_shapes() {
    for (i, (n, _, w, c, k, s, padding)) in shapes(10, 12).into_iter().enumerate() {
        let w = w.max(k);
        let layer = conv1d(1 + i % 3, k, s, padding);
        check_grads(&[n, w, c], &[layer], i as u64, 1e-3, 3e-3);
    }
}

#[test]
fn conv2d_backward_over_random_shapes() {
    for (i, (n, h, w, c, k, s, padding)) in shapes(20, 12).into_iter().enumerate() {
        let (h, w) = (h.max(k), w.max(k + 1));
        let layer = conv2d(1 + i % 3, [k, k + 1], [s, 1 + i % 2], padding);
        check_grads(&[n, h, w, c], &[layer], i as u64, 1e-3, 3e-3);
    }
}

#[test]
fn depthwise_backward_over_random_shapes() {
    for (i, (n, h, w, c, k, s, padding)) in shapes(30, 12).into_iter().enumerate() {
        let (h, w) = (h.max(k + 1), w.max(k));
        let layer = depthwise([k + 1, k], [s, s], padding);
        check_grads(&[n, h, w, c], &[layer], i as u64, 1e-3, 3e-3);
    }
}

fn pool(kind: &str, size: usize, stride: usize, padding: Padding, two_d: bool) -> Layer {
    let stride_1d = (stride != size).then_some(stride);
    let stride_2d = (stride != size).then_some([stride, stride]);
    match (kind, two_d) {
        ("max", false) => Layer::MaxPool1d {
            pool_size: size,
            stride: stride_1d,
            padding,
        },
        ("avg", false) => Layer::AvgPool1d {
            pool_size: size,
            stride: stride_1d,
            padding,
        },
        ("max", true) => Layer::MaxPool2d {
            pool_size: [size, size],
            stride: stride_2d,
            padding,
        },
        _ => Layer::AvgPool2d {
            pool_size: [size, size],
            stride: stride_2d,
            padding,
        },
    }
}

#[test]
fn pooling_backward_over_random_shapes() {
    for (i, (n, h, w, c, k, s, padding)) in shapes(40, 12).into_iter().enumerate() {
        let k = k + 1;
        let (h, w) = (h.max(k), w.max(k));
        for kind in ["max", "avg"] {
            let x1 = distinct(&[n, w, c], i as u64);
            check_grads_at(
                &x1,
                &[pool(kind, k, s, padding, false)],
                i as u64,
                1e-3,
                3e-3,
            );
            let x2 = distinct(&[n, h, w, c], i as u64);
            check_grads_at(
                &x2,
                &[pool(kind, k, s, padding, true)],
                i as u64,
                1e-3,
                3e-3,
            );
        }
    }
}

#[test]
fn global_pool_and_batch_norm_backward() {
    for (i, (n, h, w, c, ..)) in shapes(50, 8).into_iter().enumerate() {
        let seed = i as u64;
        check_grads(&[n, h, w, c], &[Layer::GlobalAvgPool], seed, 1e-3, 3e-3);
        check_grads(&[n, w, c], &[Layer::GlobalAvgPool], seed, 1e-3, 3e-3);
        // Batch statistics need a few values per channel to be a smooth function of each one.
        check_grads(&[n + 1, h, w, c], &[batch_norm()], seed, 1e-3, 3e-3);
        check_grads(&[n + 2, w], &[batch_norm()], seed, 1e-3, 3e-3);
    }
}

#[test]
fn residual_and_inverted_residual_backward() {
    let body = vec![
        conv2d(3, [3, 3], [1, 1], Padding::Same),
        batch_norm(),
        Layer::Relu6,
    ];
    check_grads(
        &[2, 4, 5, 3],
        &[Layer::Residual { layers: body }],
        1,
        1e-3,
        3e-3,
    );
    for (i, (expansion, filters, stride)) in [(1, 4, 1), (3, 4, 1), (2, 5, 2), (6, 3, 1)]
        .into_iter()
        .enumerate()
    {
        let block = Layer::InvertedResidual {
            expansion,
            filters,
            stride,
        };
        check_grads(&[2, 6, 5, 4], &[block], i as u64, 1e-3, 3e-3);
    }
}

#[test]
fn whole_models_backward() {
    // The KWS network of the book (smaller input), with a dense head.
    let kws = [
        Layer::Reshape { shape: vec![10, 3] },
        conv1d(4, 3, 1, Padding::Same),
        Layer::Relu,
        pool("max", 2, 2, Padding::Same, false),
        Layer::Dropout { rate: 0.25 },
        conv1d(5, 3, 1, Padding::Same),
        Layer::Relu,
        pool("max", 2, 2, Padding::Same, false),
        Layer::Flatten,
        dense(3),
    ];
    check_grads_at(&distinct(&[3, 30], 5), &kws, 5, 1e-3, 3e-3);
    // A MobileNetV2-style stem, three inverted residual blocks (two with the skip) and the
    // head. Small on purpose: with many ReLU6 units after batch norm, kinks lie so densely that
    // no finite-difference step both misses them and stays above f32 noise.
    let mobile = [
        conv2d(3, [3, 3], [2, 2], Padding::Same),
        batch_norm(),
        Layer::Relu6,
        Layer::InvertedResidual {
            expansion: 1,
            filters: 3,
            stride: 1,
        },
        Layer::InvertedResidual {
            expansion: 2,
            filters: 4,
            stride: 2,
        },
        Layer::InvertedResidual {
            expansion: 2,
            filters: 4,
            stride: 1,
        },
        Layer::GlobalAvgPool,
        dense(5),
        Layer::Relu,
        Layer::Dropout { rate: 0.1 },
        dense(3),
    ];
    for seed in 0..4 {
        check_grads(&[2, 6, 6, 2], &mobile, seed, 1e-3, 3e-3);
    }
}

/// A MobileNetV2-style classifier whose batch norms have non-trivial moving statistics.
fn mobile_with_stats(seed: u64) -> Model {
    let body = [
        conv2d(4, [3, 3], [2, 2], Padding::Same),
        batch_norm(),
        Layer::Relu6,
        Layer::InvertedResidual {
            expansion: 1,
            filters: 4,
            stride: 1,
        },
        Layer::InvertedResidual {
            expansion: 3,
            filters: 6,
            stride: 2,
        },
        Layer::InvertedResidual {
            expansion: 3,
            filters: 6,
            stride: 1,
        },
        Layer::GlobalAvgPool,
        dense(8),
        batch_norm(),
        Layer::Relu,
        dense(5),
    ];
    let mut model = Model::classifier(&[12, 12, 3], &body, 3, seed).unwrap();
    let mut rng = Rng::new(seed);
    common::randomise_batch_norms(&mut model.layers, &mut rng);
    model
}

fn count_batch_norms(layers: &[Layer]) -> usize {
    layers
        .iter()
        .map(|l| match l {
            Layer::BatchNorm { .. } => 1,
            Layer::Residual { layers } => count_batch_norms(layers),
            _ => 0,
        })
        .sum()
}

#[test]
fn folding_batch_norm_keeps_inference_outputs() {
    for seed in 0..3 {
        let mut model = mobile_with_stats(seed);
        model.layers.pop(); // compare logits, not probabilities near 0 or 1
        let folded = model.fold_batch_norm().unwrap();
        assert!(count_batch_norms(&model.layers) >= 10);
        assert_eq!(count_batch_norms(&folded.layers), 0);
        let x = random(&[4, 12, 12, 3], seed);
        let (a, b) = (model.forward(&x).unwrap(), folded.forward(&x).unwrap());
        let worst = a
            .iter()
            .zip(b.iter())
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "seed {seed}: folded logits differ by {worst}");
    }
}

#[test]
fn models_with_weights_round_trip_through_json() {
    let model = mobile_with_stats(4);
    let json = serde_json::to_string(&model).unwrap();
    let back: Model = serde_json::from_str(&json).unwrap();
    assert_eq!(back, model);
    let x = random(&[2, 12, 12, 3], 1);
    assert_eq!(back.forward(&x).unwrap(), model.forward(&x).unwrap());
    // Presets leave weights out; the names of the layer types are snake case.
    let layer: Layer =
        toml::from_str("type = \"max_pool1d\"\npool_size = 2\npadding = \"same\"").unwrap();
    assert_eq!(
        layer,
        Layer::MaxPool1d {
            pool_size: 2,
            stride: None,
            padding: Padding::Same
        }
    );
}

#[test]
fn batch_norm_moving_statistics_follow_keras_momentum() {
    let mut model = bare(&[3], &[batch_norm()], 0);
    let x = Tensor::from_shape_vec(vec![2, 3], vec![1.0, 2.0, 3.0, 3.0, 6.0, 9.0]).unwrap();
    let before = model.clone();
    let (_, trace) = model.forward_train(&x, &mut Rng::new(1)).unwrap();
    model.update_batch_stats(&trace);
    let (
        Layer::BatchNorm {
            moving_mean: m0,
            moving_variance: v0,
            ..
        },
        Layer::BatchNorm {
            moving_mean,
            moving_variance,
            ..
        },
    ) = (&before.layers[0], &model.layers[0])
    else {
        panic!("not a batch norm");
    };
    // Batch mean [2, 4, 6], biased variance [1, 4, 9]; momentum 0.99.
    for c in 0..3 {
        let (mean, var) = ([2.0, 4.0, 6.0][c], [1.0, 4.0, 9.0][c]);
        assert!((moving_mean[c] - (m0[c] * 0.99 + mean * 0.01)).abs() < 1e-6);
        assert!((moving_variance[c] - (v0[c] * 0.99 + var * 0.01)).abs() < 1e-6);
    }
}

/// Every preset in `models/`, parsed and built as a classifier of 3 classes.
fn presets() -> Vec<(String, Model)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let preset =
                tinylab::nn::Preset::parse(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let id = path.file_stem().unwrap().to_string_lossy().into_owned();
            let input: &[usize] = match id.as_str() {
                "motion-dnn" => &[63],
                "kws-conv1d" => &[637],
                "fomo-mobilenetv2-0.35" => &[96, 96, 1],
                _ => &[96, 96, 3],
            };
            let model = Model::with_head(input, &preset.layers, 3, 1, preset.head)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(!preset.name.is_empty() && !preset.labs.is_empty(), "{id}");
            assert!(preset.training.contains_key("epochs"), "{id}");
            found.push((id, model));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Trainable parameters minus the biases of convolutions that batch norm follows (Keras's
/// MobileNetV2 convolutions have none; ours have zero-initialised ones, see
/// `inverted_residual.rs`).
fn params_as_keras(layers: &[Layer]) -> usize {
    let mut total = 0;
    for (i, layer) in layers.iter().enumerate() {
        total += match layer {
            Layer::Residual { layers } => params_as_keras(layers),
            _ => layer.trainable_params(),
        };
        if let (
            Layer::Conv2d { bias, .. } | Layer::DepthwiseConv2d { bias, .. },
            Some(Layer::BatchNorm { .. }),
        ) = (layer, layers.get(i + 1))
        {
            total -= bias.len();
        }
    }
    total
}

/// The presets build, and their sizes are the book's and Keras's. The MobileNetV2 bases are
/// compared with `keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=α,
/// include_top=False, weights=None)` in Keras 3.15.1 / TensorFlow 2.21: 86,080 trainable
/// parameters for α 0.1 and 396,128 for α 0.35 (7,232 and 14,080 more are batch norm moving
/// statistics), output 3×3×1280; our head adds global average pooling, dense 12 (α 0.1) or 16
/// (α 0.35) and the 3-class classifier. MACs are compared with the MobileNetV2 paper's table
/// (Sandler et al. 2018): 59 M for α 0.35 at 224×224, so about (96/224)² · 59 M ≈ 10.8 M at 96×96.
#[test]
fn presets_parse_build_and_have_the_expected_sizes() {
    let models = presets();
    let ids: Vec<&str> = models.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fomo-mobilenetv2-0.35",
            "image-cnn",
            "kws-conv1d",
            "mobilenetv2-0.1",
            "mobilenetv2-0.35",
            "motion-dnn"
        ]
    );
    let total = |m: &Model| m.summary().unwrap().iter().map(|r| r.params).sum::<usize>();
    let macs = |m: &Model| m.summary().unwrap().iter().map(|r| r.macs).sum::<u64>();
    for (id, model) in &models {
        assert_eq!(model.classes(), 3, "{id}");
        let x = random(&[[2].as_slice(), &model.input_shape].concat(), 3);
        let p = model.forward(&x).unwrap();
        assert!(p.iter().all(|v| v.is_finite()));
        match id.as_str() {
            // 63·20+20 + 20·10+10 + 10·3+3.
            "motion-dnn" => assert_eq!(total(model), 1_523),
            // 13·3·8+8 + 8·3·16+16 + 208·3+3 (1,765 with 5 classes, the figure).
            "kws-conv1d" => assert_eq!(total(model), 1_347),
            "mobilenetv2-0.1" => assert_eq!(
                params_as_keras(&model.layers),
                86_080 + 1280 * 12 + 12 + 12 * 3 + 3
            ),
            "mobilenetv2-0.35" => {
                assert_eq!(
                    params_as_keras(&model.layers),
                    396_128 + 1280 * 16 + 16 + 16 * 3 + 3
                );
                let m = macs(model) as f64;
                assert!((9.0e6..12.5e6).contains(&m), "{m} MACs");
            }
            _ => {}
        }
    }
}

/// One Keras reference case (`tests/fixtures/nn/make_fixtures.py` wrote it).
#[derive(serde::Deserialize)]
struct Fixture {
    name: String,
    training: bool,
    model: Model,
    input_shape: Vec<usize>,
    input: Vec<f32>,
    output_shape: Vec<usize>,
    output: Vec<f32>,
    #[serde(default)]
    moving: Option<[Vec<f32>; 2]>,
}

fn fixture(name: &str) -> Fixture {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/nn/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Our forward pass on the fixture's weights and input equals Keras's output to 1e-5 (and, for
/// a training-mode batch norm, the moving statistics after the step too).
fn check_keras(name: &str) {
    let case = fixture(name);
    assert_eq!(case.name, name);
    let x = Tensor::from_shape_vec(case.input_shape.clone(), case.input.clone()).unwrap();
    let mut model = case.model.clone();
    let y = if case.training {
        let (y, trace) = model.forward_train(&x, &mut Rng::new(0)).unwrap();
        model.update_batch_stats(&trace);
        y
    } else {
        model.forward(&x).unwrap()
    };
    assert_eq!(y.shape(), &case.output_shape[..], "{name}");
    let worst = max_difference(y.as_slice().unwrap(), &case.output);
    assert!(worst <= 1e-5, "{name}: differs from Keras by {worst}");
    if let Some([mean, variance]) = &case.moving {
        let Layer::BatchNorm {
            moving_mean,
            moving_variance,
            ..
        } = &model.layers[0]
        else {
            panic!("{name}: not a batch norm");
        };
        assert!(
            max_difference(moving_mean, mean) <= 1e-6,
            "{name}: moving mean"
        );
        assert!(
            max_difference(moving_variance, variance) <= 1e-6,
            "{name}: moving variance"
        );
    }
}

#[test]
fn dense_matches_keras() {
    check_keras("dense");
}

#[test]
fn conv1d_matches_keras() {
    check_keras("conv1d_same");
    check_keras("conv1d_valid_stride2");
    check_keras("conv1d_same_stride2_even_kernel");
}

#[test]
fn conv2d_matches_keras() {
    check_keras("conv2d_same");
    check_keras("conv2d_same_stride2");
    check_keras("conv2d_valid_2x3_stride_1x2");
    check_keras("conv2d_pointwise");
}

#[test]
fn depthwise_matches_keras() {
    check_keras("depthwise_same");
    check_keras("depthwise_same_stride2");
    check_keras("depthwise_valid_stride2");
}

#[test]
fn pooling_matches_keras() {
    for name in [
        "max_pool1d_same",
        "avg_pool1d_same_3_stride2",
        "max_pool1d_valid",
        "max_pool2d_valid",
        "max_pool2d_same_3_stride2",
        "avg_pool2d_same_3_stride2",
        "avg_pool2d_valid",
        "global_avg_pool_1d",
        "global_avg_pool_2d",
    ] {
        check_keras(name);
    }
}

#[test]
fn batch_norm_matches_keras() {
    check_keras("batch_norm_inference_2d");
    check_keras("batch_norm_inference_dense");
    check_keras("batch_norm_training");
}

#[test]
fn activations_reshape_and_residual_match_keras() {
    for name in ["relu", "relu6", "softmax", "flatten_reshape", "residual"] {
        check_keras(name);
    }
}

#[test]
fn whole_models_match_keras() {
    check_keras("model_kws_conv1d");
    check_keras("model_mobilenetv2_small");
    check_keras("model_kws_conv1d_features");
    check_keras("model_mobilenetv2_small_features");
    // Folding the small MobileNet's batch norms keeps Keras's output.
    let case = fixture("model_mobilenetv2_small");
    let x = Tensor::from_shape_vec(case.input_shape.clone(), case.input.clone()).unwrap();
    let folded = case.model.fold_batch_norm().unwrap();
    let worst = max_difference(
        folded.forward(&x).unwrap().as_slice().unwrap(),
        &case.output,
    );
    assert!(worst <= 1e-5, "folded model differs from Keras by {worst}");
}
