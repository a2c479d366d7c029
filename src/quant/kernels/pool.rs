//! `MAX_POOL_2D` and `AVERAGE_POOL_2D`: TFLite's `reference_ops` (float32) and
//! `reference_integer_ops` (int8) pooling.
//!
//! Windows skip the padding (they are not zero-filled): the average divides by the number of
//! in-bounds taps. int8 works on the raw values (input and output share their quantization):
//! the average rounds half away from zero, `(sum ± count/2) / count` with C++'s truncating
//! division; both then clamp to the fused activation's range.

use super::{Window2d, check_len, clamp_f32};
use crate::quant::QuantError;

/// Which reduction a pooling window applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest value.
    Max,
    /// The mean of the in-bounds values.
    Average,
}

/// The shapes of one pooling operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolShape {
    /// Window geometry (dilation 1).
    pub window: Window2d,
    /// Channels (input and output).
    pub channels: usize,
}

/// The pooling walk shared by both types: for every output pixel, `step(out, input_pixel)`
/// once per in-bounds tap (channels side by side), then `finish(out, tap_count)`.
fn for_each_window<T: Copy, O>(
    shape: &PoolShape,
    input: &[T],
    init: O,
    mut step: impl FnMut(&mut [O], &[T]),
    mut finish: impl FnMut(&mut [O], usize) -> Result<(), QuantError>,
) -> Result<Vec<O>, QuantError>
where
    O: Copy,
{
    check_len(
        "pool input",
        input.len(),
        shape.window.input_pixels() * shape.channels,
    )?;
    let c = shape.channels.max(1);
    let mut output = vec![init; shape.window.output_pixels() * c];
    for (pixel, out) in output.chunks_exact_mut(c).enumerate() {
        let mut count = 0;
        shape.window.for_each_tap(pixel, |input_pixel, _| {
            let start = input_pixel * c;
            step(out, input.get(start..start + c).unwrap_or_default());
            count += 1;
        });
        finish(out, count)?;
    }
    Ok(output)
}

/// Float32 pooling with the clamp `(min, max)` of its fused activation.
pub fn pool_f32(
    kind: PoolKind,
    shape: &PoolShape,
    input: &[f32],
    (min, max): (f32, f32),
) -> Result<Vec<f32>, QuantError> {
    let init = match kind {
        PoolKind::Max => f32::MIN,
        PoolKind::Average => 0.0,
    };
    for_each_window(
        shape,
        input,
        init,
        |out, x| {
            for (o, &v) in out.iter_mut().zip(x) {
                match kind {
                    // std::max(max, value): keeps `max` unless `max < value`.
                    PoolKind::Max => {
                        if *o < v {
                            *o = v;
                        }
                    }
                    PoolKind::Average => *o += v,
                }
            }
        },
        |out, count| {
            for o in out.iter_mut() {
                let value = match kind {
                    PoolKind::Max => *o,
                    PoolKind::Average => *o / count as f32,
                };
                *o = clamp_f32(value, min, max);
            }
            Ok(())
        },
    )
}

/// int8 pooling with the quantized activation range `(min, max)`.
pub fn pool_i8(
    kind: PoolKind,
    shape: &PoolShape,
    input: &[i8],
    (min, max): (i32, i32),
) -> Result<Vec<i8>, QuantError> {
    let init: i32 = match kind {
        PoolKind::Max => i32::from(i8::MIN),
        PoolKind::Average => 0,
    };
    let sums = for_each_window(
        shape,
        input,
        init,
        |out, x| {
            for (o, &v) in out.iter_mut().zip(x) {
                match kind {
                    PoolKind::Max => *o = (*o).max(i32::from(v)),
                    PoolKind::Average => *o += i32::from(v),
                }
            }
        },
        |out, count| {
            let count = count as i32;
            if kind == PoolKind::Average && count == 0 {
                return Err(QuantError::Invalid(
                    "AVERAGE_POOL_2D window without input values".into(),
                ));
            }
            for o in out.iter_mut() {
                let value = match kind {
                    PoolKind::Max => *o,
                    PoolKind::Average if *o > 0 => (*o + count / 2) / count,
                    PoolKind::Average => (*o - count / 2) / count,
                };
                *o = value.max(min).min(max);
            }
            Ok(())
        },
    )?;
    Ok(sums.into_iter().map(|v| v as i8).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Padding;

    fn shape(hw: [usize; 2], k: [usize; 2], s: [usize; 2], p: Padding, c: usize) -> PoolShape {
        PoolShape {
            window: Window2d::new(1, hw, k, s, [1, 1], p).unwrap(),
            channels: c,
        }
    }

    #[test]
    fn float_pools_same_stride_two_odd_input() {
        // 3×3 input 1..9, 2×2 windows, SAME stride 2: out 2×2, padding after only.
        // Windows: {1,2,4,5}, {3,6}, {7,8}, {9}.
        let s = shape([3, 3], [2, 2], [2, 2], Padding::Same, 1);
        let input: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let full = (f32::MIN, f32::MAX);
        assert_eq!(
            pool_f32(PoolKind::Max, &s, &input, full).unwrap(),
            vec![5.0, 6.0, 8.0, 9.0]
        );
        assert_eq!(
            pool_f32(PoolKind::Average, &s, &input, full).unwrap(),
            vec![3.0, 4.5, 7.5, 9.0]
        );
        // Relu6 clamp.
        assert_eq!(
            pool_f32(PoolKind::Max, &s, &input, (0.0, 6.0)).unwrap(),
            vec![5.0, 6.0, 6.0, 6.0]
        );
    }

    #[test]
    fn int8_average_rounds_half_away_from_zero() {
        // Channel 0: [1, 2] → (3 + 1) / 2 = 2; channel 1: [-1, -2] → (-3 - 1) / 2 = -2;
        // channel 2: [-1, 0] → (-1 - 1) / 2 = -1; channel 3: [5, 6] → 11+1 / 2 = 6.
        let s = shape([1, 2], [1, 2], [1, 1], Padding::Valid, 4);
        let input = [1, -1, -1, 5, 2, -2, 0, 6];
        assert_eq!(
            pool_i8(PoolKind::Average, &s, &input, (-128, 127)).unwrap(),
            vec![2, -2, -1, 6]
        );
        // Three values 1, 1, 0: (2 + 1) / 3 = 1; -1, -1, 0: (-2 - 1) / 3 = -1; 1, 0, 0: 1/3 → 0.
        let s = shape([1, 3], [1, 3], [1, 1], Padding::Valid, 3);
        assert_eq!(
            pool_i8(
                PoolKind::Average,
                &s,
                &[1, -1, 1, 1, -1, 0, 0, 0, 0],
                (-128, 127)
            )
            .unwrap(),
            vec![1, -1, 0]
        );
    }

    #[test]
    fn int8_max_with_activation_range() {
        let s = shape([2, 2], [2, 2], [2, 2], Padding::Valid, 1);
        assert_eq!(
            pool_i8(PoolKind::Max, &s, &[-100, -90, -120, -128], (-128, 127)).unwrap(),
            vec![-90]
        );
        assert_eq!(
            pool_i8(PoolKind::Max, &s, &[-100, -90, -120, -128], (-20, 127)).unwrap(),
            vec![-20]
        );
    }
}
