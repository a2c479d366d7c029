//! Batch normalisation over the last (channel) axis, as Keras 3's `BatchNormalization`.
//! TensorFlow Lite has no op for it: for export it is folded into the preceding convolution or
//! dense layer (`fold.rs`).
//!
//! Shapes: `x, y: [N, .., C]`; `γ, β, moving mean μ̄, moving variance σ̄²: [C]`. Statistics are
//! over every axis but the last (`M = N · positions` values per channel).
//!
//! ```text
//! inference  y = γ · (x − μ̄) / √(σ̄² + ε) + β
//! training   μ = mean(x),  σ² = mean((x − μ)²)  (biased, as Keras 3),  x̂ = (x − μ) / √(σ² + ε)
//!            y = γ · x̂ + β
//! backward   dβ = Σ dy,   dγ = Σ dy · x̂
//!            dx = γ / √(σ² + ε) · (dy − mean(dy) − x̂ · mean(dy · x̂))
//! moving     μ̄ ← μ̄ · momentum + μ · (1 − momentum),  likewise σ̄² with σ²
//! ```

use super::{Cache, Layer, Mode, ParamGrads, into_values, tensor, values};
use crate::nn::{NnError, Tensor};

/// The parameter vectors of a batch norm layer.
pub(crate) struct Params<'a> {
    /// Added to the variance.
    pub epsilon: f32,
    /// Scale.
    pub gamma: &'a [f32],
    /// Offset.
    pub beta: &'a [f32],
    /// Moving mean.
    pub moving_mean: &'a [f32],
    /// Moving variance.
    pub moving_variance: &'a [f32],
}

/// What backward and the moving-statistics update need from a training forward pass.
#[derive(Debug, Clone)]
pub(crate) struct BatchCache {
    /// The normalised input `x̂`, flat.
    x_hat: Vec<f32>,
    /// Input shape, batch first.
    shape: Vec<usize>,
    /// `1 / √(σ² + ε)` per channel.
    inv_std: Vec<f32>,
    /// Batch mean per channel.
    mean: Vec<f32>,
    /// Batch (biased) variance per channel.
    variance: Vec<f32>,
}

/// Forward pass: moving statistics at inference, batch statistics while training.
pub(crate) fn forward(
    layer: &Layer,
    params: Params<'_>,
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let shape = x.shape().to_vec();
    let c = params.gamma.len().max(1);
    let mut y = into_values(x);
    if !mode.is_train() {
        let (scale, shift) = inference_affine(&params);
        for row in y.chunks_exact_mut(c) {
            for ((v, s), t) in row.iter_mut().zip(&scale).zip(&shift) {
                *v = *v * s + t;
            }
        }
        return Ok((tensor(layer, &shape, y)?, Cache::None));
    }
    let rows = y.len() / c;
    let inv_rows = 1.0 / rows.max(1) as f64;
    // Statistics accumulate in f64: a channel can hold tens of thousands of values.
    let mut sum = vec![0.0f64; c];
    for row in y.chunks_exact(c) {
        sum.iter_mut()
            .zip(row)
            .for_each(|(s, &v)| *s += f64::from(v));
    }
    let mean: Vec<f64> = sum.iter().map(|s| s * inv_rows).collect();
    let mut square = vec![0.0f64; c];
    for row in y.chunks_exact(c) {
        for ((s, &v), m) in square.iter_mut().zip(row).zip(&mean) {
            let d = f64::from(v) - m;
            *s += d * d;
        }
    }
    let variance: Vec<f64> = square.iter().map(|s| s * inv_rows).collect();
    let inv_std: Vec<f32> = variance
        .iter()
        .map(|v| (1.0 / (v + f64::from(params.epsilon)).sqrt()) as f32)
        .collect();
    let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    let mut x_hat = y.clone();
    for (hat_row, y_row) in x_hat.chunks_exact_mut(c).zip(y.chunks_exact_mut(c)) {
        for ((((h, v), m), s), (g, b)) in hat_row
            .iter_mut()
            .zip(y_row.iter_mut())
            .zip(&mean)
            .zip(&inv_std)
            .zip(params.gamma.iter().zip(params.beta))
        {
            *h = (*h - m) * s;
            *v = g * *h + b;
        }
    }
    let cache = BatchCache {
        x_hat,
        shape: shape.clone(),
        inv_std,
        mean,
        variance: variance.iter().map(|&v| v as f32).collect(),
    };
    Ok((tensor(layer, &shape, y)?, Cache::BatchNorm(cache)))
}

/// Backward pass (training mode): `(dx, [dγ, dβ])`.
pub(crate) fn backward(
    layer: &Layer,
    gamma: &[f32],
    cache: &BatchCache,
    dy: Tensor,
    need_dx: bool,
) -> Result<(Option<Tensor>, ParamGrads), NnError> {
    let c = gamma.len().max(1);
    let dy = values(&dy);
    if dy.len() != cache.x_hat.len() {
        return Err(layer.shape_error(
            &format!("a gradient of {} values", cache.x_hat.len()),
            &[dy.len()],
        ));
    }
    let mut d_gamma = vec![0.0f64; c];
    let mut d_beta = vec![0.0f64; c];
    for (g_row, h_row) in dy.chunks_exact(c).zip(cache.x_hat.chunks_exact(c)) {
        for (((dg, db), &g), &h) in d_gamma
            .iter_mut()
            .zip(d_beta.iter_mut())
            .zip(g_row)
            .zip(h_row)
        {
            *dg += f64::from(g * h);
            *db += f64::from(g);
        }
    }
    let dx = if need_dx {
        let rows = (dy.len() / c).max(1) as f64;
        let mean_dy: Vec<f32> = d_beta.iter().map(|s| (s / rows) as f32).collect();
        let mean_dy_hat: Vec<f32> = d_gamma.iter().map(|s| (s / rows) as f32).collect();
        let scale: Vec<f32> = gamma
            .iter()
            .zip(&cache.inv_std)
            .map(|(g, s)| g * s)
            .collect();
        let mut dx = vec![0.0; dy.len()];
        for ((dx_row, g_row), h_row) in dx
            .chunks_exact_mut(c)
            .zip(dy.chunks_exact(c))
            .zip(cache.x_hat.chunks_exact(c))
        {
            for (((((d, &g), &h), s), m), mh) in dx_row
                .iter_mut()
                .zip(g_row)
                .zip(h_row)
                .zip(&scale)
                .zip(&mean_dy)
                .zip(&mean_dy_hat)
            {
                *d = s * (g - m - h * mh);
            }
        }
        Some(tensor(layer, &cache.shape, dx)?)
    } else {
        None
    };
    let to_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
    Ok((dx, vec![to_f32(d_gamma), to_f32(d_beta)]))
}

/// Keras's moving-statistics update from one training batch.
pub(crate) fn update_moving(
    momentum: f32,
    moving_mean: &mut [f32],
    moving_variance: &mut [f32],
    cache: &BatchCache,
) {
    for (moving, batch) in moving_mean.iter_mut().zip(&cache.mean) {
        *moving = *moving * momentum + batch * (1.0 - momentum);
    }
    for (moving, batch) in moving_variance.iter_mut().zip(&cache.variance) {
        *moving = *moving * momentum + batch * (1.0 - momentum);
    }
}

/// Inference as a per-channel affine map `y = x · scale + shift`, with
/// `scale = γ / √(σ̄² + ε)` and `shift = β − μ̄ · scale` (what folding multiplies in).
pub(crate) fn inference_affine(params: &Params<'_>) -> (Vec<f32>, Vec<f32>) {
    let scale: Vec<f32> = params
        .gamma
        .iter()
        .zip(params.moving_variance)
        .map(|(g, v)| g / (v + params.epsilon).sqrt())
        .collect();
    let shift = params
        .beta
        .iter()
        .zip(params.moving_mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    (scale, shift)
}
