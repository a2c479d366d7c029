//! `FULLY_CONNECTED`: TFLite's `reference_ops::FullyConnected` (float32) and
//! `reference_integer_ops::FullyConnected` / `FullyConnectedPerChannel` (int8).
//!
//! Weights are `[units, depth]`, the input `batches · depth` values, the output
//! `[batches, units]`. int8: `acc = Σ (w + weights_offset) · (x + input_offset) + bias` in int32,
//! then the per-tensor or per-unit multiplier, the output zero point and the activation clamp.
//! TFLite computes the per-tensor multiplier from `(input_scale · filter_scale)` rounded to
//! float32 before the division in double, unlike convolutions; the interpreter does the same.

use super::conv::QuantizedOutput;
use super::{check_len, clamp_f32};
use crate::quant::QuantError;

/// The shapes of one fully connected layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullyConnectedShape {
    /// Rows of the input (everything but the last output dimension).
    pub batches: usize,
    /// Values per row (the weights' last dimension).
    pub depth: usize,
    /// Output units (the weights' first dimension).
    pub units: usize,
}

impl FullyConnectedShape {
    fn check<T, B>(
        &self,
        input: &[T],
        weights: &[T],
        bias: Option<&[B]>,
    ) -> Result<(), QuantError> {
        check_len(
            "fully connected input",
            input.len(),
            self.batches * self.depth,
        )?;
        check_len(
            "fully connected weights",
            weights.len(),
            self.units * self.depth,
        )?;
        if let Some(bias) = bias {
            check_len("fully connected bias", bias.len(), self.units)?;
        }
        Ok(())
    }
}

/// Float32 `FULLY_CONNECTED` with the clamp `(min, max)` of its fused activation.
pub fn fully_connected_f32(
    shape: &FullyConnectedShape,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    (min, max): (f32, f32),
) -> Result<Vec<f32>, QuantError> {
    shape.check(input, weights, bias)?;
    let depth = shape.depth.max(1);
    let mut output = Vec::with_capacity(shape.batches * shape.units);
    for row in input.chunks_exact(depth).take(shape.batches) {
        for (unit, w) in weights.chunks_exact(depth).enumerate() {
            let mut total = 0.0f32;
            for (x, wv) in row.iter().zip(w) {
                total += x * wv;
            }
            let b = bias.and_then(|b| b.get(unit)).copied().unwrap_or(0.0);
            output.push(clamp_f32(total + b, min, max));
        }
    }
    Ok(output)
}

/// int8 `FULLY_CONNECTED`; `quant.multipliers` holds one entry (per tensor) or one per unit
/// (per channel, where TFLite ignores the weights' zero point, which must be 0 anyway).
pub fn fully_connected_i8(
    shape: &FullyConnectedShape,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    weights_offset: i32,
    quant: &QuantizedOutput,
) -> Result<Vec<i8>, QuantError> {
    shape.check(input, weights, bias)?;
    let depth = shape.depth.max(1);
    let per_channel = quant.multipliers.len() > 1;
    let mut output = Vec::with_capacity(shape.batches * shape.units);
    let mut shifted = vec![0i32; depth];
    for row in input.chunks_exact(depth).take(shape.batches) {
        for (s, &x) in shifted.iter_mut().zip(row) {
            *s = i32::from(x) + quant.input_offset;
        }
        for (unit, w) in weights.chunks_exact(depth).enumerate() {
            let mut acc = 0i32;
            for (&s, &wv) in shifted.iter().zip(w) {
                acc = acc.wrapping_add((i32::from(wv) + weights_offset).wrapping_mul(s));
            }
            let b = bias.and_then(|b| b.get(unit)).copied().unwrap_or(0);
            let channel = if per_channel { unit } else { 0 };
            output.push(quant.requantize(acc.wrapping_add(b), channel));
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_fully_connected_with_bias_and_relu6() {
        // x = [1, 2, 3]; w0 = [1, 1, 1] → 6 + 1 = 7 → 6; w1 = [0, -1, 0] → -2 + 0 → 0.
        let shape = FullyConnectedShape {
            batches: 1,
            depth: 3,
            units: 2,
        };
        let out = fully_connected_f32(
            &shape,
            &[1.0, 2.0, 3.0],
            &[1.0, 1.0, 1.0, 0.0, -1.0, 0.0],
            Some(&[1.0, 0.0]),
            (0.0, 6.0),
        )
        .unwrap();
        assert_eq!(out, vec![6.0, 0.0]);
    }

    #[test]
    fn int8_fully_connected_per_tensor_and_per_channel() {
        // Two rows, x = [[1, 2], [-3, 0]], input offset 1 → [[2, 3], [-2, 1]].
        // w0 = [4, -1], w1 = [0, 2]; bias [3, -1].
        // Row 0: 2·4 - 3 = 5 + 3 = 8; 6 - 1 = 5. Row 1: -8 - 1 = -9 + 3 = -6; 2 - 1 = 1.
        let shape = FullyConnectedShape {
            batches: 2,
            depth: 2,
            units: 2,
        };
        let x = [1, 2, -3, 0];
        let w = [4, -1, 0, 2];
        let bias = [3, -1];
        // Per tensor 0.5 with output zero point 10: 8 → 4, 5 → 3 (2.5 rounds up), -6 → -3,
        // 1 → 1 (0.5 rounds up): [14, 13, 7, 11].
        let per_tensor = QuantizedOutput {
            input_offset: 1,
            output_offset: 10,
            multipliers: vec![(1 << 30, 0)],
            activation_min: -128,
            activation_max: 127,
        };
        let out = fully_connected_i8(&shape, &x, &w, Some(&bias), 0, &per_tensor).unwrap();
        assert_eq!(out, vec![14, 13, 7, 11]);
        // Per channel: unit 0 × 0.5, unit 1 × 2 = (2^30, 2): 8 → 4, 5 → 10, -6 → -3, 1 → 2.
        let per_channel = QuantizedOutput {
            multipliers: vec![(1 << 30, 0), (1 << 30, 2)],
            ..per_tensor
        };
        let out = fully_connected_i8(&shape, &x, &w, Some(&bias), 0, &per_channel).unwrap();
        assert_eq!(out, vec![14, 20, 7, 12]);
    }

    #[test]
    fn int8_weights_offset_is_added() {
        // Weights zero point 1 (offset -1): w = [3] → 2; x = [5] (offset 0) → 10, × 1 → 10.
        let shape = FullyConnectedShape {
            batches: 1,
            depth: 1,
            units: 1,
        };
        let quant = QuantizedOutput {
            input_offset: 0,
            output_offset: 0,
            multipliers: vec![(1 << 30, 1)],
            activation_min: -128,
            activation_max: 127,
        };
        assert_eq!(
            fully_connected_i8(&shape, &[5], &[3], None, -1, &quant).unwrap(),
            vec![10]
        );
    }
}
