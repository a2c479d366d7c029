//! FOMO end to end, headless, on scenes made here: 96×96 grayscale images on a noisy background
//! with bright filled squares ("box") and bright rings ("wheel") at random positions, one to
//! three objects each, with their boxes. The shipped `fomo-mobilenetv2-0.35` preset (per-cell
//! head, 12×12 grid) is trained briefly on the weighted per-cell cross-entropy and scored on
//! held-out scenes with FOMO's centroid matching at the lab's 0.8 threshold; and the per-cell
//! loss's gradient is checked against finite differences.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout
)] // tests fail by panicking

use std::ops::ControlFlow;
use tinylab::nn::detection::{DetectionMetrics, Grid, cell_targets};
use tinylab::nn::model::Head;
use tinylab::nn::train::{Dataset, TrainConfig, predict, train};
use tinylab::nn::{Model, Tensor};
use tinylab::rng::Rng;

mod common;

use common::scenes::{PLAN as SIZE, scenes};

fn grid() -> Grid {
    Grid {
        width: 12,
        height: 12,
        input_width: SIZE,
        input_height: SIZE,
    }
}

#[test]
fn fomo_finds_boxes_and_wheels_in_generated_scenes() {
    let preset = tinylab::models::preset("fomo-mobilenetv2-0.35").unwrap();
    assert_eq!(preset.head, Head::PerCell);
    let labels = ["background".to_owned(), "box".into(), "wheel".into()];
    let mut model = Model::with_head(&[96, 96, 1], &preset.layers, 3, 1, preset.head).unwrap();
    if let Some(momentum) = preset.batch_norm_momentum {
        model.set_batch_norm_momentum(momentum);
    }
    assert_eq!(model.output_shape().unwrap(), vec![12, 12, 3]);
    assert_eq!((model.cells(), model.classes()), (144, 3));

    let (train_x, train_boxes) = scenes(200, 11);
    let (test_x, test_boxes) = scenes(60, 12);
    let cell_labels: Vec<usize> = train_boxes
        .iter()
        .flat_map(|b| cell_targets(grid(), b))
        .collect();
    let row_labels: Vec<usize> = train_boxes.iter().map(|b| b[0].class).collect();
    let data = Dataset {
        inputs: &train_x,
        sample_shape: vec![96, 96, 1],
        labels: &row_labels,
        classes: 3,
        cell_labels: Some(&cell_labels),
    };
    let mut config = TrainConfig::from_table(&preset.training).unwrap();
    config.epochs = 10;
    config.validation_share = 0.1;
    config.seed = 3;
    let outcome = train(model, &data, &config, |r| {
        println!(
            "epoch {}: loss {:.4}, cell accuracy {:.4}, val loss {:?}",
            r.epoch, r.train_loss, r.train_accuracy, r.val_loss
        );
        ControlFlow::Continue(())
    })
    .unwrap();
    let probs = predict(&outcome.model, &test_x, &[96, 96, 1], 32).unwrap();
    assert_eq!(probs.shape(), &[60, 144 * 3]);
    let flat = probs.as_slice().unwrap();
    let m = DetectionMetrics::evaluate(
        flat.chunks(144 * 3)
            .zip(&test_boxes)
            .map(|(p, b)| (p, &b[..])),
        grid(),
        &labels,
        0.8,
    );
    println!(
        "FOMO on 60 held-out scenes: F1 {:.3} (precision {:.3}, recall {:.3}); per class: {}",
        m.f1,
        m.precision,
        m.recall,
        m.per_class
            .iter()
            .map(|c| format!("{} F1 {:.3}", c.label, c.f1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(m.f1 >= 0.7, "detection F1 {:.3}", m.f1);
}

/// The per-cell weighted cross-entropy's gradient, as training computes it (logits `[n, H, W,
/// C]` flattened to cells), against central finite differences of the loss.
#[test]
fn per_cell_weighted_loss_gradient_matches_finite_differences() {
    use tinylab::nn::loss::softmax_cross_entropy_over;
    let mut rng = Rng::new(5);
    let (n, cells, classes) = (2, 4, 3);
    let logits: Vec<f32> = (0..n * cells * classes)
        .map(|_| 2.0 * (rng.next_f64() as f32) - 1.0)
        .collect();
    let labels = [0, 1, 0, 2, 0, 0, 2, 1];
    let weights = [1.0, 100.0, 100.0];
    let t = Tensor::from_shape_vec(ndarray::IxDyn(&[n * cells, classes]), logits.clone()).unwrap();
    let analytic = softmax_cross_entropy_over(&t, &labels, Some(&weights), n * cells).unwrap();
    // Independent: the loss written out directly, −Σ w·log p / cells, in f64.
    let loss_of = |values: &[f64]| -> f64 {
        values
            .chunks(classes)
            .zip(&labels)
            .map(|(row, &y)| {
                let max = row.iter().fold(f64::MIN, |a, &b| a.max(b));
                let sum: f64 = row.iter().map(|&z| (z - max).exp()).sum();
                -f64::from(weights[y]) * (row[y] - max - sum.ln())
            })
            .sum::<f64>()
            / (n * cells) as f64
    };
    let wide: Vec<f64> = logits.iter().map(|&z| f64::from(z)).collect();
    let direct = loss_of(&wide);
    assert!((f64::from(analytic.loss) - direct).abs() < 1e-4 * direct.abs().max(1.0));
    let h = 1e-5;
    for i in 0..wide.len() {
        let mut up = wide.clone();
        up[i] += h;
        let mut down = wide.clone();
        down[i] -= h;
        let numeric = (loss_of(&up) - loss_of(&down)) / (2.0 * h);
        let got = f64::from(analytic.grad_logits.as_slice().unwrap()[i]);
        assert!(
            (numeric - got).abs() < 1e-3 * got.abs().max(0.1),
            "logit {i}: numeric {numeric}, analytic {got}"
        );
    }
}

/// The FOMO model lowers to TFLite's form: its last operator is a plain SOFTMAX on
/// `[1, 12, 12, 3]`, preceded by the 1×1 CONV_2D head.
#[test]
fn fomo_lowers_to_a_per_cell_softmax() {
    use tinylab::quant::graph::OpKind;
    let preset = tinylab::models::preset("fomo-mobilenetv2-0.35").unwrap();
    let model = Model::with_head(&[96, 96, 1], &preset.layers, 3, 1, preset.head).unwrap();
    let graph = tinylab::quant::lower::lower_float(&model, "fomo").unwrap();
    let last = graph.operators.last().unwrap();
    assert!(
        matches!(last.kind, OpKind::Softmax { .. }),
        "{:?}",
        last.kind
    );
    let output = graph.outputs[0];
    assert_eq!(graph.tensors[output].shape, vec![1, 12, 12, 3]);
}
