//! The project's DSP block as generated C99 (`tinylab_dsp.h` / `tinylab_dsp.c`), for the C
//! library export: every setting baked in as constants, every table the Rust DSP derives
//! (filter coefficients, mel filterbank, DCT matrix, FFT twiddles, CMVN windows) computed here
//! by the Rust DSP's own functions and written as exact literals, so the C does only the
//! per-window arithmetic, in the Rust code's precision (`double` where it uses `f64`, `float`
//! where `f32`) and operation order. The C agrees with `dsp` to about 1e-12 relative; the only
//! differences are the FFT's rounding (a radix-2 FFT here, realfft there) and libm's.
//!
//! The C uses only the C standard library and `math.h`: no `malloc`, no recursion, no global
//! mutable state but static scratch buffers sized here (so `tinylab_dsp` is not reentrant).
//!
//! The contract (shared with the model export and the Arduino sketches):
//! - `TINYLAB_RAW_LEN` floats of one window in Edge Impulse's conventions: readings × axes
//!   interleaved in the sensor's units; audio samples in int16 units; an image's `W·H` pixels
//!   of the model's input size, each a packed `0xRRGGBB` as a float.
//! - `TINYLAB_FEATURES_LEN` floats out; `int tinylab_dsp(const float *raw, size_t len,
//!   float *features)` returns 0 or a negative `TINYLAB_ERR_*`.
//! - Image projects (`TINYLAB_DSP_IMAGE 1`): `tinylab_dsp_image(rgb888, width, height,
//!   features)` resizes a frame of any size as `dsp::image` does, then the colour step.
//!
//! Blocks: raw, image, spectral analysis versions 1–4 (FFT analysis with every filter, input
//! decimation and `extra_low_freq`; version 1's peaks and band powers; Wavelet analysis with the
//! 50 wavelets), MFCC, MFE and spectrogram versions 1–4: every setting the Rust blocks accept.
//! What the Rust block refuses is refused the same way ([`CExportError::Dsp`]).

mod audio;
mod emit;
mod fft;
mod image;
mod signal_c;
mod spectral;
mod spectral_v1;
mod speech;
mod wavelet;

use crate::dsp::block::{BlockInput, DspSettings};
use crate::dsp::image::ImageInput;
use crate::dsp::raw::RawSettings;
use crate::dsp::{DspError, Signal};
use crate::labs::SensorPreset;
use crate::project::runs::RunRecord;
use emit::CSource;

/// What one window of raw input is, which the settings alone do not say.
#[derive(Clone, Debug, PartialEq)]
pub enum DspCInput {
    /// A time series window (audio is one axis): `readings × axes` values.
    Series {
        /// Values per reading.
        axes: usize,
        /// Readings per window.
        readings: usize,
        /// Readings per second.
        rate_hz: f64,
    },
    /// An image at the model's input size.
    Image {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
}

impl DspCInput {
    /// The input of a trained run: the image block's size, or the sensor's axes and rate with the
    /// run's window length.
    pub fn of_run(record: &RunRecord, sensor: &SensorPreset) -> Result<DspCInput, CExportError> {
        if let DspSettings::Image(image) = &record.dsp {
            return Ok(DspCInput::Image {
                width: image.width as usize,
                height: image.height as usize,
            });
        }
        let rate_hz = sensor.rate_hz;
        let readings = crate::dsp::windowing::readings_in(record.impulse.window_ms, rate_hz);
        if sensor.axes.is_empty() || readings == 0 {
            return Err(CExportError::BadInput(format!(
                "the sensor has {} axes at {rate_hz} Hz and the window is {} ms ({readings} \
                 readings): set the sensor's axes and rate and a window of at least one reading",
                sensor.axes.len(),
                record.impulse.window_ms
            )));
        }
        Ok(DspCInput::Series {
            axes: sensor.axes.len(),
            readings,
            rate_hz,
        })
    }
}

/// The generated DSP library.
#[derive(Clone, Debug, PartialEq)]
pub struct CDsp {
    /// `tinylab_dsp.h`.
    pub header: String,
    /// `tinylab_dsp.c`.
    pub source: String,
    /// `TINYLAB_RAW_LEN`.
    pub raw_len: usize,
    /// `TINYLAB_FEATURES_LEN`.
    pub features_len: usize,
    /// Bytes of the block's constant tables (filter, FFT, mel, DCT coefficients) on a 32-bit
    /// target: flash.
    pub table_bytes: usize,
    /// Bytes of the block's static scratch buffers on a 32-bit target: RAM.
    pub buffer_bytes: usize,
}

/// Why the DSP cannot be exported as C. Each says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CExportError {
    /// A setting the C export does not implement.
    #[error("the C library export does not support {block} setting {setting} = {value}: {instead}")]
    Unsupported {
        /// The block.
        block: String,
        /// The setting.
        setting: String,
        /// Its value.
        value: String,
        /// What to choose instead.
        instead: String,
    },
    /// The settings do not work on this input in the Rust DSP either.
    #[error("the DSP settings do not work on the project's windows: {0}")]
    Dsp(#[from] DspError),
    /// An input description that does not fit the block.
    #[error("{0}")]
    BadInput(String),
    /// A computed table value that is not a finite number.
    #[error(
        "the DSP table {table} has a value that is not a finite number: change the block's settings"
    )]
    NotFinite {
        /// The table's C name.
        table: String,
    },
}

/// What a block generator returns: its C (with `tinylab_dsp` and, for images,
/// `tinylab_dsp_image`) and its sizes.
struct BlockC {
    source: CSource,
    raw_len: usize,
    features_len: usize,
    /// Extra `#define` lines for the header (sizes the sketches use).
    defines: Vec<(String, String)>,
}

/// Generates `tinylab_dsp.h` / `tinylab_dsp.c` for `settings` on windows of `input`.
pub fn dsp_sources(settings: &DspSettings, input: &DspCInput) -> Result<CDsp, CExportError> {
    let features_len = reference_features_len(settings, input)?;
    let block = match (settings, input) {
        (DspSettings::Raw(raw), DspCInput::Series { axes, readings, .. }) => {
            raw_block(raw, axes * readings)
        }
        (DspSettings::Image(image), DspCInput::Image { .. }) => image::generate(image)?,
        (DspSettings::Spectral(s), DspCInput::Series { .. }) => spectral::generate(s, input)?,
        (DspSettings::Mfcc(s), DspCInput::Series { .. }) => audio::mfcc(s, input)?,
        (DspSettings::Mfe(s), DspCInput::Series { .. }) => audio::mfe(s, input)?,
        (DspSettings::Spectrogram(s), DspCInput::Series { .. }) => audio::spectrogram(s, input)?,
        _ => {
            return Err(CExportError::BadInput(format!(
                "the {} block cannot read {input:?}",
                settings.name()
            )));
        }
    };
    if block.features_len != features_len {
        // A generator disagreeing with the Rust block on the size is a bug; refuse rather than
        // write C that overruns the caller's buffer.
        return Err(CExportError::BadInput(format!(
            "internal error: the C {} block gives {} features, the Rust block {features_len}; \
             please report it",
            settings.name(),
            block.features_len
        )));
    }
    let header = header(settings, input, &block);
    let source = source(settings, &block);
    Ok(CDsp {
        header,
        source,
        raw_len: block.raw_len,
        features_len,
        table_bytes: block.source.table_bytes,
        buffer_bytes: block.source.buffer_bytes,
    })
}

/// Runs the Rust block on a silent window of `input`'s shape: checks every setting exactly as
/// the block does (so a C export fails where training would) and gives the feature count.
fn reference_features_len(
    settings: &DspSettings,
    input: &DspCInput,
) -> Result<usize, CExportError> {
    let features = match *input {
        DspCInput::Series {
            axes,
            readings,
            rate_hz,
        } => {
            let values = vec![0.0_f32; axes.saturating_mul(readings)];
            let names: Vec<String> = (0..axes).map(|a| format!("axis{a}")).collect();
            let signal = Signal {
                axes,
                rate_hz,
                values: &values,
            };
            settings.features(&BlockInput::Signal {
                signal,
                axis_names: &names,
            })?
        }
        DspCInput::Image { width, height } => {
            let DspSettings::Image(image) = settings else {
                return Err(CExportError::BadInput(format!(
                    "the {} block reads time series, not images",
                    settings.name()
                )));
            };
            if (width, height) != (image.width as usize, image.height as usize) {
                return Err(CExportError::BadInput(format!(
                    "the image input is {width} × {height} but the image block's size is {} × \
                     {}: export with the block's size",
                    image.width, image.height
                )));
            }
            let rgb = vec![0_u8; width * height * 3];
            settings.features(&BlockInput::Image(ImageInput {
                width: image.width,
                height: image.height,
                rgb: &rgb,
            }))?
        }
    };
    Ok(features.values.len())
}

/// The raw block: each value times `scale_axes` in `double`, stored as `float` (no scaling
/// when the scale is 1), after the finiteness check the Rust block makes.
fn raw_block(settings: &RawSettings, raw_len: usize) -> BlockC {
    let mut source = CSource::default();
    let body = if settings.scale_axes == 1.0 {
        "        features[i] = raw[i];".to_owned()
    } else {
        format!(
            "        features[i] = (float)((double)raw[i] * {});",
            emit::double(settings.scale_axes)
        )
    };
    source.code(&format!(
        r#"
int tinylab_dsp(const float *raw, size_t len, float *features)
{{
    size_t i;
{entry}    for (i = 0; i < TINYLAB_RAW_LEN; i++) {{
{body}
    }}
    return 0;
}}
"#,
        entry = emit::ENTRY_CHECKS_C
    ));
    BlockC {
        source,
        raw_len,
        features_len: raw_len,
        defines: Vec::new(),
    }
}

/// `tinylab_dsp.h`: sizes, error codes, prototypes.
fn header(settings: &DspSettings, input: &DspCInput, block: &BlockC) -> String {
    let image = matches!(settings, DspSettings::Image(_));
    let mut defines = vec![
        ("TINYLAB_RAW_LEN".to_owned(), block.raw_len.to_string()),
        (
            "TINYLAB_FEATURES_LEN".to_owned(),
            block.features_len.to_string(),
        ),
        (
            "TINYLAB_DSP_IMAGE".to_owned(),
            if image { "1" } else { "0" }.to_owned(),
        ),
    ];
    match *input {
        DspCInput::Series {
            axes,
            readings,
            rate_hz,
        } => {
            defines.push(("TINYLAB_DSP_AXES".to_owned(), axes.to_string()));
            defines.push(("TINYLAB_DSP_READINGS".to_owned(), readings.to_string()));
            defines.push(("TINYLAB_DSP_RATE_HZ".to_owned(), emit::double(rate_hz)));
        }
        DspCInput::Image { width, height } => {
            defines.push(("TINYLAB_DSP_IMAGE_WIDTH".to_owned(), width.to_string()));
            defines.push(("TINYLAB_DSP_IMAGE_HEIGHT".to_owned(), height.to_string()));
        }
    }
    defines.extend(block.defines.iter().cloned());
    let settings_json = serde_json::to_string(settings).unwrap_or_default();
    let mut text = format!(
        r#"/* tinylab_dsp.h: the project's DSP block ({title}) in C99, generated by TinyLab.
 * Settings: {settings_json}
 * Do not edit: export again after changing the settings. Not reentrant (static buffers). */
#ifndef TINYLAB_DSP_H
#define TINYLAB_DSP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {{
#endif

#define TINYLAB_DSP_BLOCK "{name}"
"#,
        title = settings.title(),
        settings_json = settings_json.replace("*/", "* /"),
        name = settings.name(),
    );
    for (name, value) in defines {
        text.push_str(&format!("#define {name} {value}\n"));
    }
    text.push_str(
        r#"
/* Return codes of tinylab_dsp and tinylab_dsp_image: 0 is success. */
#define TINYLAB_ERR_LEN (-1)        /* len != TINYLAB_RAW_LEN */
#define TINYLAB_ERR_INPUT (-2)      /* a value is NaN or infinite (or not a packed 0xRRGGBB
                                       pixel), or overflows once scaled */
#define TINYLAB_ERR_IMAGE_SIZE (-3) /* a frame of width or height 0 */
#define TINYLAB_ERR_NULL (-4)       /* a NULL pointer */

/* One window of TINYLAB_RAW_LEN raw values -> TINYLAB_FEATURES_LEN features. */
int tinylab_dsp(const float *raw, size_t len, float *features);
"#,
    );
    if image {
        text.push_str(
            r#"
/* An RGB888 frame of any size (width * height * 3 bytes, row-major) -> features: the project's
 * resize to TINYLAB_DSP_IMAGE_WIDTH x TINYLAB_DSP_IMAGE_HEIGHT, then the colour step. */
int tinylab_dsp_image(const uint8_t *rgb888, size_t width, size_t height, float *features);
"#,
        );
    }
    text.push_str(
        r#"
#ifdef __cplusplus
}
#endif

#endif /* TINYLAB_DSP_H */
"#,
    );
    text
}

/// `tinylab_dsp.c`: includes, tables and buffers, then the functions.
fn source(settings: &DspSettings, block: &BlockC) -> String {
    format!(
        "/* tinylab_dsp.c: the project's DSP block ({}) in C99, generated by TinyLab. Tables were\n \
         * computed by TinyLab's DSP and are exact; do not edit. */\n\
         #include \"tinylab_dsp.h\"\n\n#include <math.h>\n\n{}\n{}",
        settings.title(),
        block.source.data,
        block.source.code
    )
}
