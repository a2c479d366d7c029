//! WAV audio samples (hound). Audio is kept in int16 units (−32768…32767) whatever the file's
//! sample format, because that is the scale Edge Impulse's audio blocks see; stereo is mixed down to
//! mono by averaging. Written files are 16-bit PCM mono.

use super::FormatError;
use crate::project::atomic::write_atomic;
use crate::project::sample::Series;
use std::path::Path;

/// The axis name of audio samples.
pub const AUDIO_AXIS: &str = "audio";

/// Reads a WAV file as one `audio` axis at the file's rate.
pub fn read_series(path: &Path) -> Result<Series, FormatError> {
    let reader = hound::WavReader::open(path)
        .map_err(|e| FormatError::new(path, format!("not a readable WAV file: {e}")))?;
    series_of(reader, path)
}

/// Reads a WAV file held in memory (`name` names it in errors), as [`read_series`] does a file.
pub fn parse_series(name: &Path, bytes: &[u8]) -> Result<Series, FormatError> {
    let reader = hound::WavReader::new(bytes)
        .map_err(|e| FormatError::new(name, format!("not a readable WAV file: {e}")))?;
    series_of(reader, name)
}

fn series_of<R: std::io::Read>(
    reader: hound::WavReader<R>,
    path: &Path,
) -> Result<Series, FormatError> {
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let bad = |e: hound::Error| FormatError::new(path, format!("damaged WAV data: {e}"));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .map(|s| s.map(|v| v * 32768.0))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        hound::SampleFormat::Int => {
            // Scale any bit depth to the int16 range.
            let scale = 2f32.powi(16 - i32::from(spec.bits_per_sample));
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
    };
    if interleaved.is_empty() {
        return Err(FormatError::new(path, "the WAV file holds no audio"));
    }
    let mut values = Vec::with_capacity(interleaved.len() / channels);
    crate::dsp::audio::mix_to_mono(&interleaved, channels, &mut values);
    Ok(Series {
        axes: vec![AUDIO_AXIS.to_owned()],
        rate_hz: f64::from(spec.sample_rate),
        values,
    })
}

/// Writes the first axis of `series` as 16-bit PCM mono, atomically (values clamp to int16).
pub fn write_series(path: &Path, series: &Series) -> std::io::Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: series.rate_hz.round() as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut writer = hound::WavWriter::new(&mut bytes, spec).map_err(std::io::Error::other)?;
        for value in series.axis(0) {
            writer
                .write_sample(value.round().clamp(-32768.0, 32767.0) as i16)
                .map_err(std::io::Error::other)?;
        }
        writer.finalize().map_err(std::io::Error::other)?;
    }
    write_atomic(path, |w| w.write_all(bytes.get_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_keeps_int16_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let series = Series {
            axes: vec![AUDIO_AXIS.into()],
            rate_hz: 16_000.0,
            values: vec![0.0, 1.0, -32768.0, 32767.0, 1234.0],
        };
        write_series(&path, &series).unwrap();
        assert_eq!(read_series(&path).unwrap(), series);
        std::fs::write(&path, b"RIFF garbage").unwrap();
        assert!(
            read_series(&path)
                .unwrap_err()
                .to_string()
                .contains("a.wav")
        );
    }
}
