//! The speech maths the three audio blocks share, in C (`dsp::speech` step for step): framing
//! with the frames read straight from the raw window (so no window-sized signal buffer), the
//! power spectrum `|rfft|² / N`, the mel filterbank over each triangle's support, and
//! speechpy's sliding-window CMVN with the window's multiplicities slid one row at a time as the
//! Rust does (exact small integers, so the same sums in the same order).
//!
//! The framing comes from `speech::framing`, the filterbank from `speech::filterbanks`: the
//! functions the Rust blocks call.

use super::emit::{self, CSource};
use super::{CExportError, fft};
use crate::dsp::speech::{self, CMVN_EPSILON, ENERGY_FLOOR, Framing, MelFilterbank};

/// Adds the framing constants, the frame buffer, the FFT and `tl_frame_power(raw, f, scaled)`,
/// which fills `tl_power` with frame `f`'s power spectrum. The block provides
/// `static double tl_sample(const float *raw, size_t i, int scaled)`, sample `i` of the signal
/// its frames are cut from, in `sample_c`.
pub(super) fn emit_frames(
    source: &mut CSource,
    framing: &Framing,
    fft_length: usize,
    sample_c: &str,
) -> Result<(), CExportError> {
    fft::emit(source, fft_length)?;
    let used = framing.frame_length_samples.min(fft_length);
    source.data.push_str(&format!(
        "#define TL_FRAMES {}\n#define TL_FRAME_STRIDE {}\n#define TL_FRAME_USED {used}\n\
         #define TL_BINS {}\n",
        framing.frame_count,
        framing.frame_stride_samples,
        fft_length / 2 + 1
    ));
    source.buffer("double", "tl_frame", used);
    source.buffer("double", "tl_power", fft_length / 2 + 1);
    source.code(sample_c);
    source.code(&format!(
        r#"
/* Frame f's power spectrum |rfft(frame, N)|^2 / N into tl_power (frames longer than N cut). */
static void tl_frame_power(const float *raw, size_t f, int scaled)
{{
    size_t i;
    for (i = 0; i < TL_FRAME_USED; i++) {{
        tl_frame[i] = tl_sample(raw, f * TL_FRAME_STRIDE + i, scaled);
    }}
    tl_rfft_power(tl_frame, TL_FRAME_USED, tl_power);
    for (i = 0; i < TL_BINS; i++) {{
        tl_power[i] *= {};
    }}
}}
"#,
        emit::double(1.0 / fft_length as f64)
    ));
    Ok(())
}

/// The checks every audio block's `tinylab_dsp` starts with.
pub(super) const ENTRY_CHECKS_C: &str = r#"    if (raw == NULL || features == NULL) {
        return TINYLAB_ERR_NULL;
    }
    if (len != TINYLAB_RAW_LEN) {
        return TINYLAB_ERR_LEN;
    }
    for (i = 0; i < TINYLAB_RAW_LEN; i++) {
        if (!isfinite(raw[i])) {
            return TINYLAB_ERR_INPUT;
        }
    }
"#;

/// Adds the filterbank (each filter's support `first..first + count` and weights) and
/// `tl_mel(energies)`: `E[m] = Σ P[k]·H[m][k]` over the support, zeros floored.
pub(super) fn emit_mel(source: &mut CSource, bank: &MelFilterbank) -> Result<(), CExportError> {
    let (mut firsts, mut counts, mut offsets, mut weights) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in &bank.weights {
        // The support as `speech::mel_energies` takes it: first to last non-zero weight.
        let first = row.iter().position(|&v| v != 0.0).unwrap_or(0);
        let last = row.iter().rposition(|&v| v != 0.0).map_or(first, |l| l + 1);
        firsts.push(first);
        counts.push(last - first);
        offsets.push(weights.len());
        weights.extend(row.get(first..last).unwrap_or_default());
    }
    source
        .data
        .push_str(&format!("#define TL_FILTERS {}\n", bank.weights.len()));
    source.integers("uint16_t", "tl_mel_first", &firsts);
    source.integers("uint16_t", "tl_mel_count", &counts);
    source.integers("uint32_t", "tl_mel_offset", &offsets);
    source.doubles("tl_mel_weights", &weights)?;
    source.code(&format!(
        r#"
/* Mel filterbank energies of tl_power, zeros replaced by {floor}. */
static void tl_mel(double *energies)
{{
    size_t m;
    for (m = 0; m < TL_FILTERS; m++) {{
        const double *p = tl_power + tl_mel_first[m];
        const double *w = tl_mel_weights + tl_mel_offset[m];
        double sum = 0.0;
        size_t k;
        for (k = 0; k < tl_mel_count[m]; k++) {{
            sum += p[k] * w[k];
        }}
        energies[m] = sum == 0.0 ? {floor} : sum;
    }}
}}
"#,
        floor = emit::double(ENERGY_FLOOR)
    ));
    Ok(())
}

/// Adds `tl_cmvnw(rows, ms, out)`: speechpy's `cmvnw` over `frames` rows of `columns` values
/// (`double`), the mean-subtracted values stored in `float` in `ms`, and with
/// `variance_normalization` divided by the window's standard deviation + 1e-10 into `out`.
pub(super) fn emit_cmvnw(
    source: &mut CSource,
    frames: usize,
    columns: usize,
    win_size: usize,
    variance_normalization: bool,
) {
    source.data.push_str(&format!(
        "#define TL_CMVN_COLUMNS {columns}\n#define TL_CMVN_WIN {win_size}\n"
    ));
    source.buffer("double", "tl_cmvn_count", frames);
    source.buffer("double", "tl_cmvn_sums", columns);
    if variance_normalization {
        source.buffer("double", "tl_cmvn_squares", columns);
    }
    source.code(WINDOW_C);
    let variance = if variance_normalization {
        format!(
            r#"
    tl_window_start();
    for (i = 0; i < TL_FRAMES; i++) {{
        if (i > 0) {{
            tl_window_slide(i);
        }}
        for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
            tl_cmvn_sums[c] = 0.0;
            tl_cmvn_squares[c] = 0.0;
        }}
        for (j = 0; j < TL_FRAMES; j++) {{
            double m = tl_cmvn_count[j];
            if (m > 0.0) {{
                for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
                    tl_cmvn_sums[c] += m * (double)ms[j * TL_CMVN_COLUMNS + c];
                }}
            }}
        }}
        for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
            tl_cmvn_sums[c] /= (double)TL_CMVN_WIN;
        }}
        for (j = 0; j < TL_FRAMES; j++) {{
            double m = tl_cmvn_count[j];
            if (m > 0.0) {{
                for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
                    double deviation = (double)ms[j * TL_CMVN_COLUMNS + c] - tl_cmvn_sums[c];
                    tl_cmvn_squares[c] += m * deviation * deviation;
                }}
            }}
        }}
        for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
            out[i * TL_CMVN_COLUMNS + c] = ms[i * TL_CMVN_COLUMNS + c] /
                ((float)sqrt(tl_cmvn_squares[c] / (double)TL_CMVN_WIN) + {epsilon});
        }}
    }}"#,
            epsilon = emit::float(CMVN_EPSILON as f32)
        )
    } else {
        "\n    (void)out;".to_owned()
    };
    source.code(&format!(
        r#"
/* speechpy's cmvnw (dsp::speech::cmvnw): rows minus the mean of the TL_CMVN_WIN rows centred on
 * them (edges mirrored), in float into ms; then divided by their deviation + 1e-10 into out. */
static void tl_cmvnw(const double *rows, float *ms, float *out)
{{
    size_t i;
    size_t j;
    size_t c;
    tl_window_start();
    for (i = 0; i < TL_FRAMES; i++) {{
        if (i > 0) {{
            tl_window_slide(i);
        }}
        for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
            tl_cmvn_sums[c] = 0.0;
        }}
        for (j = 0; j < TL_FRAMES; j++) {{
            double m = tl_cmvn_count[j];
            if (m > 0.0) {{
                for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
                    tl_cmvn_sums[c] += m * (rows[j * TL_CMVN_COLUMNS + c] -
                                            rows[i * TL_CMVN_COLUMNS + c]);
                }}
            }}
        }}
        for (c = 0; c < TL_CMVN_COLUMNS; c++) {{
            ms[i * TL_CMVN_COLUMNS + c] = (float)(-tl_cmvn_sums[c] / (double)TL_CMVN_WIN);
        }}
    }}{variance}
}}
"#
    ));
}

/// The window's multiplicity of each row: positions `i - W/2 ..= i + W/2` of the rows padded
/// symmetrically (`np.pad(.., 'symmetric')`, period `2·frames`).
const WINDOW_C: &str = r#"
static size_t tl_symmetric(long index)
{
    long period = 2L * (long)TL_FRAMES;
    long m = index % period;
    if (m < 0) {
        m += period;
    }
    return m < (long)TL_FRAMES ? (size_t)m : (size_t)(period - 1 - m);
}

static void tl_window_start(void)
{
    long w;
    size_t j;
    for (j = 0; j < TL_FRAMES; j++) {
        tl_cmvn_count[j] = 0.0;
    }
    for (w = 0; w < (long)TL_CMVN_WIN; w++) {
        tl_cmvn_count[tl_symmetric(w - (long)(TL_CMVN_WIN / 2))] += 1.0;
    }
}

static void tl_window_slide(size_t i)
{
    long half = (long)(TL_CMVN_WIN / 2);
    tl_cmvn_count[tl_symmetric((long)i - 1 - half)] -= 1.0;
    tl_cmvn_count[tl_symmetric((long)i + half)] += 1.0;
}
"#;

/// The framing and filterbank of an audio block, from the Rust block's own functions.
pub(super) fn framing(
    readings: usize,
    rate_hz: f64,
    frame_length_s: f64,
    frame_stride_s: f64,
    version: u32,
) -> Result<Framing, CExportError> {
    Ok(speech::framing(
        readings,
        rate_hz,
        frame_length_s,
        frame_stride_s,
        version,
    )?)
}
