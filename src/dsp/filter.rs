//! IIR filters as second-order sections, designed and run exactly as SciPy does, for the
//! Spectral Analysis block: Butterworth low/high-pass (`scipy.signal.butter(order, wn, btype,
//! output='sos')` then `sosfilt` from a zero state) and Edge Impulse's decimation (an order-8
//! Chebyshev type I low-pass `cheby1(8, 0.05, 0.8 / ratio, output='sos')` started in its steady
//! state for the first sample, then every `ratio`-th output kept).
//!
//! Design, as SciPy's `iirfilter`: the analog prototype's poles (Butterworth
//! `p_m = -exp(iπm / 2N)`, Chebyshev `p_m = -sinh(μ + iπm / 2N)`, `m = -N+1, -N+3, …, N-1`)
//! are moved to the pre-warped cutoff `ω = 4·tan(π·wn / 2)` (low-pass `p·ω`, high-pass `ω / p`
//! with N zeros at 0), mapped to the z-plane by the bilinear transform `z = (4 + s) / (4 - s)`,
//! and paired into sections: the pole pair nearest the unit circle goes last, every section gets
//! two zeros (`-1` for low-pass, `+1` for high-pass) and the first one carries the gain.
//! A section is `[b0, b1, b2, a0, a1, a2]` with `a0 = 1`:
//! `H(z) = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)`, run in transposed direct form II.
//! Complex arithmetic follows numpy's formulas (Smith's division) so the coefficients agree to
//! the last bit in practice; that matters because Edge Impulse rounds them to `f32` and, on a
//! `float32` signal, SciPy filters in single precision ([`Sos::filter_f32`]).

use super::DspError;
use realfft::num_complex::Complex;

/// Which side of the cutoff a Butterworth filter keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassBand {
    /// Keeps frequencies below the cutoff.
    Low,
    /// Keeps frequencies above the cutoff.
    High,
}

/// A cascade of second-order sections, SciPy's `sos` array: one `[b0, b1, b2, 1, a1, a2]` row
/// per section, applied first to last.
#[derive(Clone, Debug, PartialEq)]
pub struct Sos {
    /// The sections, in the order the signal goes through them.
    pub sections: Vec<[f64; 6]>,
}

impl Sos {
    /// The same filter with every coefficient rounded to `f32`, as Edge Impulse's block does
    /// (`np.float32(butter_sos)`) before filtering.
    pub fn rounded_to_f32(&self) -> Sos {
        Sos {
            sections: self
                .sections
                .iter()
                .map(|section| section.map(|c| f64::from(c as f32)))
                .collect(),
        }
    }

    /// `scipy.signal.sosfilt(sos, x)`: filters `x` starting from a zero state.
    pub fn filter(&self, x: &[f64]) -> Vec<f64> {
        self.filter_from(x, vec![[0.0; 2]; self.sections.len()])
    }

    /// `scipy.signal.sosfilt(sos, x)` on `float32` input: coefficients, state and arithmetic
    /// all in single precision, as SciPy runs it (bit for bit).
    pub fn filter_f32(&self, x: &[f32]) -> Vec<f32> {
        let sections: Vec<[f32; 6]> = self
            .sections
            .iter()
            .map(|section| section.map(|c| c as f32))
            .collect();
        sosfilt(&sections, x, vec![[0.0_f32; 2]; sections.len()])
    }

    /// `scipy.signal.sosfilt(sos, x, zi=state)`: filters `x` from the given per-section state
    /// (missing sections start at zero).
    pub fn filter_from(&self, x: &[f64], mut state: Vec<[f64; 2]>) -> Vec<f64> {
        state.resize(self.sections.len(), [0.0; 2]);
        sosfilt(&self.sections, x, state)
    }

    /// `scipy.signal.sosfilt_zi(sos)`: the state of each section after a long run of ones, so a
    /// signal starting at `x0` can be filtered from `x0 ·` this without a start-up transient.
    pub fn steady_state(&self) -> Vec<[f64; 2]> {
        let mut scale = 1.0;
        self.sections
            .iter()
            .map(|&[b0, b1, b2, a0, a1, a2]| {
                // Section state for a unit step (`lfilter_zi`): solves
                // (1 + a1)·z0 - z1 = b1 - a1·b0 and a2·z0 + z1 = b2 - a2·b0.
                let (b0, b1, b2, a1, a2) = (b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0);
                let (r0, r1) = (b1 - a1 * b0, b2 - a2 * b0);
                let z0 = (r0 + r1) / (1.0 + a1 + a2);
                let z1 = r1 - a2 * z0;
                let state = [scale * z0, scale * z1];
                scale *= (b0 + b1 + b2) / (1.0 + a1 + a2);
                state
            })
            .collect()
    }
}

/// The direct form II transposed recursion of `sosfilt`, shared by the `f64` and `f32` paths: the
/// same expressions in the same order, so each precision matches SciPy's bit for bit.
fn sosfilt<T>(sections: &[[T; 6]], x: &[T], mut state: Vec<[T; 2]>) -> Vec<T>
where
    T: Copy + std::ops::Add<Output = T> + std::ops::Sub<Output = T> + std::ops::Mul<Output = T>,
{
    x.iter()
        .map(|&sample| {
            let mut current = sample;
            for (&[b0, b1, b2, _, a1, a2], z) in sections.iter().zip(state.iter_mut()) {
                let out = b0 * current + z[0];
                z[0] = b1 * current - a1 * out + z[1];
                z[1] = b2 * current - a2 * out;
                current = out;
            }
            current
        })
        .collect()
}

/// `scipy.signal.butter(order, wn, btype, output='sos')`: a digital Butterworth filter of even
/// `order` (2 to 8 in Edge Impulse) with its -3 dB point at `wn` times Nyquist, `0 < wn < 1`
/// (`wn = 2 · cutoff_hz / rate_hz`).
pub fn butterworth(order: u32, wn: f64, band: PassBand) -> Result<Sos, DspError> {
    check_design(order, wn)?;
    let n = f64::from(order);
    let poles = prototype_orders(order)
        .map(|m| {
            let theta = std::f64::consts::PI * m / (2.0 * n);
            Complex::new(-theta.cos(), -theta.sin())
        })
        .collect::<Vec<_>>();
    Ok(digital_sos(&poles, 1.0, order, wn, band))
}

/// `scipy.signal.cheby1(order, ripple_db, wn, output='sos')`: a digital Chebyshev type I
/// low-pass of even `order` with `ripple_db` of pass-band ripple up to `wn` times Nyquist.
pub fn chebyshev1_low(order: u32, ripple_db: f64, wn: f64) -> Result<Sos, DspError> {
    check_design(order, wn)?;
    let n = f64::from(order);
    let eps = (10f64.powf(0.1 * ripple_db) - 1.0).sqrt();
    let mu = 1.0 / n * (1.0 / eps).asinh();
    let poles = prototype_orders(order)
        .map(|m| {
            let theta = std::f64::consts::PI * m / (2.0 * n);
            // -sinh(mu + i·theta)
            Complex::new(-(mu.sinh() * theta.cos()), -(mu.cosh() * theta.sin()))
        })
        .collect::<Vec<_>>();
    let minus = poles.iter().map(|p| -p).collect::<Vec<_>>();
    let gain = product(&minus).re / (1.0 + eps * eps).sqrt();
    Ok(digital_sos(&poles, gain, order, wn, PassBand::Low))
}

/// Edge Impulse's `decimate_simple(x, ratio)`: low-pass `x` with `cheby1(8, 0.05, 0.8 / ratio)`
/// started in steady state at `x[0]`, then keep samples `0, ratio, 2·ratio, …`
/// (`ceil(len / ratio)` of them). A ratio of 0 or 1 returns `x` unchanged.
pub fn decimate(x: &[f64], ratio: usize) -> Vec<f64> {
    if ratio <= 1 || x.is_empty() {
        return x.to_vec();
    }
    let Ok(sos) = chebyshev1_low(8, 0.05, 0.8 / ratio as f64) else {
        // Cannot happen: 0 < 0.8 / ratio < 1 for every ratio above 1.
        return x.to_vec();
    };
    let first = x.first().copied().unwrap_or(0.0);
    let state = sos
        .steady_state()
        .into_iter()
        .map(|[z0, z1]| [z0 * first, z1 * first])
        .collect();
    sos.filter_from(x, state)
        .into_iter()
        .step_by(ratio)
        .collect()
}

/// Orders SciPy accepts here: even (so every section is a conjugate pair) and the cutoff inside
/// `(0, 1)` times Nyquist.
fn check_design(order: u32, wn: f64) -> Result<(), DspError> {
    if order == 0 || !order.is_multiple_of(2) || order > 32 {
        return Err(DspError::BadSetting {
            name: "filter_order".into(),
            value: order.to_string(),
            why: "the order must be even, from 2 to 32".into(),
        });
    }
    if !(wn > 0.0 && wn < 1.0) {
        return Err(DspError::BadSetting {
            name: "filter_cutoff".into(),
            value: format!("{wn} × Nyquist"),
            why: "the cut-off must lie between 0 Hz and half the sampling rate".into(),
        });
    }
    Ok(())
}

/// `m = -N+1, -N+3, …, N-1` as `f64`, the angles of the analog prototype's poles.
fn prototype_orders(order: u32) -> impl Iterator<Item = f64> {
    let n = i64::from(order);
    (0..n).map(move |i| (2 * i - n + 1) as f64)
}

/// Analog prototype poles (cutoff 1 rad/s, no zeros) → warped, transformed and bilinear-mapped
/// poles → second-order sections, following `iirfilter`, `lp2lp_zpk`/`lp2hp_zpk`,
/// `bilinear_zpk` and `zpk2sos(pairing='nearest')`.
fn digital_sos(prototype: &[Complex<f64>], gain: f64, order: u32, wn: f64, band: PassBand) -> Sos {
    let warped = 4.0 * (std::f64::consts::PI * wn / 2.0).tan();
    let fs2 = Complex::new(4.0, 0.0);
    let (poles, zero, gain) = match band {
        PassBand::Low => {
            let poles = prototype.iter().map(|p| p * warped).collect::<Vec<_>>();
            let gain = gain * warped.powf(f64::from(order));
            let to_digital = poles.iter().map(|p| fs2 - p).collect::<Vec<_>>();
            let gain = gain * divide(Complex::new(1.0, 0.0), product(&to_digital)).re;
            (poles, -1.0, gain)
        }
        PassBand::High => {
            let poles = prototype
                .iter()
                .map(|&p| divide(Complex::new(warped, 0.0), p))
                .collect::<Vec<_>>();
            let minus = prototype.iter().map(|p| -p).collect::<Vec<_>>();
            let gain = gain * divide(Complex::new(1.0, 0.0), product(&minus)).re;
            let to_digital = poles.iter().map(|p| fs2 - p).collect::<Vec<_>>();
            let zeros_product = Complex::new(4f64.powf(f64::from(order)), 0.0);
            let gain = gain * divide(zeros_product, product(&to_digital)).re;
            (poles, 1.0, gain)
        }
    };
    let digital = poles
        .iter()
        .map(|&p| divide(fs2 + p, fs2 - p))
        .collect::<Vec<_>>();
    pair_sections(&digital, zero, gain)
}

/// `zpk2sos(z, p, k, pairing='nearest')` for conjugate-pair poles and all zeros equal to `zero`:
/// sections ordered so the pole pair closest to the unit circle is last, gain in the first.
fn pair_sections(poles: &[Complex<f64>], zero: f64, gain: f64) -> Sos {
    // One pole of each conjugate pair, sorted by real part then |imaginary| (`_cplxreal`).
    let mut upper = poles
        .iter()
        .copied()
        .filter(|p| p.im > 0.0)
        .collect::<Vec<_>>();
    upper.sort_by(|a, b| {
        a.re.total_cmp(&b.re)
            .then(a.im.abs().total_cmp(&b.im.abs()))
    });
    let mut sections = vec![[0.0; 6]; upper.len()];
    for slot in sections.iter_mut().rev() {
        let distance = |p: &Complex<f64>| (1.0 - p.re.hypot(p.im)).abs();
        let mut worst = 0;
        for (i, p) in upper.iter().enumerate() {
            if upper.get(worst).is_some_and(|w| distance(p) < distance(w)) {
                worst = i;
            }
        }
        if worst >= upper.len() {
            break;
        }
        let p = upper.remove(worst);
        *slot = [
            1.0,
            -(zero + zero),
            zero * zero,
            1.0,
            -(p.re + p.re),
            p.re * p.re + p.im * p.im,
        ];
    }
    if let Some(first) = sections.first_mut() {
        for b in first.iter_mut().take(3) {
            *b *= gain;
        }
    }
    Sos { sections }
}

/// numpy's complex product of an array, left to right.
fn product(values: &[Complex<f64>]) -> Complex<f64> {
    values
        .iter()
        .fold(Complex::new(1.0, 0.0), |acc, &v| multiply(acc, v))
}

/// numpy's complex multiplication.
fn multiply(a: Complex<f64>, b: Complex<f64>) -> Complex<f64> {
    Complex::new(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
}

/// numpy's complex division (Smith's algorithm), which rounds differently from `a * conj(b) /
/// |b|²`.
fn divide(a: Complex<f64>, b: Complex<f64>) -> Complex<f64> {
    if b.re.abs() >= b.im.abs() {
        if b.re == 0.0 && b.im == 0.0 {
            return Complex::new(a.re / b.re.abs(), a.im / b.re.abs());
        }
        let ratio = b.im / b.re;
        let scale = 1.0 / (b.re + b.im * ratio);
        Complex::new((a.re + a.im * ratio) * scale, (a.im - a.re * ratio) * scale)
    } else {
        let ratio = b.re / b.im;
        let scale = 1.0 / (b.im + b.re * ratio);
        Complex::new((a.re * ratio + a.im) * scale, (a.im * ratio - a.re) * scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[[f64; 6]], b: &[[f64; 6]]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
            assert!((x - y).abs() <= 1e-14 * y.abs().max(1e-3), "{a:?}\n{b:?}");
        }
    }

    #[test]
    fn designs_match_scipy() {
        // Printed by scipy 1.17: signal.butter(4, 0.2, 'low', output='sos') etc.
        let low = butterworth(4, 0.2, PassBand::Low).unwrap();
        close(
            &low.sections,
            &[
                [
                    0.004824343357716228,
                    0.009648686715432456,
                    0.004824343357716228,
                    1.0,
                    -1.0485995763626117,
                    0.2961403575616696,
                ],
                [1.0, 2.0, 1.0, 1.0, -1.3209134308194264, 0.6327387928852766],
            ],
        );
        let high = butterworth(2, 0.12, PassBand::High).unwrap();
        close(
            &high.sections,
            &[[
                0.7655999879134588,
                -1.5311999758269177,
                0.7655999879134588,
                1.0,
                -1.475480443592646,
                0.5869195080611902,
            ]],
        );
        let high8 = butterworth(8, 0.4, PassBand::High).unwrap();
        close(
            &high8.sections,
            &[
                [
                    0.029261017141500475,
                    -0.05852203428300095,
                    0.029261017141500475,
                    1.0,
                    -0.31976390227156354,
                    0.034777724501378914,
                ],
                [
                    1.0,
                    -2.0,
                    1.0,
                    1.0,
                    -0.3451210393572457,
                    0.11683514382542741,
                ],
                [
                    1.0,
                    -2.0,
                    1.0,
                    1.0,
                    -0.4043722885190846,
                    0.30857621386491546,
                ],
                [1.0, -2.0, 1.0, 1.0, -0.521309265637001, 0.6869922209018302],
            ],
        );
        // signal.cheby1(8, 0.05, 0.8 / 3, output='sos'), Edge Impulse's decimation by 3.
        let cheby = chebyshev1_low(8, 0.05, 0.8 / 3.0).unwrap();
        close(
            &cheby.sections,
            &[
                [
                    3.479954739908498e-05,
                    6.959909479816996e-05,
                    3.479954739908498e-05,
                    1.0,
                    -1.416907422639627,
                    0.5204552955670066,
                ],
                [1.0, 2.0, 1.0, 1.0, -1.3342748248687593, 0.594631953081447],
                [1.0, 2.0, 1.0, 1.0, -1.237675162600336, 0.7259326611233617],
                [1.0, 2.0, 1.0, 1.0, -1.2180861262950025, 0.8987833581253264],
            ],
        );
    }

    #[test]
    fn filters_a_step_to_its_dc_gain() {
        let low = butterworth(6, 0.1, PassBand::Low).unwrap();
        let out = low.filter(&[1.0; 400]);
        assert!((out.last().unwrap() - 1.0).abs() < 1e-9);
        let high = butterworth(2, 0.1, PassBand::High).unwrap();
        let out = high.filter(&[1.0; 400]);
        assert!(out.last().unwrap().abs() < 1e-9);
    }

    #[test]
    fn steady_state_removes_the_start_transient() {
        let sos = chebyshev1_low(8, 0.05, 0.8 / 3.0).unwrap();
        let state = sos
            .steady_state()
            .into_iter()
            .map(|[a, b]| [a * 2.5, b * 2.5])
            .collect();
        let out = sos.filter_from(&[2.5; 50], state);
        let gain = 10f64.powf(-0.05 / 20.0); // even order: DC gain is the ripple floor
        for v in out {
            assert!((v - 2.5 * gain).abs() < 1e-9, "{v}");
        }
        assert_eq!(decimate(&[1.0; 10], 3).len(), 4);
    }

    #[test]
    fn rejects_odd_orders_and_cutoffs_outside_nyquist() {
        assert!(butterworth(3, 0.2, PassBand::Low).is_err());
        assert!(butterworth(4, 1.0, PassBand::Low).is_err());
        assert!(butterworth(4, 0.0, PassBand::High).is_err());
        assert!(butterworth(4, f64::NAN, PassBand::High).is_err());
    }
}
