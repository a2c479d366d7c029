//! Real FFTs as numpy computes them (`np.fft.rfft(x, n)`): a frame longer than `n` is cut to its
//! first `n` values, a shorter one is zero-padded. Plans are cached per length and thread, so
//! computing thousands of frames costs one plan each.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;
use std::cell::RefCell;

thread_local! {
    static PLANNER: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
}

/// `np.fft.rfft(frame, n_fft)`: `n_fft / 2 + 1` complex bins.
pub fn rfft(frame: &[f64], n_fft: usize) -> Vec<Complex<f64>> {
    if n_fft == 0 {
        return Vec::new();
    }
    let mut input: Vec<f64> = frame.iter().copied().take(n_fft).collect();
    input.resize(n_fft, 0.0);
    PLANNER.with(|planner| {
        let plan = planner.borrow_mut().plan_fft_forward(n_fft);
        let mut output = plan.make_output_vec();
        let mut scratch = plan.make_scratch_vec();
        // Cannot fail: the buffers come from the plan itself, so their lengths are right.
        let _ = plan.process_with_scratch(&mut input, &mut output, &mut scratch);
        output
    })
}

/// `np.abs(np.fft.rfft(frame, n_fft))`.
pub fn rfft_magnitude(frame: &[f64], n_fft: usize) -> Vec<f64> {
    rfft(frame, n_fft).iter().map(|c| c.norm()).collect()
}

/// `np.abs(np.fft.rfft(frame, n_fft)) ** 2`.
pub fn rfft_power(frame: &[f64], n_fft: usize) -> Vec<f64> {
    rfft(frame, n_fft).iter().map(|c| c.norm_sqr()).collect()
}

/// `rfft_power` of many frames of one length: one plan and one set of buffers for all of them.
pub fn rfft_power_each(frames: &[&[f64]], n_fft: usize) -> Vec<Vec<f64>> {
    if n_fft == 0 {
        return frames.iter().map(|_| Vec::new()).collect();
    }
    PLANNER.with(|planner| {
        let plan = planner.borrow_mut().plan_fft_forward(n_fft);
        let mut input = plan.make_input_vec();
        let mut output = plan.make_output_vec();
        let mut scratch = plan.make_scratch_vec();
        frames
            .iter()
            .map(|frame| {
                input.fill(0.0);
                for (slot, &v) in input.iter_mut().zip(frame.iter()) {
                    *slot = v;
                }
                // Cannot fail: the buffers come from the plan itself, so their lengths are right.
                let _ = plan.process_with_scratch(&mut input, &mut output, &mut scratch);
                output.iter().map(|c| c.norm_sqr()).collect()
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct DFT, the definition, to check the fast one against.
    fn dft_power(x: &[f64], n: usize) -> Vec<f64> {
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (t, &v) in x.iter().take(n).enumerate() {
                    let angle = -std::f64::consts::TAU * (k * t) as f64 / n as f64;
                    re += v * angle.cos();
                    im += v * angle.sin();
                }
                re * re + im * im
            })
            .collect()
    }

    #[test]
    fn batch_power_equals_one_at_a_time() {
        let a: Vec<f64> = (0..50).map(|i| (i as f64 * 0.7).cos()).collect();
        let b: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let batch = rfft_power_each(&[&a, &b], 32);
        assert_eq!(batch, [rfft_power(&a, 32), rfft_power(&b, 32)]);
    }

    #[test]
    fn matches_the_definition_with_padding_and_cutting() {
        let x: Vec<f64> = (0..40)
            .map(|i| (i as f64 * 0.3).sin() + 0.1 * i as f64)
            .collect();
        for n in [16, 32, 40, 64] {
            let fast = rfft_power(&x, n);
            let slow = dft_power(&x, n);
            assert_eq!(fast.len(), n / 2 + 1);
            for (a, b) in fast.iter().zip(&slow) {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "n={n}: {a} vs {b}"
                );
            }
        }
    }
}
