//! `MEAN`: TFLite's `reference_ops::Mean` (float32) and `QuantizedMeanOrSum` (int8), the path
//! TFLM takes for every axis set, `keep_dims` or not (the output layout is the same either way).
//!
//! int8: the int32 sum over the reduced axes, minus `input_zero_point · count`, is scaled by
//! `input_scale / output_scale` folded with `1 / count`: with `shift = min(floor(log2(count)),
//! 32, 31 + shift0)`, the multiplier becomes `(multiplier0 << shift) / count` and the shift
//! `shift0 − shift`; then `MultiplyByQuantizedMultiplier`, the output zero point and the int8
//! clamp (no fused activation).

use super::check_len;
use super::fixed_point::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::quant::QuantError;

/// Where each input element goes: the input shape, which axes are reduced, and the derived
/// output strides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reduction {
    input_shape: Vec<usize>,
    /// Stride in the output of each input axis (0 for reduced axes).
    output_strides: Vec<usize>,
    output_len: usize,
    count: usize,
}

impl Reduction {
    /// The reduction of `input_shape` over `axes` (negative axes count from the end, duplicates
    /// are ignored, as in `ResolveAxis`).
    pub fn new(input_shape: &[usize], axes: &[i32]) -> Result<Reduction, QuantError> {
        let rank = input_shape.len() as i64;
        let mut reduced = vec![false; input_shape.len()];
        for &axis in axes {
            let resolved = if axis < 0 {
                i64::from(axis) + rank
            } else {
                i64::from(axis)
            };
            let slot = usize::try_from(resolved)
                .ok()
                .and_then(|a| reduced.get_mut(a))
                .ok_or_else(|| {
                    QuantError::Invalid(format!(
                        "MEAN axis {axis} is out of range for shape {input_shape:?}"
                    ))
                })?;
            *slot = true;
        }
        let mut output_strides = vec![0; input_shape.len()];
        let mut stride = 1;
        for ((out_stride, &dim), &is_reduced) in output_strides
            .iter_mut()
            .zip(input_shape)
            .zip(&reduced)
            .rev()
        {
            if !is_reduced {
                *out_stride = stride;
                stride *= dim;
            }
        }
        let count = input_shape
            .iter()
            .zip(&reduced)
            .filter(|(_, r)| **r)
            .map(|(d, _)| *d)
            .product();
        Ok(Reduction {
            input_shape: input_shape.to_vec(),
            output_strides,
            output_len: stride,
            count,
        })
    }

    /// Elements in the output.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Elements averaged into each output.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The input's shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Per input axis, the step in the output when that axis advances by one (0 for a reduced
    /// axis).
    pub fn output_strides(&self) -> &[usize] {
        &self.output_strides
    }

    /// Adds every input element, in row-major order, into its output slot.
    fn sum<T: Copy, A: Copy>(
        &self,
        input: &[T],
        zero: A,
        add: impl Fn(A, T) -> A,
    ) -> Result<Vec<A>, QuantError> {
        let input_len: usize = self.input_shape.iter().product();
        check_len("MEAN input", input.len(), input_len)?;
        let mut sums = vec![zero; self.output_len];
        let mut index = vec![0usize; self.input_shape.len()];
        let mut out = 0usize;
        for &value in input {
            if let Some(s) = sums.get_mut(out) {
                *s = add(*s, value);
            }
            // Advance the multi-index (last axis fastest) and the output offset with it.
            for ((i, &dim), &stride) in index
                .iter_mut()
                .zip(&self.input_shape)
                .zip(&self.output_strides)
                .rev()
            {
                *i += 1;
                out += stride;
                if *i < dim {
                    break;
                }
                out -= stride * dim;
                *i = 0;
            }
        }
        Ok(sums)
    }
}

/// Float32 `MEAN`: the float sum divided by the element count.
pub fn mean_f32(reduction: &Reduction, input: &[f32]) -> Result<Vec<f32>, QuantError> {
    let sums = reduction.sum(input, 0.0f32, |a, v| a + v)?;
    let count = reduction.count as f32;
    if reduction.count == 0 {
        return Ok(sums);
    }
    Ok(sums.into_iter().map(|s| s / count).collect())
}

/// The int8 `MEAN` parameters: `(multiplier, shift)` of `input_scale / output_scale` and the two
/// zero points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeanQuant {
    /// `QuantizeMultiplier(input_scale / output_scale)`.
    pub multiplier: (i32, i32),
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
}

impl MeanQuant {
    /// The parameters TFLM's `PrepareMeanOrSum` computes (the scale ratio in double).
    pub fn new(input: (f32, i32), output: (f32, i32)) -> MeanQuant {
        MeanQuant {
            multiplier: quantize_multiplier(f64::from(input.0) / f64::from(output.0)),
            input_zero_point: input.1,
            output_zero_point: output.1,
        }
    }

    /// `(multiplier, shift, input_zero_point · count)` for a mean over `count` values: the
    /// input/output multiplier with `1 / count` folded in, as `QuantizedMeanOrSum` does it
    /// (the module doc has the formula). A `count` of 0 is taken as 1.
    pub fn folded(&self, count: usize) -> (i32, i32, i32) {
        let count = count.max(1) as i64;
        let (multiplier0, shift0) = self.multiplier;
        // floor(log2(count)), as 63 − CountLeadingZeros(uint64 count).
        let log2 = 63 - (count as u64).leading_zeros() as i32;
        let shift = log2.min(32).min(31 + shift0);
        let multiplier = if shift >= 0 {
            ((i64::from(multiplier0) << shift) / count) as i32
        } else {
            ((i64::from(multiplier0) >> -shift) / count) as i32
        };
        let zero_point_total = (i64::from(self.input_zero_point) * count) as i32;
        (multiplier, shift0 - shift, zero_point_total)
    }
}

/// int8 `MEAN` (`QuantizedMeanOrSum` with `compute_sum = false`).
pub fn mean_i8(
    reduction: &Reduction,
    input: &[i8],
    quant: &MeanQuant,
) -> Result<Vec<i8>, QuantError> {
    let sums = reduction.sum(input, 0i32, |a, v| a.wrapping_add(i32::from(v)))?;
    let count = reduction.count as i64;
    if count == 0 {
        return Ok(vec![0; sums.len()]);
    }
    let (multiplier, output_shift, zero_point_total) = quant.folded(reduction.count);
    Ok(sums
        .into_iter()
        .map(|sum| {
            let shifted = sum.wrapping_sub(zero_point_total);
            multiply_by_quantized_multiplier(shifted, multiplier, output_shift)
                .wrapping_add(quant.output_zero_point)
                .clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_mean_over_height_and_width() {
        // [1, 2, 2, 2]: channel 0 = 1, 2, 3, 4 → 2.5; channel 1 = 10, 20, 30, 40 → 25.
        let r = Reduction::new(&[1, 2, 2, 2], &[1, 2]).unwrap();
        let input = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
        assert_eq!(r.output_len(), 2);
        assert_eq!(mean_f32(&r, &input).unwrap(), vec![2.5, 25.0]);
        // Negative and duplicate axes resolve to the same reduction.
        let r2 = Reduction::new(&[1, 2, 2, 2], &[-3, 2, 1]).unwrap();
        assert_eq!(mean_f32(&r2, &input).unwrap(), vec![2.5, 25.0]);
        // Over the last axis: 4 outputs.
        let r3 = Reduction::new(&[1, 2, 2, 2], &[3]).unwrap();
        assert_eq!(mean_f32(&r3, &input).unwrap(), vec![5.5, 11.0, 16.5, 22.0]);
        assert!(Reduction::new(&[1, 2], &[2]).is_err());
    }

    #[test]
    fn int8_mean_same_quantization() {
        // Same scales: multiplier0 = (2^30, 1). 4 values [1, 2, 3, 5], zero point -1:
        // sum 11 + 4 = 15; shift = min(2, 32, 32) = 2 → multiplier (2^30 · 4) / 4 = 2^30,
        // output shift -1: high mul (15·2^30 + 2^30) / 2^31 = 8 (7.5 rounds up), then
        // RoundingDivideByPOT(8, 1) = 4; + zero point -1 = 3 (real mean 3.75 - 1 = 2.75).
        let r = Reduction::new(&[1, 2, 2, 1], &[1, 2]).unwrap();
        let quant = MeanQuant::new((0.5, -1), (0.5, -1));
        assert_eq!(quant.multiplier, (1 << 30, 1));
        assert_eq!(mean_i8(&r, &[1, 2, 3, 5], &quant).unwrap(), vec![3]);
    }

    #[test]
    fn int8_mean_three_values_different_scales() {
        // Input scale 0.25, output scale 0.5: 0.5 = (2^30, 0). Count 3: log2 = 1, shift 1,
        // multiplier (2^30 · 2) / 3 = 715827882, output shift -1.
        // Values [10, 20, 31], zero points 0 and 5: sum 61 → 61 · 715827882 / 2^31: high mul
        // (43665500802 + 2^30) / 2^31 = 20.83 → 20; RoundingDivideByPOT(20, 1) = 10; + 5 = 15.
        // (Real: mean 20.33 · 0.25 = 5.08 → 10.17 at scale 0.5, + 5 → 15.)
        let r = Reduction::new(&[1, 3, 1, 1], &[1]).unwrap();
        let quant = MeanQuant::new((0.25, 0), (0.5, 5));
        assert_eq!(mean_i8(&r, &[10, 20, 31], &quant).unwrap(), vec![15]);
    }
}
