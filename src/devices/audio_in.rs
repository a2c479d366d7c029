//! Microphone capture: cpal's real-time callback pushes raw frames into a wait-free ring (rtrb)
//! and does nothing else; a named thread ("audio-capture") pops them, measures the level, mixes
//! to mono, resamples to the project's rate ([`crate::dsp::resample::Resampler`]) and sends
//! chunks of int16-unit samples on a bounded channel.
//!
//! Why the split: the callback runs on the sound server's clock with a deadline of a few
//! milliseconds; it must never lock, allocate or wait. So [`RingWriter::push_with`] writes what
//! fits (whole frames only) and counts the frames that did not fit as overflow, and every other
//! cost (mixing, resampling, the channel) is the thread's. When the engine is behind, the thread
//! waits on the channel, the ring fills, and the loss is counted in exactly one place: the
//! callback's overflow counter ([`CaptureStats`]).
//!
//! The pipeline ([`start_pipeline`]) does not know cpal: tests feed a [`RingWriter`] from a
//! synthetic callback, and [`Microphone`] feeds one from the sound card.

use crate::dsp::audio::{Level, mix_to_mono};
use crate::dsp::resample::Resampler;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use crossbeam_channel::{Receiver, SendTimeoutError, Sender, bounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Int16 units per unit of full scale: samples leave the pipeline in the scale of 16-bit WAV.
pub const INT16_SCALE: f32 = 32768.0;
/// Seconds of audio the ring holds: how long the thread may stall before frames are lost.
pub const RING_SECONDS: f64 = 0.5;
/// How long the thread sleeps when the ring is empty.
const POLL: Duration = Duration::from_millis(4);
/// How long one attempt to hand a chunk to the engine waits before checking the stop flag.
const SEND_WAIT: Duration = Duration::from_millis(50);
/// How long closing a cpal stream may take before the caller moves on without it.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// An audio input as listed for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioInputInfo {
    /// What to pass as `DeviceSpec::Microphone { name }`: cpal's stable id, e.g. `alsa:pulse`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The rate the device records at by default.
    pub default_rate_hz: u32,
    /// Channels it records by default.
    pub channels: u16,
    /// True for the system's default input.
    pub is_default: bool,
}

impl AudioInputInfo {
    /// One line for a chooser: "Default (pulse): 44100 Hz, 2 channels".
    pub fn describe(&self) -> String {
        format!(
            "{}{}: {} Hz, {} channel{}",
            self.name,
            if self.is_default { " (default)" } else { "" },
            self.default_rate_hz,
            self.channels,
            if self.channels == 1 { "" } else { "s" }
        )
    }
}

/// What the capture thread sends.
#[derive(Clone, Debug, PartialEq)]
pub enum AudioMsg {
    /// Mono samples at the output rate, in int16 units (−32768…32767), and the level of the
    /// raw frames they came from.
    Chunk {
        /// The samples.
        samples: Vec<f32>,
        /// Peak, RMS and clipping of the input (full scale 1.0).
        level: Level,
    },
    /// The device stopped (unplugged, or the sound server went away); the thread has ended.
    Lost {
        /// What happened, in words for the student.
        reason: String,
    },
}

/// Why audio could not be captured or played, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// No input device at all.
    #[error(
        "no microphone found: plug one in, or check that the sound server runs (`pactl info`; \
         `arecord -l` lists ALSA's devices)"
    )]
    NoInputDevice,
    /// No output device at all.
    #[error(
        "no sound output found: TinyLab needs a sound card or a sound server to play audio \
         (check `pactl info` or `aplay -l`); the sample's waveform can still be viewed"
    )]
    NoOutputDevice,
    /// No device with this name.
    #[error("there is no audio device named {name}: refresh the list and choose another")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// Another program holds the device.
    #[error(
        "{name} is busy: close other programs using it (a browser tab, Audacity, arecord) and try again"
    )]
    Busy {
        /// The device.
        name: String,
    },
    /// The operating system refuses access.
    #[error(
        "not allowed to use {name}: on Linux add yourself to the audio group; on macOS allow microphone access in the privacy settings"
    )]
    PermissionDenied {
        /// The device.
        name: String,
    },
    /// Any other failure of the sound system.
    #[error("could not use {name}: {reason}")]
    Device {
        /// The device.
        name: String,
        /// The sound system's words.
        reason: String,
    },
    /// The rates cannot be converted.
    #[error(transparent)]
    Resample(#[from] crate::dsp::resample::ResampleError),
    /// The capture thread could not be started.
    #[error("could not start the audio thread: {0}")]
    Thread(std::io::Error),
}

impl AudioError {
    /// Classifies a cpal failure on `name`.
    pub fn from_cpal(name: &str, error: &cpal::Error) -> Self {
        let name = name.to_owned();
        match error.kind() {
            cpal::ErrorKind::DeviceBusy => Self::Busy { name },
            cpal::ErrorKind::PermissionDenied => Self::PermissionDenied { name },
            cpal::ErrorKind::DeviceNotAvailable => Self::Device {
                name,
                reason: "the device is not available (unplugged, or no sound server is running)"
                    .into(),
            },
            _ => Self::Device {
                name,
                reason: error.to_string(),
            },
        }
    }
}

/// Counters shared by the callback, the thread and the engine.
#[derive(Debug, Default)]
pub struct CaptureStats {
    /// Frames the callback was given.
    pub frames_pushed: AtomicU64,
    /// Frames the callback dropped because the ring was full.
    pub frames_overflowed: AtomicU64,
    /// Overruns the sound system reported (frames it lost before the callback).
    pub xruns: AtomicU64,
    /// Frames the thread took from the ring.
    pub frames_popped: AtomicU64,
    /// Mono samples the thread sent, at the output rate.
    pub samples_sent: AtomicU64,
}

impl CaptureStats {
    /// Frames lost so far, ring overflow and sound-system overruns together.
    pub fn lost(&self) -> u64 {
        self.frames_overflowed.load(Ordering::Relaxed) + self.xruns.load(Ordering::Relaxed)
    }
}

/// The real-time side of the ring: owned by the audio callback.
pub struct RingWriter {
    producer: rtrb::Producer<f32>,
    channels: usize,
    stats: Arc<CaptureStats>,
}

impl RingWriter {
    /// Writes the whole frames of `data` that fit, converting each sample with `to_f32` (full
    /// scale ±1); counts the rest as overflow. Never blocks or allocates.
    pub fn push_with<T: Copy>(&mut self, data: &[T], to_f32: impl Fn(T) -> f32) {
        let channels = self.channels.max(1);
        let frames = data.len() / channels;
        let room = self.producer.slots() / channels;
        let fit = frames.min(room);
        if fit > 0
            && let Ok(chunk) = self.producer.write_chunk_uninit(fit * channels)
        {
            chunk.fill_from_iter(data.iter().map(|&s| to_f32(s)));
        }
        self.stats
            .frames_pushed
            .fetch_add(frames as u64, Ordering::Relaxed);
        if frames > fit {
            self.stats
                .frames_overflowed
                .fetch_add((frames - fit) as u64, Ordering::Relaxed);
        }
    }
}

/// What the pipeline is asked to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PipelineConfig {
    /// The device's rate.
    pub input_rate_hz: u32,
    /// The device's channels (interleaved).
    pub channels: usize,
    /// The project's rate.
    pub output_rate_hz: u32,
    /// Ring capacity in frames.
    pub ring_frames: usize,
}

impl PipelineConfig {
    /// A config with a ring of [`RING_SECONDS`].
    pub fn new(input_rate_hz: u32, channels: usize, output_rate_hz: u32) -> Self {
        Self {
            input_rate_hz,
            channels: channels.max(1),
            output_rate_hz,
            ring_frames: ((f64::from(input_rate_hz) * RING_SECONDS) as usize).max(1024),
        }
    }
}

/// The running capture thread. Dropping it stops the thread (flushing the resampler) and joins.
pub struct Pipeline {
    stop: Arc<AtomicBool>,
    lost_tx: Sender<String>,
    stats: Arc<CaptureStats>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the capture thread; feed the returned [`RingWriter`] from the audio callback.
pub fn start_pipeline(
    config: PipelineConfig,
    tx: Sender<AudioMsg>,
) -> Result<(RingWriter, Pipeline), AudioError> {
    let resampler = Resampler::new(config.input_rate_hz, config.output_rate_hz)?;
    let (producer, consumer) = rtrb::RingBuffer::new(config.ring_frames * config.channels);
    let stats = Arc::new(CaptureStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (lost_tx, lost_rx) = bounded(1);
    let worker = Worker {
        consumer,
        channels: config.channels,
        resampler,
        tx,
        stop: Arc::clone(&stop),
        lost_rx,
        stats: Arc::clone(&stats),
        raw: Vec::new(),
        mono: Vec::new(),
    };
    let thread = std::thread::Builder::new()
        .name("audio-capture".into())
        .spawn(move || worker.run())
        .map_err(AudioError::Thread)?;
    let writer = RingWriter {
        producer,
        channels: config.channels,
        stats: Arc::clone(&stats),
    };
    Ok((
        writer,
        Pipeline {
            stop,
            lost_tx,
            stats,
            thread: Some(thread),
        },
    ))
}

impl Pipeline {
    /// The shared counters.
    pub fn stats(&self) -> &Arc<CaptureStats> {
        &self.stats
    }

    /// A sender through which the device's error callback reports that it is gone.
    pub fn lost_reporter(&self) -> Sender<String> {
        self.lost_tx.clone()
    }

    /// Stops the thread after it has sent everything in the ring and the resampler's tail.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// The capture thread's state.
struct Worker {
    consumer: rtrb::Consumer<f32>,
    channels: usize,
    resampler: Resampler,
    tx: Sender<AudioMsg>,
    stop: Arc<AtomicBool>,
    lost_rx: Receiver<String>,
    stats: Arc<CaptureStats>,
    raw: Vec<f32>,
    mono: Vec<f32>,
}

impl Worker {
    fn run(mut self) {
        loop {
            if let Ok(reason) = self.lost_rx.try_recv() {
                let _ = self
                    .tx
                    .send_timeout(AudioMsg::Lost { reason }, Duration::from_secs(1));
                return;
            }
            // Read the flag before draining, so frames pushed before a stop are all taken.
            let stopping = self.stop.load(Ordering::Acquire);
            let popped = self.pop();
            if popped > 0 {
                if !self.process(false) {
                    return;
                }
            } else if stopping {
                let _ = self.process(true);
                return;
            } else {
                std::thread::sleep(POLL);
            }
        }
    }

    /// Moves every whole frame in the ring into `raw`; returns the frames taken.
    fn pop(&mut self) -> usize {
        let frames = self.consumer.slots() / self.channels;
        if frames == 0 {
            return 0;
        }
        let Ok(chunk) = self.consumer.read_chunk(frames * self.channels) else {
            return 0;
        };
        let (first, second) = chunk.as_slices();
        self.raw.clear();
        self.raw.extend_from_slice(first);
        self.raw.extend_from_slice(second);
        chunk.commit_all();
        self.stats
            .frames_popped
            .fetch_add(frames as u64, Ordering::Relaxed);
        frames
    }

    /// Mixes, resamples and sends what `raw` holds (and the resampler's tail when `last`).
    /// Returns false when the receiver is gone.
    fn process(&mut self, last: bool) -> bool {
        let level = Level::of(&self.raw);
        self.mono.clear();
        mix_to_mono(&self.raw, self.channels, &mut self.mono);
        self.raw.clear();
        let mut samples = Vec::with_capacity(self.mono.len());
        let mut result = self.resampler.process(&self.mono, &mut samples);
        if last && result.is_ok() {
            result = self.resampler.finish(&mut samples);
        }
        if let Err(e) = result {
            let _ = self.tx.send_timeout(
                AudioMsg::Lost {
                    reason: e.to_string(),
                },
                Duration::from_secs(1),
            );
            return false;
        }
        if samples.is_empty() {
            return true;
        }
        samples.iter_mut().for_each(|s| *s *= INT16_SCALE);
        let count = samples.len() as u64;
        let mut msg = AudioMsg::Chunk { samples, level };
        loop {
            match self.tx.send_timeout(msg, SEND_WAIT) {
                Ok(()) => break,
                Err(SendTimeoutError::Timeout(back)) => {
                    // Keep waiting (the ring absorbs the delay) unless asked to stop.
                    if self.stop.load(Ordering::Acquire) && !last {
                        return false;
                    }
                    msg = back;
                }
                Err(SendTimeoutError::Disconnected(_)) => return false,
            }
        }
        self.stats.samples_sent.fetch_add(count, Ordering::Relaxed);
        true
    }
}

// ---- cpal -------------------------------------------------------------------------------------

/// The audio inputs cpal's default host knows.
pub fn list_inputs() -> Result<Vec<AudioInputInfo>, AudioError> {
    let host = cpal::default_host();
    let default_id = host.default_input_device().and_then(|d| d.id().ok());
    let devices = host
        .input_devices()
        .map_err(|e| AudioError::from_cpal("the sound system", &e))?;
    let mut inputs = Vec::new();
    for device in devices {
        let Ok(config) = device.default_input_config() else {
            continue;
        };
        let id = device.id().ok();
        let name = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| device.to_string());
        inputs.push(AudioInputInfo {
            id: id
                .as_ref()
                .map_or_else(|| name.clone(), ToString::to_string),
            is_default: id.is_some() && id == default_id,
            name,
            default_rate_hz: config.sample_rate(),
            channels: config.channels(),
        });
    }
    Ok(inputs)
}

/// Finds an input by id or name (`None`: the default input).
fn find_input(name: Option<&str>) -> Result<cpal::Device, AudioError> {
    let host = cpal::default_host();
    let Some(name) = name else {
        return host.default_input_device().ok_or(AudioError::NoInputDevice);
    };
    let devices = host
        .input_devices()
        .map_err(|e| AudioError::from_cpal(name, &e))?;
    for device in devices {
        let id = device.id().map(|id| id.to_string()).unwrap_or_default();
        let described = device.description().map(|d| d.name().to_owned());
        if id == name || described.as_deref() == Ok(name) || device.to_string() == name {
            return Ok(device);
        }
    }
    Err(AudioError::NotFound {
        name: name.to_owned(),
    })
}

/// Drops a cpal stream on a named thread and waits for it at most [`CLOSE_WAIT`].
///
/// Why: when the sound server dies under a stream (PulseAudio killed, its socket gone), the
/// PulseAudio ALSA plugin can deadlock inside libpulse, and cpal's drop, which joins its worker,
/// never returns (seen here: `pa_mutex_lock` against `pa_memimport_free`). Closing on the
/// engine thread would freeze the whole application; instead the stuck thread is left behind.
pub(crate) fn close_stream(stream: cpal::Stream) {
    let (done_tx, done_rx) = bounded::<()>(1);
    let spawned = std::thread::Builder::new()
        .name("audio-close".into())
        .spawn(move || {
            drop(stream);
            let _ = done_tx.send(());
        });
    if let Ok(handle) = spawned
        && done_rx.recv_timeout(CLOSE_WAIT).is_ok()
    {
        let _ = handle.join();
    }
}

/// An open microphone: a cpal input stream feeding a [`Pipeline`]. Dropping it stops the stream
/// first ([`close_stream`]), then the thread.
pub struct Microphone {
    stream: Option<cpal::Stream>,
    pipeline: Pipeline,
    /// The device's name.
    pub name: String,
    /// The device's rate.
    pub input_rate_hz: u32,
    /// The device's channels.
    pub channels: u16,
}

impl Microphone {
    /// Opens input `name` (`None`: the default) at its default rate and channels; samples reach
    /// `tx` resampled to `output_rate_hz`.
    pub fn open(
        name: Option<&str>,
        output_rate_hz: u32,
        tx: Sender<AudioMsg>,
    ) -> Result<Self, AudioError> {
        let device = find_input(name)?;
        let label = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| name.unwrap_or("the default microphone").to_owned());
        let supported = device
            .default_input_config()
            .map_err(|e| AudioError::from_cpal(&label, &e))?;
        let format = supported.sample_format();
        let config: cpal::StreamConfig = supported.into();
        let pipeline_config = PipelineConfig::new(
            config.sample_rate,
            usize::from(config.channels),
            output_rate_hz,
        );
        let (writer, pipeline) = start_pipeline(pipeline_config, tx)?;
        let stream = build_input(&device, &config, format, writer, &pipeline)
            .map_err(|e| AudioError::from_cpal(&label, &e))?;
        stream
            .play()
            .map_err(|e| AudioError::from_cpal(&label, &e))?;
        Ok(Self {
            stream: Some(stream),
            pipeline,
            name: label,
            input_rate_hz: config.sample_rate,
            channels: config.channels,
        })
    }

    /// The capture counters.
    pub fn stats(&self) -> &Arc<CaptureStats> {
        self.pipeline.stats()
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        // The callback must stop before the pipeline (dropped after this) stops its thread.
        if let Some(stream) = self.stream.take() {
            close_stream(stream);
        }
    }
}

/// Builds the input stream for the device's sample format; the callback only converts to f32
/// and pushes into the ring.
fn build_input(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    format: cpal::SampleFormat,
    writer: RingWriter,
    pipeline: &Pipeline,
) -> Result<cpal::Stream, cpal::Error> {
    use cpal::SampleFormat as F;
    let stats = Arc::clone(pipeline.stats());
    let lost = pipeline.lost_reporter();
    let on_error = move |error: cpal::Error| match error.kind() {
        cpal::ErrorKind::Xrun => {
            stats.xruns.fetch_add(1, Ordering::Relaxed);
        }
        cpal::ErrorKind::DeviceNotAvailable
        | cpal::ErrorKind::StreamInvalidated
        | cpal::ErrorKind::HostUnavailable => {
            let _ = lost.try_send(format!(
                "the microphone stopped ({error}): was it unplugged?"
            ));
        }
        _ => {}
    };
    match format {
        F::F32 => build_typed::<f32>(device, config, writer, on_error),
        F::I16 => build_typed::<i16>(device, config, writer, on_error),
        F::I32 => build_typed::<i32>(device, config, writer, on_error),
        F::U16 => build_typed::<u16>(device, config, writer, on_error),
        F::U8 => build_typed::<u8>(device, config, writer, on_error),
        F::I8 => build_typed::<i8>(device, config, writer, on_error),
        F::F64 => build_typed::<f64>(device, config, writer, on_error),
        other => Err(cpal::Error::with_message(
            cpal::ErrorKind::UnsupportedConfig,
            format!("sample format {other} is not supported"),
        )),
    }
}

fn build_typed<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut writer: RingWriter,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: cpal::SizedSample,
    f32: cpal::FromSample<T>,
{
    device.build_input_stream::<T, _, _>(
        *config,
        move |data: &[T], _| writer.push_with(data, cpal::Sample::to_sample::<f32>),
        on_error,
        Some(Duration::from_secs(2)),
    )
}
