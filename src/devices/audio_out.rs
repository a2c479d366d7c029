//! Playback of one sample through the default sound output (cpal). The clip is resampled to the
//! device's rate and converted before the stream starts, so the real-time callback only copies
//! from an immutable buffer and advances an atomic cursor: no lock, no allocation, no waiting.
//! The engine reads the cursor to move the playback line on the waveform.

use super::audio_in::{AudioError, INT16_SCALE};
use crate::dsp::resample::resample;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use crossbeam_channel::{Receiver, bounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A sample being played. Dropping it stops the sound.
pub struct Playback {
    stream: Option<cpal::Stream>,
    cursor: Arc<AtomicUsize>,
    frames: usize,
    device_rate_hz: u32,
    errors: Receiver<String>,
    /// The output device's name.
    pub device: String,
}

impl Playback {
    /// Starts playing mono `samples` (int16 units) recorded at `rate_hz` on the default output.
    pub fn start(samples: &[f32], rate_hz: u32) -> Result<Self, AudioError> {
        let host = cpal::default_host();
        let device = host
            .default_output_device()
            .ok_or(AudioError::NoOutputDevice)?;
        let name = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| "the sound output".into());
        let supported = device
            .default_output_config()
            .map_err(|e| output_error(&name, &e))?;
        let format = supported.sample_format();
        let config: cpal::StreamConfig = supported.into();
        let mut clip = resample(samples, rate_hz, config.sample_rate)?;
        clip.iter_mut().for_each(|s| *s /= INT16_SCALE);
        let frames = clip.len();
        let clip: Arc<[f32]> = clip.into();
        let cursor = Arc::new(AtomicUsize::new(0));
        let (error_tx, errors) = bounded(1);
        // Only a vanished device ends cpal's stream; other errors (an underrun, a sound server
        // answering EIO once) are passing, and the stream goes on.
        let on_error = move |error: cpal::Error| {
            if matches!(
                error.kind(),
                cpal::ErrorKind::DeviceNotAvailable
                    | cpal::ErrorKind::StreamInvalidated
                    | cpal::ErrorKind::HostUnavailable
            ) {
                let _ = error_tx.try_send(format!("playback stopped: {error}"));
            }
        };
        let feed = Feed {
            clip,
            cursor: Arc::clone(&cursor),
            channels: usize::from(config.channels.max(1)),
        };
        use cpal::SampleFormat as F;
        let stream = match format {
            F::F32 => build::<f32>(&device, &config, feed, on_error),
            F::I16 => build::<i16>(&device, &config, feed, on_error),
            F::I32 => build::<i32>(&device, &config, feed, on_error),
            F::U16 => build::<u16>(&device, &config, feed, on_error),
            F::U8 => build::<u8>(&device, &config, feed, on_error),
            F::F64 => build::<f64>(&device, &config, feed, on_error),
            other => Err(cpal::Error::with_message(
                cpal::ErrorKind::UnsupportedConfig,
                format!("sample format {other} is not supported"),
            )),
        }
        .map_err(|e| output_error(&name, &e))?;
        stream.play().map_err(|e| output_error(&name, &e))?;
        Ok(Self {
            stream: Some(stream),
            cursor,
            frames,
            device_rate_hz: config.sample_rate,
            errors,
            device: name,
        })
    }

    /// Seconds played so far.
    pub fn position_s(&self) -> f64 {
        self.cursor.load(Ordering::Relaxed).min(self.frames) as f64
            / f64::from(self.device_rate_hz.max(1))
    }

    /// True once the whole clip has been handed to the device.
    pub fn finished(&self) -> bool {
        self.cursor.load(Ordering::Relaxed) >= self.frames
    }

    /// Why the stream failed, if it did.
    pub fn error(&self) -> Option<String> {
        self.errors.try_recv().ok()
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            super::audio_in::close_stream(stream);
        }
    }
}

/// Output failures: an absent device is said as such.
fn output_error(name: &str, error: &cpal::Error) -> AudioError {
    match error.kind() {
        cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => {
            AudioError::NoOutputDevice
        }
        _ => AudioError::from_cpal(name, error),
    }
}

/// What the output callback reads.
struct Feed {
    clip: Arc<[f32]>,
    cursor: Arc<AtomicUsize>,
    channels: usize,
}

impl Feed {
    /// Fills interleaved `out` from the clip (every channel the same), silence after its end.
    fn fill<T: cpal::SizedSample + cpal::FromSample<f32>>(&self, out: &mut [T]) {
        let start = self.cursor.load(Ordering::Relaxed);
        let mut frame_index = start;
        for frame in out.chunks_mut(self.channels) {
            let value = self.clip.get(frame_index).copied().unwrap_or(0.0);
            let sample = T::from_sample(value);
            frame.iter_mut().for_each(|s| *s = sample);
            frame_index += 1;
        }
        self.cursor.store(frame_index, Ordering::Relaxed);
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    feed: Feed,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: cpal::SizedSample + cpal::FromSample<f32>,
{
    device.build_output_stream::<T, _, _>(
        *config,
        move |out: &mut [T], _| feed.fill(out),
        on_error,
        Some(Duration::from_secs(2)),
    )
}
