//! Training helpers against independent references: optimizer steps and cross-entropy against
//! Keras (`fixtures/nn_train/make_keras_fixtures.py`), metrics and K-means against
//! scikit-learn (`make_sklearn_fixtures.py`), gradients against finite differences, and
//! properties of augmentation and anomaly scores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

use ndarray::{Array2, ArrayD, IxDyn};
use serde_json::Value;
use std::ops::ControlFlow;
use tinylab::nn::Tensor;
use tinylab::nn::anomaly::KMeans;
use tinylab::nn::augment::{Augmentation, Layout};
use tinylab::nn::loss::{
    balanced_class_weights, softmax_cross_entropy, softmax_cross_entropy_over,
};
use tinylab::nn::metrics::{DEFAULT_THRESHOLD, Evaluation, accuracy_and_loss};
use tinylab::nn::optim::{Optimizer, OptimizerState};
use tinylab::nn::train::{
    Dataset, EarlyStopping, StopReason, TrainConfig, TrainOutcome, predict, train,
};
use tinylab::nn::{Model, Preset};
use tinylab::rng::Rng;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/nn_train/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A fixture value as `T` (numbers, lists of numbers, lists of lists).
fn get<T: serde::de::DeserializeOwned>(value: &Value) -> T {
    serde_json::from_value(value.clone()).unwrap()
}

fn floats(value: &Value) -> Vec<f32> {
    get(value)
}

/// Every `got` within `abs + rel·|want|` of `want`.
fn assert_close(what: &str, got: &[f32], want: &[f32], abs: f32, rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= abs + rel * w.abs(),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

// ---- optimizers ----------------------------------------------------------------------------

/// Replays a Keras optimizer case: same initial tensors, same gradients, same steps.
fn check_optimizer(name: &str, optimizer: Optimizer) {
    let fixtures = fixture("keras.json");
    let case = fixtures["optimizers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap();
    let lr = case["learning_rate"].as_f64().unwrap() as f32;
    let mut params: Vec<Vec<f32>> = case["initial"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    let lengths: Vec<usize> = params.iter().map(Vec::len).collect();
    let mut state = OptimizerState::new(optimizer, &lengths);
    let steps = case["grads"].as_array().unwrap();
    for (step, (grads, after)) in steps
        .iter()
        .zip(case["after"].as_array().unwrap())
        .enumerate()
    {
        let grads: Vec<Vec<f32>> = grads.as_array().unwrap().iter().map(floats).collect();
        state.step(params.iter_mut().collect(), &grads, lr).unwrap();
        for (t, (got, want)) in params.iter().zip(after.as_array().unwrap()).enumerate() {
            assert_close(
                &format!("{name} step {} tensor {t}", step + 1),
                got,
                &floats(want),
                1e-6,
                1e-5,
            );
        }
    }
    assert_eq!(state.steps(), steps.len() as u64);
}

#[test]
fn adam_matches_keras() {
    check_optimizer("adam", Optimizer::default());
}

#[test]
fn sgd_matches_keras() {
    check_optimizer(
        "sgd",
        Optimizer::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
    );
    check_optimizer(
        "sgd_momentum",
        Optimizer::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
    );
    check_optimizer(
        "sgd_nesterov",
        Optimizer::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
    );
}

#[test]
fn adam_first_step_by_hand() {
    // At step 1, m = 0.1·g and v = 0.001·g², so the step is lr·g/(|g| + ε/√0.001·…) ≈ lr·sign(g).
    let mut state = OptimizerState::new(Optimizer::default(), &[2]);
    let mut w = vec![1.0f32, -2.0];
    state.step(vec![&mut w], &[vec![0.5, -4.0]], 0.1).unwrap();
    assert_close("adam step 1", &w, &[0.9, -1.9], 1e-5, 0.0);
}

#[test]
fn optimizer_rejects_mismatched_tensors_and_changes_nothing() {
    let mut state = OptimizerState::new(Optimizer::default(), &[2, 3]);
    let mut a = vec![1.0f32; 2];
    let mut b = vec![1.0f32; 2];
    let err = state.step(vec![&mut a, &mut b], &[vec![1.0; 2], vec![1.0; 2]], 0.1);
    assert!(err.is_err());
    assert_eq!((a, b, state.steps()), (vec![1.0; 2], vec![1.0; 2], 0));
}

#[test]
fn optimizer_settings_parse_with_keras_defaults_and_reject_unknown_keys() {
    let adam: Optimizer = toml::from_str("type = \"adam\"").unwrap();
    assert_eq!(adam, Optimizer::default());
    let sgd: Optimizer = toml::from_str("type = \"sgd\"\nmomentum = 0.9").unwrap();
    assert_eq!(
        sgd,
        Optimizer::Sgd {
            momentum: 0.9,
            nesterov: false
        }
    );
    assert!(toml::from_str::<Optimizer>("type = \"sgd\"\nmomentun = 0.9").is_err());
    assert!(
        Optimizer::Sgd {
            momentum: 1.5,
            nesterov: false
        }
        .validate()
        .is_err()
    );
}

// ---- cross-entropy -------------------------------------------------------------------------

fn tensor(rows: usize, cols: usize, values: Vec<f32>) -> Tensor {
    ArrayD::from_shape_vec(IxDyn(&[rows, cols]), values).unwrap()
}

/// Loss and gradient against Keras's SparseCategoricalCrossentropy(from_logits=True).
fn check_cross_entropy(weighted: bool) {
    let fixtures = fixture("keras.json");
    let case = &fixtures["cross_entropy"];
    let logits = tensor(
        case["rows"].as_u64().unwrap() as usize,
        case["classes"].as_u64().unwrap() as usize,
        floats(&case["logits"]),
    );
    let labels = get::<Vec<usize>>(&case["labels"]);
    let weights = floats(&case["class_weights"]);
    let want = &case[if weighted { "weighted" } else { "unweighted" }];
    let got =
        softmax_cross_entropy(&logits, &labels, weighted.then_some(weights.as_slice())).unwrap();
    let want_loss = want["loss"].as_f64().unwrap() as f32;
    assert_close("loss", &[got.loss], &[want_loss], 1e-5, 1e-5);
    let grad: Vec<f32> = got.grad_logits.iter().copied().collect();
    assert_close("grad", &grad, &floats(&want["grad"]), 1e-6, 1e-5);
}

#[test]
fn cross_entropy_matches_keras() {
    check_cross_entropy(false);
    check_cross_entropy(true);
}

#[test]
fn cross_entropy_gradient_matches_finite_differences() {
    let mut rng = Rng::new(3);
    let (rows, classes) = (5, 4);
    let values: Vec<f32> = (0..rows * classes)
        .map(|_| 2.0 * rng.next_gaussian() as f32)
        .collect();
    let labels: Vec<usize> = (0..rows).map(|_| rng.below(classes)).collect();
    let weights = [0.7f32, 1.3, 2.0, 0.4];
    let loss = |v: &[f32]| {
        softmax_cross_entropy(&tensor(rows, classes, v.to_vec()), &labels, Some(&weights))
            .unwrap()
            .loss
    };
    let analytic = softmax_cross_entropy(
        &tensor(rows, classes, values.clone()),
        &labels,
        Some(&weights),
    )
    .unwrap()
    .grad_logits;
    let h = 1e-2;
    for (i, &g) in analytic.iter().enumerate() {
        let (mut up, mut down) = (values.clone(), values.clone());
        up[i] += h;
        down[i] -= h;
        let numeric = (loss(&up) - loss(&down)) / (2.0 * h);
        assert!(
            (numeric - g).abs() < 2e-3,
            "logit {i}: numeric {numeric}, analytic {g}"
        );
    }
}

#[test]
fn cross_entropy_of_shards_adds_up_to_the_batch() {
    let mut rng = Rng::new(9);
    let values: Vec<f32> = (0..6 * 3).map(|_| rng.next_gaussian() as f32).collect();
    let labels = [0, 2, 1, 1, 0, 2];
    let whole = softmax_cross_entropy(&tensor(6, 3, values.clone()), &labels, None).unwrap();
    let first =
        softmax_cross_entropy_over(&tensor(4, 3, values[..12].to_vec()), &labels[..4], None, 6)
            .unwrap();
    let second =
        softmax_cross_entropy_over(&tensor(2, 3, values[12..].to_vec()), &labels[4..], None, 6)
            .unwrap();
    assert_close(
        "loss",
        &[first.loss + second.loss],
        &[whole.loss],
        1e-6,
        1e-6,
    );
    let grads: Vec<f32> = first
        .grad_logits
        .iter()
        .chain(second.grad_logits.iter())
        .copied()
        .collect();
    assert_close(
        "grad",
        &grads,
        &whole.grad_logits.iter().copied().collect::<Vec<_>>(),
        1e-7,
        1e-6,
    );
    assert_eq!(first.correct + second.correct, whole.correct);
}

#[test]
fn cross_entropy_rejects_bad_labels_and_shapes() {
    let logits = tensor(2, 3, vec![0.0; 6]);
    assert!(softmax_cross_entropy(&logits, &[0, 3], None).is_err());
    assert!(softmax_cross_entropy(&logits, &[0], None).is_err());
    assert!(softmax_cross_entropy(&logits, &[0, 1], Some(&[1.0, 1.0])).is_err());
}

#[test]
fn balanced_class_weights_follow_keras() {
    // n / (classes · count): 4 rows, 3 classes, counts [3, 1, 0].
    assert_close(
        "weights",
        &balanced_class_weights(&[0, 0, 1, 0], 3),
        &[4.0 / 9.0, 4.0 / 3.0, 1.0],
        1e-7,
        1e-6,
    );
}

// ---- metrics -------------------------------------------------------------------------------

fn metrics_evaluation(threshold: f32) -> (Value, Evaluation) {
    let metrics = fixture("sklearn.json")["metrics"].clone();
    let labels: Vec<String> = metrics["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let truth = get::<Vec<usize>>(&metrics["truth"]);
    let rows: Vec<f32> = metrics["probs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    let probs = tensor(truth.len(), labels.len(), rows);
    let evaluation = Evaluation::new(&labels, &truth, &probs, threshold).unwrap();
    (metrics, evaluation)
}

/// One threshold's results against scikit-learn's, with uncertain as an extra predicted label.
fn check_metrics(evaluation: &Evaluation, case: &Value) {
    let close = |what: &str, got: f64, want: f64| {
        assert!((got - want).abs() < 1e-12, "{what}: {got} vs {want}")
    };
    close(
        "accuracy",
        evaluation.accuracy,
        case["accuracy"].as_f64().unwrap(),
    );
    let matrix: Vec<Vec<usize>> = case["confusion_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .map(get::<Vec<usize>>)
        .collect();
    assert_eq!(evaluation.confusion_matrix, matrix);
    assert_eq!(evaluation.uncertain, get::<Vec<usize>>(&case["uncertain"]));
    for (c, m) in evaluation.per_class.iter().enumerate() {
        close(
            "precision",
            m.precision,
            case["precision"][c].as_f64().unwrap(),
        );
        close("recall", m.recall, case["recall"][c].as_f64().unwrap());
        close("f1", m.f1, case["f1"][c].as_f64().unwrap());
        assert_eq!(m.support, case["support"][c].as_u64().unwrap() as usize);
    }
}

#[test]
fn metrics_match_scikit_learn_at_three_thresholds() {
    let (metrics, at_default) = metrics_evaluation(DEFAULT_THRESHOLD);
    for case in metrics["cases"].as_array().unwrap() {
        let threshold = case["threshold"].as_f64().unwrap() as f32;
        check_metrics(&metrics_evaluation(threshold).1, case);
        check_metrics(&at_default.with_threshold(threshold).unwrap(), case);
    }
    assert!((at_default.loss - metrics["loss"].as_f64().unwrap()).abs() < 1e-6);
    let uncertain = at_default.uncertain.iter().sum::<usize>() as f64;
    assert!((at_default.uncertain_share - uncertain / 17.0).abs() < 1e-12);
}

#[test]
fn metrics_json_has_the_cli_shape() {
    let (_, evaluation) = metrics_evaluation(DEFAULT_THRESHOLD);
    let json = evaluation.to_json();
    assert_eq!(json["labels"][3], "terrestrial");
    assert_eq!(json["confusion_matrix"][0], serde_json::json!([3, 1, 0, 0]));
    assert_eq!(json["per_class"]["idle"]["precision"], 1.0);
    assert_eq!(json["per_class"]["idle"]["f1"], 0.75);
    assert_eq!(json["per_class"]["lift"]["recall"], 0.5);
    assert!((json["accuracy"].as_f64().unwrap() - 8.0 / 17.0).abs() < 1e-12);
    let back: Evaluation =
        serde_json::from_str(&serde_json::to_string(&evaluation).unwrap()).unwrap();
    // serde_json may round the last bit of an f64; the counts and predictions come back whole.
    assert_eq!(
        (
            &back.confusion_matrix,
            &back.uncertain,
            &back.predictions,
            &back.labels
        ),
        (
            &evaluation.confusion_matrix,
            &evaluation.uncertain,
            &evaluation.predictions,
            &evaluation.labels
        )
    );
    assert!((back.accuracy - evaluation.accuracy).abs() < 1e-15);
}

#[test]
fn misclassified_samples_and_row_shares() {
    let (_, evaluation) = metrics_evaluation(DEFAULT_THRESHOLD);
    // Wrong or uncertain rows of the fixture, by hand.
    assert_eq!(
        evaluation.misclassified(),
        vec![2, 3, 7, 8, 12, 13, 14, 15, 16]
    );
    let shares = evaluation.row_shares();
    assert_eq!(shares[0], vec![0.6, 0.2, 0.0, 0.0, 0.2]);
    for row in &shares {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

// ---- K-means anomaly -----------------------------------------------------------------------

fn kmeans_fixture() -> (Value, Vec<f32>, usize) {
    let case = fixture("sklearn.json")["kmeans"].clone();
    let rows = floats(&case["rows"]);
    let dims = case["dims"].as_u64().unwrap() as usize;
    (case, rows, dims)
}

#[test]
fn kmeans_matches_scikit_learn_from_the_same_start() {
    let (case, rows, dims) = kmeans_fixture();
    let model = KMeans::fit_from(&rows, dims, &get::<Vec<usize>>(&case["init"])).unwrap();
    let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
    assert_close(
        "mean",
        model.mean(),
        &f32s(&get::<Vec<f64>>(&case["mean"])),
        1e-5,
        1e-5,
    );
    assert_close(
        "scale",
        model.scale(),
        &f32s(&get::<Vec<f64>>(&case["scale"])),
        0.0,
        1e-5,
    );
    let centroids: Vec<f32> = model.centroids().iter().flatten().copied().collect();
    let want: Vec<f32> = case["centroids"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_close("centroids", &centroids, &want, 1e-5, 1e-5);
    assert_close("radii", model.radii(), &floats(&case["radii"]), 1e-5, 1e-5);
    let scores = model.scores(&floats(&case["queries"]));
    assert_close("scores", &scores, &floats(&case["scores"]), 1e-4, 1e-5);
}

#[test]
fn kmeans_training_rows_score_at_most_zero_and_outliers_above_one() {
    let (_, rows, dims) = kmeans_fixture();
    let model = KMeans::fit(&rows, dims, KMeans::DEFAULT_CLUSTERS, 1).unwrap();
    assert_eq!(model.clusters(), KMeans::DEFAULT_CLUSTERS);
    assert!(model.scores(&rows).iter().all(|&s| s <= 0.0));
    assert!(model.score(&[40.0, 0.0, 0.0, 2.5]) > 1.0);
    assert!(
        model.score(&[0.0, 0.0]).is_nan(),
        "wrong length is not a score"
    );
    // Seeded: the same seed gives the same model, another seed another start.
    assert_eq!(KMeans::fit(&rows, dims, 32, 1).unwrap(), model);
    assert_ne!(KMeans::fit(&rows, dims, 32, 2).unwrap(), model);
    let back: KMeans = serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
    assert_eq!(back, model);
}

#[test]
fn kmeans_with_more_clusters_than_distinct_rows() {
    // Three distinct rows, one repeated: at most three clusters, each of radius 0.
    let rows = [1.0, 2.0, 1.0, 2.0, 5.0, 0.0, -3.0, 4.0];
    let model = KMeans::fit(&rows, 2, 10, 0).unwrap();
    assert_eq!(model.clusters(), 3);
    assert!(model.radii().iter().all(|&r| r == 0.0));
    assert!(model.scores(&rows).iter().all(|&s| s.abs() < 1e-6));
    // Asking for the repeated row twice as a start: one of the two clusters is moved onto the
    // farthest row, and the fit still covers all rows.
    let from = KMeans::fit_from(&rows, 2, &[0, 1, 2]).unwrap();
    assert_eq!(from.clusters(), 3);
}

#[test]
fn kmeans_constant_feature_keeps_scale_one() {
    let rows: Vec<f32> = (0..20).flat_map(|i| [i as f32, 7.0]).collect();
    let model = KMeans::fit(&rows, 2, 3, 5).unwrap();
    assert_eq!(model.scale()[1], 1.0);
    assert_eq!(model.mean()[1], 7.0);
    // Moving only along the constant feature by 3 leaves the nearest cluster 3 away.
    let inside = model.score(&[10.0, 7.0]);
    let moved = model.score(&[10.0, 10.0]);
    assert!(inside <= 0.0 && moved > 2.0, "{inside} {moved}");
}

#[test]
fn kmeans_rejects_unusable_input() {
    assert!(KMeans::fit(&[], 2, 3, 0).is_err());
    assert!(KMeans::fit(&[1.0, 2.0, 3.0], 2, 3, 0).is_err());
    assert!(KMeans::fit(&[1.0, f32::NAN], 2, 3, 0).is_err());
    assert!(KMeans::fit(&[1.0, 2.0], 2, 0, 0).is_err());
    assert!(KMeans::fit_from(&[1.0, 2.0], 2, &[1]).is_err());
}

// ---- augmentation --------------------------------------------------------------------------

/// Frame `f`, coefficient `c` holds `100·(f + 1) + c`, so a moved or masked value is obvious.
fn spectrogram(frames: usize, coefficients: usize) -> Vec<f32> {
    (0..frames * coefficients)
        .map(|i| (100 * (i / coefficients + 1) + i % coefficients) as f32)
        .collect()
}

fn augmented(settings: Augmentation, sample: &[f32], layout: Layout, seed: u64) -> Vec<f32> {
    let mut out = sample.to_vec();
    settings.apply(&mut out, &layout, &mut Rng::new(seed));
    out
}

#[test]
fn augmentation_is_off_by_default() {
    let layout = Layout::from_shape(&[49, 13]);
    let sample = spectrogram(49, 13);
    assert!(Augmentation::default().is_off());
    assert_eq!(
        augmented(Augmentation::default(), &sample, layout, 1),
        sample
    );
}

#[test]
fn time_shift_moves_whole_frames_and_fills_zeros() {
    let (frames, coefficients) = (10, 3);
    let sample = spectrogram(frames, coefficients);
    let settings = Augmentation {
        time_shift_max: 3,
        ..Augmentation::default()
    };
    let mut shifts = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let out = augmented(
            settings.clone(),
            &sample,
            Layout::from_shape(&[frames, coefficients]),
            seed,
        );
        // The first non-zero frame tells the shift; every frame must agree with it.
        let first = out.chunks(coefficients).position(|f| f[0] != 0.0).unwrap() as isize;
        let source_frame = (out[first as usize * coefficients] / 100.0) as isize - 1;
        let shift = first - source_frame;
        assert!(shift.abs() <= 3);
        for (f, frame) in out.chunks(coefficients).enumerate() {
            let from = f as isize - shift;
            let want: Vec<f32> = if (0..frames as isize).contains(&from) {
                sample[from as usize * coefficients..][..coefficients].to_vec()
            } else {
                vec![0.0; coefficients]
            };
            assert_eq!(frame, want.as_slice(), "seed {seed} frame {f}");
        }
        shifts.insert(shift);
    }
    assert_eq!(shifts.len(), 7, "every shift in ±3 occurs");
}

#[test]
fn masks_zero_whole_frames_and_whole_coefficient_bands() {
    let (frames, coefficients) = (49, 13);
    let sample = spectrogram(frames, coefficients);
    let layout = Layout::from_shape(&[frames, coefficients]);
    let time = Augmentation {
        time_masks: 2,
        time_mask_width: 5,
        ..Augmentation::default()
    };
    let freq = Augmentation {
        freq_masks: 1,
        freq_mask_width: 4,
        ..Augmentation::default()
    };
    let mut masked_any = false;
    for seed in 0..20 {
        let out = augmented(time.clone(), &sample, layout, seed);
        let zero_frames = out
            .chunks(coefficients)
            .filter(|f| f.iter().all(|&v| v == 0.0))
            .count();
        let untouched = out
            .chunks(coefficients)
            .zip(sample.chunks(coefficients))
            .filter(|(a, b)| a == b)
            .count();
        assert_eq!(
            zero_frames + untouched,
            frames,
            "a frame is either masked whole or untouched"
        );
        assert!(zero_frames <= 10);
        let out = augmented(freq.clone(), &sample, layout, seed);
        let zero_columns: Vec<usize> = (0..coefficients)
            .filter(|&c| out.chunks(coefficients).all(|f| f[c] == 0.0))
            .collect();
        assert!(zero_columns.len() <= 4 && zero_columns.windows(2).all(|w| w[1] == w[0] + 1));
        let changed = out.iter().zip(&sample).filter(|(a, b)| a != b).count();
        assert_eq!(changed, zero_columns.len() * frames);
        masked_any |= zero_frames > 0 && !zero_columns.is_empty();
    }
    assert!(masked_any);
}

#[test]
fn image_flip_crop_and_brightness() {
    let (h, w, c) = (6, 8, 3);
    let layout = Layout::from_shape(&[h, w, c]);
    // A horizontal ramp in every channel: 0 at the left edge, 0.7 at the right.
    let image: Vec<f32> = (0..h * w * c).map(|i| (i / c % w) as f32 * 0.1).collect();
    let mirrored: Vec<f32> = (0..h * w * c)
        .map(|i| (w - 1 - i / c % w) as f32 * 0.1)
        .collect();
    let flip = Augmentation {
        flip_horizontal: true,
        ..Augmentation::default()
    };
    let outs: Vec<Vec<f32>> = (0..20)
        .map(|seed| augmented(flip.clone(), &image, layout, seed))
        .collect();
    assert!(outs.iter().all(|o| *o == image || *o == mirrored));
    assert!(outs.contains(&image) && outs.contains(&mirrored));

    // A crop of a ramp resized back is still a ramp: rows equal, values rising left to right
    // within the original range.
    let crop = Augmentation {
        crop_share: 0.5,
        ..Augmentation::default()
    };
    let out = augmented(crop, &image, layout, 4);
    assert_ne!(out, image);
    let row: Vec<f32> = out[..w * c].chunks(c).map(|p| p[0]).collect();
    assert!(row.windows(2).all(|p| p[1] >= p[0]) && row[0] >= 0.0 && row[w - 1] <= 0.7 + 1e-6);
    assert!(out.chunks(w * c).all(|r| r == &out[..w * c]));

    let bright = Augmentation {
        brightness: 0.5,
        ..Augmentation::default()
    };
    let out = augmented(bright, &image, layout, 2);
    let delta = out[15] - image[15]; // x = 5, value 0.5: never clipped by a shift in ±0.5
    assert!(delta.abs() <= 0.5 && delta != 0.0);
    for (o, i) in out.iter().zip(&image) {
        assert!((o - (i + delta).clamp(0.0, 1.0)).abs() < 1e-6);
    }
}

#[test]
fn noise_has_the_asked_spread_and_replays_from_the_seed() {
    let layout = Layout::from_shape(&[4000]);
    let zeros = vec![0.0f32; 4000];
    let noise = Augmentation {
        noise_std: 0.5,
        ..Augmentation::default()
    };
    let out = augmented(noise.clone(), &zeros, layout, 11);
    let var = out.iter().map(|v| f64::from(v * v)).sum::<f64>() / 4000.0;
    assert!((var.sqrt() - 0.5).abs() < 0.03, "std {}", var.sqrt());
    assert_eq!(out, augmented(noise, &zeros, layout, 11));
}

#[test]
fn augmentation_refuses_changes_the_layout_cannot_take() {
    let masks = Augmentation {
        time_masks: 1,
        ..Augmentation::default()
    };
    assert!(masks.check(&Layout::from_shape(&[63])).is_err());
    assert!(masks.check(&Layout::from_shape(&[49, 13])).is_ok());
    let flip = Augmentation {
        flip_horizontal: true,
        ..Augmentation::default()
    };
    assert!(flip.check(&Layout::from_shape(&[49, 13])).is_err());
    assert!(flip.check(&Layout::from_shape(&[96, 96, 3])).is_ok());
    let crop = Augmentation {
        crop_share: 1.0,
        ..Augmentation::default()
    };
    assert!(crop.check(&Layout::from_shape(&[96, 96, 3])).is_err());
    assert!(
        Augmentation::default()
            .check(&Layout::from_shape(&[63]))
            .is_ok()
    );
    let parsed: Result<Augmentation, _> = toml::from_str("noise_stdev = 0.1");
    assert!(parsed.is_err(), "unknown keys are refused");
}

#[test]
fn evaluation_and_loss_take_array_views_of_model_output() {
    // The shapes predict() returns: [samples, classes].
    let probs = Array2::from_shape_vec((2, 2), vec![0.9f32, 0.1, 0.3, 0.7])
        .unwrap()
        .into_dyn();
    let labels = vec!["a".to_string(), "b".to_string()];
    let evaluation = Evaluation::new(&labels, &[0, 1], &probs, 0.6).unwrap();
    assert_eq!(evaluation.accuracy, 1.0);
    assert!(Evaluation::new(&labels, &[0, 2], &probs, 0.6).is_err());
    assert!(Evaluation::new(&labels, &[0], &probs, 0.6).is_err());
}

// ---- training ------------------------------------------------------------------------------

/// `classes` Gaussian blobs in `dims` dimensions, centres on a circle of radius 3 (separable
/// for a small spread), `per_class` rows each, in class order.
fn blobs(
    classes: usize,
    per_class: usize,
    dims: usize,
    spread: f64,
    seed: u64,
) -> (Vec<f32>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let (mut inputs, mut labels) = (Vec::new(), Vec::new());
    for class in 0..classes {
        let angle = std::f64::consts::TAU * class as f64 / classes as f64;
        for _ in 0..per_class {
            for d in 0..dims {
                let centre = match d {
                    0 => 3.0 * angle.cos(),
                    1 => 3.0 * angle.sin(),
                    _ => 0.0,
                };
                inputs.push((centre + spread * rng.next_gaussian()) as f32);
            }
            labels.push(class);
        }
    }
    (inputs, labels)
}

/// A classifier with the body written as preset TOML layers.
fn model(input_shape: &[usize], body: &str, classes: usize, seed: u64) -> Model {
    let preset = Preset::parse(&format!("name = \"t\"\ndescription = \"t\"\n{body}")).unwrap();
    Model::classifier(input_shape, &preset.layers, classes, seed).unwrap()
}

const DENSE_16: &str = "[[layers]]\ntype = \"dense\"\nunits = 16\n[[layers]]\ntype = \"relu\"\n";
const DENSE_DROPOUT: &str = "[[layers]]\ntype = \"dense\"\nunits = 16\n[[layers]]\ntype = \"relu\"\n\
    [[layers]]\ntype = \"dropout\"\nrate = 0.25\n";

/// Trains a fresh classifier on `data` with `config`, never cancelling.
fn check_train(body: &str, data: &Dataset, config: &TrainConfig) -> TrainOutcome {
    let model = model(&data.sample_shape, body, data.classes, 42);
    train(model, data, config, |_| ControlFlow::Continue(())).unwrap()
}

fn dataset<'a>(
    inputs: &'a [f32],
    labels: &'a [usize],
    shape: &[usize],
    classes: usize,
) -> Dataset<'a> {
    Dataset {
        inputs,
        sample_shape: shape.to_vec(),
        labels,
        classes,
        cell_labels: None,
    }
}

#[test]
fn a_separable_problem_trains_to_100_percent() {
    let (inputs, labels) = blobs(4, 50, 2, 0.3, 1);
    let data = dataset(&inputs, &labels, &[2], 4);
    let config = TrainConfig {
        epochs: 40,
        learning_rate: 0.01,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let outcome = check_train(DENSE_16, &data, &config);
    assert_eq!(outcome.stopped, StopReason::Finished);
    assert_eq!(outcome.history.len(), 40);
    let last = outcome.history.last().unwrap();
    assert_eq!(last.val_accuracy, Some(1.0));
    assert!(last.train_loss < outcome.history[0].train_loss);
    let probs = predict(&outcome.model, &inputs, &[2], 32).unwrap();
    assert_eq!(accuracy_and_loss(&labels, &probs).unwrap().0, 1.0);
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let (inputs, labels) = blobs(3, 40, 4, 1.0, 2);
    let data = dataset(&inputs, &labels, &[4], 3);
    let config = TrainConfig {
        epochs: 4,
        learning_rate: 0.01,
        batch_size: 8,
        augmentation: Augmentation {
            noise_std: 0.1,
            ..Augmentation::default()
        },
        ..TrainConfig::default()
    };
    let a = check_train(DENSE_DROPOUT, &data, &config);
    let b = check_train(DENSE_DROPOUT, &data, &config);
    assert_eq!(a.model, b.model);
    assert_eq!(a.validation, b.validation);
    let bits = |o: &TrainOutcome| {
        o.history
            .iter()
            .map(|r| r.train_loss.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b));
    let other = check_train(DENSE_DROPOUT, &data, &TrainConfig { seed: 1, ..config });
    assert_ne!(other.model, a.model);
}

/// Three blobs (90 rows, 72 for training) and ten epochs of 9 batches, for the cancel tests.
fn cancel_setup() -> (Vec<f32>, Vec<usize>, TrainConfig) {
    let (inputs, labels) = blobs(3, 30, 2, 0.5, 3);
    let config = TrainConfig {
        epochs: 10,
        learning_rate: 0.01,
        batch_size: 8,
        ..TrainConfig::default()
    };
    (inputs, labels, config)
}

#[test]
fn cancelling_keeps_the_weights_of_the_last_finished_epoch() {
    let (inputs, labels, config) = cancel_setup();
    let data = dataset(&inputs, &labels, &[2], 3);
    let mut seen = Vec::new();
    let cancelled = train(
        model(&[2], DENSE_DROPOUT, 3, 42),
        &data,
        &config,
        |report| {
            seen.push(report.epoch);
            if report.epoch == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert_eq!(seen, vec![1, 2, 3]);
    assert_eq!(cancelled.stopped, StopReason::Cancelled { epoch: 3 });
    assert_eq!(cancelled.history.len(), 3);
    // Epoch streams depend only on (seed, epoch): three epochs of ten are three epochs.
    let three = check_train(
        DENSE_DROPOUT,
        &data,
        &TrainConfig {
            epochs: 3,
            ..config
        },
    );
    assert_eq!(cancelled.model, three.model);
}

#[test]
fn early_stopping_stops_and_restores_the_best_epoch() {
    // Random labels: the validation loss can only get worse as the model memorises.
    let (inputs, _) = blobs(1, 120, 8, 1.0, 4);
    let mut rng = Rng::new(5);
    let labels: Vec<usize> = (0..120).map(|_| rng.below(3)).collect();
    let data = dataset(&inputs, &labels, &[8], 3);
    let patience = 3;
    let config = TrainConfig {
        epochs: 200,
        learning_rate: 0.01,
        batch_size: 8,
        validation_share: 0.3,
        early_stopping: Some(EarlyStopping {
            patience,
            min_delta: 0.0,
        }),
        ..TrainConfig::default()
    };
    let body = "[[layers]]\ntype = \"dense\"\nunits = 64\n[[layers]]\ntype = \"relu\"\n";
    let outcome = check_train(body, &data, &config);
    let StopReason::EarlyStopped { best_epoch } = outcome.stopped else {
        panic!("did not stop early: {:?}", outcome.stopped);
    };
    assert_eq!(outcome.history.len(), best_epoch + patience);
    let losses: Vec<f32> = outcome
        .history
        .iter()
        .map(|r| r.val_loss.unwrap())
        .collect();
    let best = losses[best_epoch - 1];
    assert!(losses.iter().all(|&l| l >= best));
    // The returned model is the best epoch's: its validation loss is that epoch's.
    let rows = &outcome.validation;
    let val_inputs: Vec<f32> = rows
        .iter()
        .flat_map(|&r| inputs[r * 8..(r + 1) * 8].to_vec())
        .collect();
    let val_labels: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
    let probs = predict(&outcome.model, &val_inputs, &[8], 32).unwrap();
    let (_, loss) = accuracy_and_loss(&val_labels, &probs).unwrap();
    assert!((loss as f32 - best).abs() < 1e-6, "{loss} vs {best}");
}

#[test]
fn one_shard_and_two_shards_give_close_results() {
    let (inputs, labels) = blobs(3, 40, 4, 0.8, 6);
    let data = dataset(&inputs, &labels, &[4], 3);
    let config = TrainConfig {
        epochs: 5,
        learning_rate: 0.005,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let one = check_train(
        DENSE_16,
        &data,
        &TrainConfig {
            shards: 1,
            ..config.clone()
        },
    );
    let two = check_train(
        DENSE_16,
        &data,
        &TrainConfig {
            shards: 2,
            ..config.clone()
        },
    );
    let three = check_train(
        DENSE_16,
        &data,
        &TrainConfig {
            shards: 3,
            ..config
        },
    );
    for other in [&two, &three] {
        for (a, b) in one.history.iter().zip(&other.history) {
            assert!((a.train_loss - b.train_loss).abs() < 1e-4, "{a:?} vs {b:?}");
            assert!((a.val_loss.unwrap() - b.val_loss.unwrap()).abs() < 1e-4);
        }
        let mut a = one.model.clone();
        let mut b = other.model.clone();
        for (p, q) in a.params_mut().into_iter().zip(b.params_mut()) {
            assert_close("weights", q, p, 1e-4, 1e-3);
        }
    }
}

#[test]
fn validation_split_is_stratified_and_seeded() {
    let labels: Vec<usize> = [vec![0; 50], vec![1; 20], vec![2; 7]].concat();
    let inputs: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
    let data = dataset(&inputs, &labels, &[1], 3);
    let config = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    let outcome = check_train(DENSE_16, &data, &config);
    let held: Vec<usize> = (0..3)
        .map(|c| {
            outcome
                .validation
                .iter()
                .filter(|&&r| labels[r] == c)
                .count()
        })
        .collect();
    assert_eq!(held, vec![10, 4, 1], "round(count × 0.2) per class");
    assert!(outcome.validation.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        check_train(DENSE_16, &data, &config).validation,
        outcome.validation
    );
    assert_ne!(
        check_train(
            DENSE_16,
            &data,
            &TrainConfig {
                seed: 9,
                ..config.clone()
            }
        )
        .validation,
        outcome.validation
    );
    let none = check_train(
        DENSE_16,
        &data,
        &TrainConfig {
            validation_share: 0.0,
            ..config
        },
    );
    assert!(none.validation.is_empty() && none.history[0].val_loss.is_none());
}

#[test]
fn class_weights_raise_the_recall_of_a_rare_class() {
    // Overlapping classes, 9 to 1: unweighted training favours the common class.
    let (mut inputs, mut labels) = blobs(2, 180, 2, 4.0, 7);
    inputs.truncate((180 + 20) * 2);
    labels.truncate(180 + 20);
    let data = dataset(&inputs, &labels, &[2], 2);
    let config = TrainConfig {
        epochs: 20,
        learning_rate: 0.01,
        validation_share: 0.0,
        ..TrainConfig::default()
    };
    let recall_of_rare = |config: &TrainConfig| {
        let outcome = check_train(DENSE_16, &data, config);
        let probs = predict(&outcome.model, &inputs, &[2], 64).unwrap();
        let names = vec!["common".to_string(), "rare".to_string()];
        Evaluation::new(&names, &labels, &probs, 0.0)
            .unwrap()
            .per_class[1]
            .recall
    };
    let plain = recall_of_rare(&config);
    let weighted = recall_of_rare(&TrainConfig {
        class_weights: true,
        ..config
    });
    assert!(
        weighted > plain + 0.2,
        "recall of the rare class: {plain} → {weighted}"
    );
}

#[test]
fn training_settings_read_from_a_training_table() {
    let table: toml::Table = toml::from_str(
        "epochs = 12\nlearning_rate = 0.001\n[optimizer]\ntype = \"sgd\"\nmomentum = 0.9\n\
         [early_stopping]\npatience = 4\n[augmentation]\ntime_masks = 2\n",
    )
    .unwrap();
    let config = TrainConfig::from_table(&table).unwrap();
    assert_eq!(
        (config.epochs, config.learning_rate, config.batch_size),
        (12, 0.001, 32)
    );
    assert_eq!(
        config.optimizer,
        Optimizer::Sgd {
            momentum: 0.9,
            nesterov: false
        }
    );
    assert_eq!(
        config.early_stopping,
        Some(EarlyStopping {
            patience: 4,
            min_delta: 0.0
        })
    );
    assert_eq!(config.augmentation.time_masks, 2);
    assert_eq!(
        TrainConfig::from_table(&toml::Table::new()).unwrap(),
        TrainConfig::default()
    );
    // What a project saves comes back the same.
    let saved = toml::to_string(&config).unwrap();
    assert_eq!(toml::from_str::<TrainConfig>(&saved).unwrap(), config);
    let typo: toml::Table = toml::from_str("epoch = 5").unwrap();
    let message = TrainConfig::from_table(&typo).unwrap_err().to_string();
    assert!(
        message.contains("epoch") && message.contains("[training]"),
        "{message}"
    );
}

#[test]
fn training_refuses_bad_settings_and_data() {
    let (inputs, labels) = blobs(2, 10, 2, 0.5, 8);
    let data = dataset(&inputs, &labels, &[2], 2);
    let fresh = || model(&[2], DENSE_16, 2, 1);
    let go = |m: Model, d: &Dataset, c: &TrainConfig| {
        train(m, d, c, |_| ControlFlow::Continue(())).map(|_| ())
    };
    let ok = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    assert!(go(fresh(), &data, &ok).is_ok());
    let refused = |edit: fn(&mut TrainConfig)| {
        let mut config = ok.clone();
        edit(&mut config);
        go(fresh(), &data, &config).is_err()
    };
    assert!(refused(|c| c.batch_size = 0));
    assert!(refused(|c| c.shards = 0));
    assert!(refused(|c| c.learning_rate = f32::NAN));
    assert!(refused(|c| c.validation_share = 1.0));
    assert!(
        refused(|c| c.augmentation.time_masks = 1),
        "time masks on flat features"
    );
    assert!(
        go(model(&[2], DENSE_16, 3, 1), &data, &ok).is_err(),
        "class count differs"
    );
    let bad_labels: Vec<usize> = labels.iter().map(|&l| l * 2).collect();
    assert!(go(fresh(), &dataset(&inputs, &bad_labels, &[2], 2), &ok).is_err());
    let mut nan = inputs.clone();
    nan[3] = f32::NAN;
    assert!(go(fresh(), &dataset(&nan, &labels, &[2], 2), &ok).is_err());
    assert!(go(fresh(), &dataset(&inputs[1..], &labels, &[2], 2), &ok).is_err());
    let diverge = TrainConfig {
        learning_rate: 1e30,
        optimizer: Optimizer::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        epochs: 3,
        ..ok
    };
    let err = go(fresh(), &data, &diverge).unwrap_err().to_string();
    assert!(err.contains("learning rate"), "{err}");
}

#[test]
fn a_small_conv_net_with_batch_norm_trains_with_audio_augmentation() {
    // Flat 8×3 "MFCC" rows reshaped by the model, like the KWS preset: time masks apply.
    let (inputs, labels) = blobs(2, 24, 24, 0.5, 9);
    let data = dataset(&inputs, &labels, &[24], 2);
    let body = "[[layers]]\ntype = \"reshape\"\nshape = [8, 3]\n[[layers]]\ntype = \"conv1d\"\nfilters = 4\n\
        kernel_size = 3\n[[layers]]\ntype = \"batch_norm\"\n[[layers]]\ntype = \"relu\"\n\
        [[layers]]\ntype = \"dropout\"\nrate = 0.25\n[[layers]]\ntype = \"flatten\"\n";
    let config = TrainConfig {
        epochs: 8,
        learning_rate: 0.01,
        batch_size: 8,
        augmentation: Augmentation {
            time_masks: 1,
            time_mask_width: 2,
            time_shift_max: 1,
            ..Augmentation::default()
        },
        ..TrainConfig::default()
    };
    let a = check_train(body, &data, &config);
    let b = check_train(body, &data, &config);
    assert_eq!(a.model, b.model);
    assert!(
        a.history.last().unwrap().val_accuracy.unwrap() >= 0.9,
        "{:?}",
        a.history.last()
    );
}

#[test]
fn predict_matches_forward_on_the_whole_batch() {
    let (inputs, _) = blobs(2, 37, 4, 1.0, 10);
    let m = model(&[4], DENSE_16, 2, 3);
    let whole = m
        .forward(&ArrayD::from_shape_vec(IxDyn(&[74, 4]), inputs.clone()).unwrap())
        .unwrap();
    for batch in [1, 5, 32, 100] {
        let got = predict(&m, &inputs, &[4], batch).unwrap();
        assert_eq!(got.shape(), &[74, 2]);
        let (got, want): (Vec<f32>, Vec<f32>) = (
            got.iter().copied().collect(),
            whole.iter().copied().collect(),
        );
        assert_close("probabilities", &got, &want, 1e-6, 1e-5);
    }
    assert!(predict(&m, &inputs[..7], &[4], 8).is_err());
}

#[test]
fn every_preset_training_table_is_a_train_config() {
    let dir = format!("{}/models", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let preset = Preset::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let config = TrainConfig::from_table(&preset.training)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            config.validate().unwrap();
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked} presets");
}

#[test]
fn cancelling_within_an_epoch_goes_back_to_the_last_finished_one() {
    let (inputs, labels, config) = cancel_setup();
    let data = dataset(&inputs, &labels, &[2], 3);
    let mut progress = Vec::new();
    let outcome = tinylab::nn::train::train_with_progress(
        model(&[2], DENSE_DROPOUT, 3, 42),
        &data,
        &config,
        |_| ControlFlow::Continue(()),
        |p| {
            progress.push((p.epoch, p.batches_done, p.batches));
            if p.epoch == 3 && p.batches_done == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    // 72 training rows in batches of 8: 9 batches an epoch.
    assert_eq!(progress.len(), 9 + 9 + 5);
    assert_eq!(progress[0], (1, 1, 9));
    assert_eq!(outcome.stopped, StopReason::Cancelled { epoch: 2 });
    assert_eq!(outcome.history.len(), 2);
    let two = check_train(
        DENSE_DROPOUT,
        &data,
        &TrainConfig {
            epochs: 2,
            ..config
        },
    );
    assert_eq!(outcome.model, two.model);
}
