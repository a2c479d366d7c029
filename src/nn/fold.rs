//! Batch norm folding for inference and export: TensorFlow Lite has no batch norm op, and the
//! TFLite converter folds it the same way.
//!
//! At inference a batch norm is the per-channel affine map `BN(y) = y · s + t` with
//! `s = γ / √(σ̄² + ε)` and `t = β − μ̄ · s` (`batch_norm.rs`). Following `y = W·x + b`
//! (dense, convolution, depthwise convolution; channel `o` last in `y`):
//!
//! ```text
//! BN(W·x + b) = (s ⊙ W)·x + (s ⊙ b + t)      W'[o, ..] = s[o] · W[o, ..],   b'[o] = s[o] · b[o] + t[o]
//! ```
//! For a depthwise kernel `[1, kh, kw, C]` the channel is the last axis instead of the first.
//! A batch norm that follows anything else (an activation, pooling, the model input) is kept:
//! the exporter writes it as TFLite's MUL and ADD, as the converter does.

use crate::nn::layers::batch_norm::inference_affine;
use crate::nn::{Layer, Model, NnError};

/// Inference copy of `model` with every batch norm folded into the layer before it, recursing
/// into residual bodies. The model's weights are checked first.
pub fn fold_batch_norm(model: &Model) -> Result<Model, NnError> {
    model.output_shape()?;
    Ok(Model {
        input_shape: model.input_shape.clone(),
        layers: fold_layers(&model.layers),
    })
}

fn fold_layers(layers: &[Layer]) -> Vec<Layer> {
    let mut out: Vec<Layer> = Vec::with_capacity(layers.len());
    for layer in layers {
        match layer {
            Layer::Residual { layers } => out.push(Layer::Residual {
                layers: fold_layers(layers),
            }),
            Layer::BatchNorm { .. } => {
                let folded = layer.batch_norm_params().is_some_and(|params| {
                    let (scale, shift) = inference_affine(&params);
                    out.last_mut()
                        .is_some_and(|previous| fold_into(previous, &scale, &shift))
                });
                if !folded {
                    out.push(layer.clone());
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// Multiplies `y = W·x + b` of `layer` by `scale` and adds `shift`, channel by channel; false
/// when the layer is not one that batch norm folds into.
fn fold_into(layer: &mut Layer, scale: &[f32], shift: &[f32]) -> bool {
    let channels = scale.len();
    match layer {
        Layer::Dense { weights, bias, .. }
        | Layer::Conv1d { weights, bias, .. }
        | Layer::Conv2d { weights, bias, .. } => {
            if bias.len() != channels || channels == 0 {
                return false;
            }
            let per_channel = weights.len() / channels;
            for (row, s) in weights.chunks_exact_mut(per_channel.max(1)).zip(scale) {
                row.iter_mut().for_each(|w| *w *= s);
            }
        }
        Layer::DepthwiseConv2d { weights, bias, .. } => {
            if bias.len() != channels || channels == 0 {
                return false;
            }
            for tap in weights.chunks_exact_mut(channels) {
                tap.iter_mut().zip(scale).for_each(|(w, s)| *w *= s);
            }
        }
        _ => return false,
    }
    if let Layer::Dense { bias, .. }
    | Layer::Conv1d { bias, .. }
    | Layer::Conv2d { bias, .. }
    | Layer::DepthwiseConv2d { bias, .. } = layer
    {
        for ((b, s), t) in bias.iter_mut().zip(scale).zip(shift) {
            *b = *b * s + t;
        }
    }
    true
}
