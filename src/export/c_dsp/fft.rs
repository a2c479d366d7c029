//! A small iterative radix-2 FFT in C for the one length `N` (a power of two) a block uses:
//! `tl_rfft_power(frame, len, power)` gives `|rfft(frame, N)[k]|²`, `k = 0..=N/2`, as
//! `dsp::fft::rfft_power` (a frame longer than `N` cut to its first `N` values, a shorter one
//! zero-padded), as `re² + im²`.
//!
//! The real frame goes through a complex FFT (imaginary parts 0): decimation in time, inputs
//! scattered to bit-reversed positions (a table), then `log2 N` passes of butterflies with
//! twiddles `e^{−2πik/N}` from tables computed here in `f64`. Its rounding differs from
//! realfft's by a few ulps of the frame's energy, the only place the C and Rust arithmetic differ.

use super::CExportError;
use super::emit::CSource;

/// Adds the FFT of length `n` (a power of two) to `source`: tables, two scratch arrays and
/// `tl_rfft_power`.
pub(super) fn emit(source: &mut CSource, n: usize) -> Result<(), CExportError> {
    if !n.is_power_of_two() {
        return Err(CExportError::Unsupported {
            block: "fft".to_owned(),
            setting: "fft_length".to_owned(),
            value: n.to_string(),
            instead: "choose a power of two".to_owned(),
        });
    }
    let bits = n.trailing_zeros();
    let reversed: Vec<usize> = (0..n)
        .map(|i| {
            if bits == 0 {
                0
            } else {
                i.reverse_bits() >> (usize::BITS - bits)
            }
        })
        .collect();
    let angle = |k: usize| std::f64::consts::TAU * k as f64 / n as f64;
    let cosines: Vec<f64> = (0..n / 2).map(|k| angle(k).cos()).collect();
    let sines: Vec<f64> = (0..n / 2).map(|k| -angle(k).sin()).collect();
    source.data.push_str(&format!("#define TL_FFT_N {n}\n"));
    let index_type = if n <= usize::from(u16::MAX) {
        "uint16_t"
    } else {
        "uint32_t"
    };
    source.integers(index_type, "tl_fft_rev", &reversed);
    source.doubles("tl_fft_cos", &cosines)?;
    source.doubles("tl_fft_sin", &sines)?;
    source.buffer("double", "tl_fft_re", n);
    source.buffer("double", "tl_fft_im", n);
    source.code(FFT_C);
    Ok(())
}

const FFT_C: &str = r#"
/* |rfft(frame[0..len), TL_FFT_N)[k]|^2 for k = 0..TL_FFT_N/2 into power. */
static void tl_rfft_power(const double *frame, size_t len, double *power)
{
    size_t i;
    size_t size;
    for (i = 0; i < TL_FFT_N; i++) {
        tl_fft_re[i] = 0.0;
        tl_fft_im[i] = 0.0;
    }
    for (i = 0; i < len && i < TL_FFT_N; i++) {
        tl_fft_re[tl_fft_rev[i]] = frame[i];
    }
    for (size = 2; size <= TL_FFT_N; size *= 2) {
        size_t half = size / 2;
        size_t step = TL_FFT_N / size;
        size_t start;
        for (start = 0; start < TL_FFT_N; start += size) {
            size_t k;
            for (k = 0; k < half; k++) {
                size_t a = start + k;
                size_t b = a + half;
                double wr = tl_fft_cos[k * step];
                double wi = tl_fft_sin[k * step];
                double tr = wr * tl_fft_re[b] - wi * tl_fft_im[b];
                double ti = wr * tl_fft_im[b] + wi * tl_fft_re[b];
                tl_fft_re[b] = tl_fft_re[a] - tr;
                tl_fft_im[b] = tl_fft_im[a] - ti;
                tl_fft_re[a] += tr;
                tl_fft_im[a] += ti;
            }
        }
    }
    for (i = 0; i <= TL_FFT_N / 2; i++) {
        power[i] = tl_fft_re[i] * tl_fft_re[i] + tl_fft_im[i] * tl_fft_im[i];
    }
}
"#;
