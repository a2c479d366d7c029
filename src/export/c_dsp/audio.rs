//! The audio blocks in C, versions 1–4, as `dsp::mfcc`, `dsp::mfe` and `dsp::spectrogram`:
//! each defines how a sample of its signal is read from the raw window (pre-emphasis with the
//! wrap-around, MFE 3+'s `float` scaling, spectrogram 3's conditional scaling), then per frame
//! the power spectrum and its block's step, then the whole-window step (CMVN, min–max, decibels).
//! The version's framing and filterbank rules live in the tables (`speech::framing`,
//! `speech::filterbanks`), so the C is the same for every version but for those steps.

use super::emit::{self, CSource};
use super::speech::{ENTRY_CHECKS_C, emit_cmvnw, emit_frames, emit_mel, framing};
use super::{BlockC, CExportError, DspCInput};
use crate::dsp::mfcc::MfccSettings;
use crate::dsp::mfe::{FULL_SCALE, MfeSettings, PRE_COF};
use crate::dsp::spectrogram::SpectrogramSettings;
use crate::dsp::speech::{self, DECIBEL_CEILING, POWER_FLOOR};

/// The window's length and rate (audio is one axis; the Rust block has already refused more).
fn audio_input(input: &DspCInput) -> Result<(usize, f64), CExportError> {
    match *input {
        DspCInput::Series {
            axes: 1,
            readings,
            rate_hz,
        } => Ok((readings, rate_hz)),
        _ => Err(CExportError::BadInput(format!(
            "audio blocks read one axis of samples, not {input:?}"
        ))),
    }
}

/// `static double tl_sample(raw, i, scaled)` for a signal read straight from the window.
fn sample_fn(body: &str) -> String {
    format!(
        "\n/* Sample i of the signal the frames are cut from. */\n\
         static double tl_sample(const float *raw, size_t i, int scaled)\n{{\n{body}\n}}\n"
    )
}

/// The noise-floor decibel scale of MFE and spectrogram versions 3+ (`speech::noise_floor_scale`).
fn decibels_fn(noise_floor_db: f64) -> String {
    format!(
        r#"
static double tl_decibels(double power)
{{
    double p = power > {floor} ? power : {floor};
    return (10.0 * log10(p) - {noise}) / (-{noise} + {ceiling});
}}
"#,
        floor = emit::double(POWER_FLOOR),
        noise = format!("({})", emit::double(noise_floor_db)),
        ceiling = emit::double(DECIBEL_CEILING),
    )
}

/// MFCC.
pub(super) fn mfcc(settings: &MfccSettings, input: &DspCInput) -> Result<BlockC, CExportError> {
    let (readings, rate_hz) = audio_input(input)?;
    let version = settings.implementation_version;
    let n = speech::check_fft_length(settings.fft_length)?;
    let frames = framing(
        readings,
        rate_hz,
        settings.frame_length,
        settings.frame_stride,
        version,
    )?;
    let filters = settings.num_filters as usize;
    let keep = settings.num_cepstral as usize;
    let bank = speech::filterbanks(
        filters,
        n / 2 + 1,
        rate_hz,
        settings.low_frequency,
        settings.high_frequency,
        version <= 3,
    )?;
    let dct = speech::Dct::new(filters, keep);
    let (cosines, scales) = dct.tables();
    let shift = settings.pre_shift as usize % readings.max(1);
    let mut source = CSource::default();
    source
        .data
        .push_str(&format!("#define TL_LEN {readings}\n"));
    emit_frames(
        &mut source,
        &frames,
        n,
        &sample_fn(&format!(
            "    (void)scaled;\n    return (double)raw[i] - {} * (double)raw[(i + TL_LEN - {shift}) % TL_LEN];",
            emit::double(settings.pre_cof)
        )),
    )?;
    emit_mel(&mut source, &bank)?;
    source.data.push_str(&format!("#define TL_KEEP {keep}\n"));
    source.doubles("tl_dct", cosines)?;
    source.doubles("tl_dct_scale", scales)?;
    source.buffer("double", "tl_log_mel", filters);
    source.buffer("double", "tl_cepstra", frames.frame_count * keep);
    let finish = if settings.win_size > 0 {
        emit_cmvnw(
            &mut source,
            frames.frame_count,
            keep,
            settings.win_size as usize,
            true,
        );
        source.buffer("float", "tl_mean_subtracted", frames.frame_count * keep);
        "    tl_cmvnw(tl_cepstra, tl_mean_subtracted, features);"
    } else {
        "    for (i = 0; i < TL_FRAMES * TL_KEEP; i++) {\n        \
         features[i] = (float)tl_cepstra[i];\n    }"
    };
    source.code(&format!(
        r#"
int tinylab_dsp(const float *raw, size_t len, float *features)
{{
    size_t i;
    size_t f;
{ENTRY_CHECKS_C}    for (f = 0; f < TL_FRAMES; f++) {{
        double energy = 0.0;
        size_t c;
        double *cepstra = tl_cepstra + f * TL_KEEP;
        tl_frame_power(raw, f, 0);
        for (i = 0; i < TL_BINS; i++) {{
            energy += tl_power[i];
        }}
        tl_mel(tl_log_mel);
        for (i = 0; i < TL_FILTERS; i++) {{
            tl_log_mel[i] = log(tl_log_mel[i]);
        }}
        for (c = 0; c < TL_KEEP; c++) {{
            double sum = 0.0;
            for (i = 0; i < TL_FILTERS; i++) {{
                sum += tl_log_mel[i] * tl_dct[c * TL_FILTERS + i];
            }}
            cepstra[c] = tl_dct_scale[c] * sum;
        }}
        /* Edge Impulse replaces the DC coefficient by the log of the frame's energy. */
        cepstra[0] = log(energy == 0.0 ? {floor} : energy);
    }}
{finish}
    return 0;
}}
"#,
        floor = emit::double(speech::ENERGY_FLOOR)
    ));
    Ok(BlockC {
        source,
        raw_len: readings,
        features_len: frames.frame_count * keep,
        defines: Vec::new(),
    })
}

/// MFE.
pub(super) fn mfe(settings: &MfeSettings, input: &DspCInput) -> Result<BlockC, CExportError> {
    let (readings, rate_hz) = audio_input(input)?;
    let version = settings.implementation_version;
    let n = speech::check_fft_length(settings.fft_length)?;
    let frames = framing(
        readings,
        rate_hz,
        settings.frame_length,
        settings.frame_stride,
        version,
    )?;
    let filters = settings.num_filters as usize;
    let bank = speech::filterbanks(
        filters,
        n / 2 + 1,
        rate_hz,
        settings.low_frequency,
        settings.high_frequency,
        version <= 3,
    )?;
    let decibels = version >= 3;
    let sample = if decibels {
        // Scaled to [-1, 1) and pre-emphasised in float, wrapping around.
        let scale = |index: &str| {
            format!(
                "(float)((double)raw[{index}] / {})",
                emit::double(FULL_SCALE)
            )
        };
        format!(
            "    float x = {};\n    float previous = {};\n    (void)scaled;\n    \
             return (double)(x - {} * previous);",
            scale("i"),
            scale("(i + TL_LEN - 1) % TL_LEN"),
            emit::float(PRE_COF as f32)
        )
    } else {
        "    (void)scaled;\n    return (double)raw[i];".to_owned()
    };
    let mut source = CSource::default();
    source
        .data
        .push_str(&format!("#define TL_LEN {readings}\n"));
    emit_frames(&mut source, &frames, n, &sample_fn(&sample))?;
    emit_mel(&mut source, &bank)?;
    let (per_frame, finish) = if decibels {
        source.buffer("double", "tl_energies", filters);
        source.code(&decibels_fn(settings.noise_floor_db));
        (
            "        tl_mel(tl_energies);\n        \
             for (i = 0; i < TL_FILTERS; i++) {\n            \
             double v = tl_decibels(tl_energies[i]);\n            \
             v = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);\n            \
             /* round half to even, then the uint8 cast wraps 256 to 0 */\n            \
             features[f * TL_FILTERS + i] = (float)((double)((unsigned)rint(v * 256.0) % 256u) / 256.0);\n        }",
            String::new(),
        )
    } else {
        source.buffer("double", "tl_energies", frames.frame_count * filters);
        emit_cmvnw(
            &mut source,
            frames.frame_count,
            filters,
            settings.win_size as usize,
            false,
        );
        (
            "        tl_mel(tl_energies + f * TL_FILTERS);",
            r#"    tl_cmvnw(tl_energies, features, features);
    {
        /* Min-max scaling in float, skipped when the minimum or maximum is 0. */
        float lowest = INFINITY;
        float highest = -INFINITY;
        for (i = 0; i < TINYLAB_FEATURES_LEN; i++) {
            lowest = features[i] < lowest ? features[i] : lowest;
            highest = features[i] > highest ? features[i] : highest;
        }
        if (lowest != 0.0f && highest != 0.0f) {
            for (i = 0; i < TINYLAB_FEATURES_LEN; i++) {
                float scaled = (features[i] - lowest) / (highest - lowest);
                features[i] = scaled != scaled ? 0.0f : scaled;
            }
        }
    }"#
            .to_owned(),
        )
    };
    source.code(&format!(
        r#"
int tinylab_dsp(const float *raw, size_t len, float *features)
{{
    size_t i;
    size_t f;
{ENTRY_CHECKS_C}    for (f = 0; f < TL_FRAMES; f++) {{
        tl_frame_power(raw, f, 0);
{per_frame}
    }}
{finish}
    return 0;
}}
"#
    ));
    Ok(BlockC {
        source,
        raw_len: readings,
        features_len: frames.frame_count * filters,
        defines: Vec::new(),
    })
}

/// Spectrogram.
pub(super) fn spectrogram(
    settings: &SpectrogramSettings,
    input: &DspCInput,
) -> Result<BlockC, CExportError> {
    let (readings, rate_hz) = audio_input(input)?;
    let version = settings.implementation_version;
    let n = speech::check_fft_length(settings.fft_length)?;
    let frames = framing(
        readings,
        rate_hz,
        settings.frame_length,
        settings.frame_stride,
        version,
    )?;
    let bins = n / 2 + 1;
    let mut source = CSource::default();
    source
        .data
        .push_str(&format!("#define TL_LEN {readings}\n"));
    let sample = format!(
        "    return scaled ? (double)(float)((double)raw[i] / {}) : (double)raw[i];",
        emit::double(FULL_SCALE)
    );
    emit_frames(&mut source, &frames, n, &sample_fn(&sample))?;
    // Version 3 scales the samples by 1/2^15 when any lies outside [-1, 1].
    let scan = if version == 3 {
        "    for (i = 0; i < TINYLAB_RAW_LEN; i++) {\n        \
         if (fabs((double)raw[i]) > 1.0) {\n            scaled = 1;\n        }\n    }\n"
    } else {
        ""
    };
    let (per_frame, finish) = match version {
        1 | 2 => {
            source.buffer("double", "tl_all_power", frames.frame_count * bins);
            (
                "        for (i = 0; i < TL_BINS; i++) {\n            \
                 tl_all_power[f * TL_BINS + i] = tl_power[i];\n        }"
                    .to_owned(),
                r#"    {
        /* Min-max scaling of the whole matrix in double; a constant matrix gives zeros. */
        double lowest = INFINITY;
        double highest = -INFINITY;
        for (i = 0; i < TINYLAB_FEATURES_LEN; i++) {
            lowest = tl_all_power[i] < lowest ? tl_all_power[i] : lowest;
            highest = tl_all_power[i] > highest ? tl_all_power[i] : highest;
        }
        for (i = 0; i < TINYLAB_FEATURES_LEN; i++) {
            double v = (tl_all_power[i] - lowest) / (highest - lowest);
            features[i] = v != v ? 0.0f : (float)v;
        }
    }"#
                .to_owned(),
            )
        }
        _ => {
            source.code(&decibels_fn(settings.noise_floor_db));
            let clip = if version == 3 {
                "v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v)"
            } else {
                "v < 0.0 ? 0.0 : v"
            };
            (
                format!(
                    "        for (i = 0; i < TL_BINS; i++) {{\n            \
                     double v = tl_decibels(tl_power[i]);\n            \
                     features[f * TL_BINS + i] = (float)({clip});\n        }}"
                ),
                String::new(),
            )
        }
    };
    source.code(&format!(
        r#"
int tinylab_dsp(const float *raw, size_t len, float *features)
{{
    size_t i;
    size_t f;
    int scaled = 0;
{ENTRY_CHECKS_C}{scan}    for (f = 0; f < TL_FRAMES; f++) {{
        tl_frame_power(raw, f, scaled);
{per_frame}
    }}
{finish}
    return 0;
}}
"#
    ));
    Ok(BlockC {
        source,
        raw_len: readings,
        features_len: frames.frame_count * bins,
        defines: Vec::new(),
    })
}
