//! The engine's audio side: microphone chunks become readings (width 1, the project's rate) so
//! the live plot and recording work as for a serial board; the level goes out for the meter
//! every tick; the microphone list is made on a short-lived thread (ALSA probes devices, which can
//! take a second); one sample at a time plays through the default output, its position sent
//! every tick.

use super::EngineLoop;
use crate::devices::audio_in::{AudioMsg, list_inputs};
use crate::devices::audio_out::Playback;
use crate::dsp::audio::{Level as AudioLevel, LiveSpectrogram};
use crate::project::MICROPHONE;
use crate::project::sample::SampleId;
use crate::protocol::{DeviceSpec, Event, Level, PlaybackPosition};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::thread::JoinHandle;
use std::time::Duration;

/// Chunks (a few milliseconds each) waiting for the engine; when full the capture thread waits
/// and the ring absorbs the delay.
const AUDIO_CAPACITY: usize = 512;
/// Playback that does not move for this long has stalled (the sound server stopped taking data).
const PLAYBACK_STALL: Duration = Duration::from_secs(3);
/// The rate a microphone is resampled to when no project is open.
const DEFAULT_AUDIO_RATE_HZ: f64 = 16_000.0;

/// A sample playing.
struct Playing {
    id: SampleId,
    playback: Playback,
    duration_s: f64,
    /// Where in the sample the played part starts.
    offset_s: f64,
    /// The position last seen and when it last changed.
    last_position_s: f64,
    moved_at: std::time::Instant,
}

/// Audio channels and state owned by the engine loop.
pub(super) struct AudioState {
    pub(super) tx: Sender<AudioMsg>,
    pub(super) rx: Receiver<AudioMsg>,
    /// Level of the chunks since the last report.
    level: AudioLevel,
    playing: Option<Playing>,
    lister: Option<JoinHandle<()>>,
    /// The live spectrogram and the columns not yet sent.
    spectrogram: LiveSpectrogram,
    columns: Vec<Vec<f32>>,
}

impl AudioState {
    pub(super) fn new() -> Self {
        let (tx, rx) = bounded(AUDIO_CAPACITY);
        Self {
            tx,
            rx,
            level: AudioLevel::default(),
            playing: None,
            lister: None,
            spectrogram: LiveSpectrogram::for_rate(DEFAULT_AUDIO_RATE_HZ),
            columns: Vec::new(),
        }
    }
}

impl AudioState {
    /// A fresh spectrogram for a stream at `rate_hz`.
    pub(super) fn reset_spectrogram(&mut self, rate_hz: f64) {
        self.spectrogram = LiveSpectrogram::for_rate(rate_hz);
        self.columns.clear();
    }
}

impl Drop for AudioState {
    fn drop(&mut self) {
        if let Some(lister) = self.lister.take() {
            let _ = lister.join();
        }
    }
}

impl EngineLoop {
    /// The rate microphone samples are resampled to: the project's.
    pub(super) fn audio_rate_hz(&self) -> f64 {
        self.project
            .as_ref()
            .map_or(DEFAULT_AUDIO_RATE_HZ, |p| p.settings().sensor.rate_hz)
    }

    /// A microphone only makes sense in an audio project.
    pub(super) fn check_microphone_fits(&self, spec: &DeviceSpec) -> Result<(), String> {
        let Some(project) = &self.project else {
            return Ok(());
        };
        let sensor = &project.settings().sensor;
        if matches!(spec, DeviceSpec::Microphone { .. }) && sensor.kind != MICROPHONE {
            return Err(format!(
                "this project records a {} ({}), not audio: create a keyword-spotting project \
                 (`tinylab new DIR --lab kws`) to use the microphone",
                sensor.kind,
                sensor.axes.join(", ")
            ));
        }
        Ok(())
    }

    pub(super) fn handle_audio(&mut self, msg: AudioMsg) {
        if self.device.as_ref().and_then(|d| d.microphone()).is_none() {
            return;
        }
        match msg {
            AudioMsg::Chunk { samples, level } => {
                self.audio.level.merge(&level);
                let columns = self.audio.spectrogram.push(&samples);
                self.audio.columns.extend(columns);
                for sample in samples {
                    self.on_reading(&[sample]);
                }
            }
            AudioMsg::Lost { reason } => self.disconnect(Some(reason)),
        }
    }

    /// Lists microphones on a named thread; the answer goes straight out as an event.
    pub(super) fn list_audio_inputs(&mut self) {
        if let Some(previous) = self.audio.lister.take() {
            if !previous.is_finished() {
                self.audio.lister = Some(previous);
                return;
            }
            let _ = previous.join();
        }
        let events = self.events.clone();
        let wake = std::sync::Arc::clone(&self.wake);
        let spawned = std::thread::Builder::new()
            .name("audio-devices".into())
            .spawn(move || {
                let event = match list_inputs() {
                    Ok(inputs) => Event::AudioInputs(inputs),
                    Err(e) => Event::Notice {
                        level: Level::Error,
                        text: e.to_string(),
                    },
                };
                let _ = events.send_timeout(event, Duration::from_secs(2));
                wake();
            });
        match spawned {
            Ok(handle) => self.audio.lister = Some(handle),
            Err(e) => self.notice(Level::Error, format!("could not list microphones: {e}")),
        }
    }

    /// Plays sample `id`, or only readings `range` of it; positions are reported from the
    /// sample's start either way, so the waveform's cursor sits on the clip.
    pub(super) fn play_sample(&mut self, id: SampleId, range: Option<std::ops::Range<usize>>) {
        self.stop_playback();
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "no project is open");
        };
        if project.settings().sensor.kind != MICROPHONE {
            return self.notice(Level::Error, "only audio samples can be played");
        }
        let series = match project.load_series(id) {
            Ok(series) => series,
            Err(e) => return self.notice(Level::Error, e.to_string()),
        };
        let rate_hz = series.rate_hz.round() as u32;
        let all = series.axis(0).collect::<Vec<f32>>();
        let range = range.unwrap_or(0..all.len());
        let Some(samples) = all.get(range.clone()).filter(|s| !s.is_empty()) else {
            return self.notice(
                Level::Error,
                format!(
                    "{id} has no readings {}..{} to play",
                    range.start, range.end
                ),
            );
        };
        match Playback::start(samples, rate_hz) {
            Ok(playback) => {
                let duration_s = series.duration_s();
                let offset_s = range.start as f64 / series.rate_hz.max(1.0);
                self.audio.playing = Some(Playing {
                    id,
                    playback,
                    duration_s,
                    offset_s,
                    last_position_s: 0.0,
                    moved_at: std::time::Instant::now(),
                });
                self.emit(Event::Playback(Some(PlaybackPosition {
                    id,
                    position_s: offset_s,
                    duration_s,
                })));
            }
            Err(e) => self.notice(Level::Error, format!("cannot play {id}: {e}")),
        }
    }

    pub(super) fn stop_playback(&mut self) {
        if self.audio.playing.take().is_some() {
            self.emit(Event::Playback(None));
        }
    }

    /// Every tick: the level for the meter, the playback position.
    pub(super) fn audio_tick(&mut self) {
        if let Some(microphone) = self.device.as_ref().and_then(|d| d.microphone())
            && self.audio.level.samples > 0
        {
            let level = std::mem::take(&mut self.audio.level);
            let lost_frames = microphone.stats().lost();
            let _ = self
                .events
                .try_send(Event::AudioLevel { level, lost_frames });
            if !self.audio.columns.is_empty() {
                let columns = std::mem::take(&mut self.audio.columns);
                let max_hz = (self.audio_rate_hz() / 2.0) as f32;
                let _ = self
                    .events
                    .try_send(Event::AudioSpectrum { columns, max_hz });
            }
            (self.wake)();
        }
        let Some(playing) = &mut self.audio.playing else {
            return;
        };
        let position_s = playing.playback.position_s();
        if position_s > playing.last_position_s {
            playing.last_position_s = position_s;
            playing.moved_at = std::time::Instant::now();
        }
        let stalled = playing.moved_at.elapsed() > PLAYBACK_STALL;
        if let Some(error) = playing.playback.error().or_else(|| {
            stalled.then(|| "playback stalled: the sound output stopped taking audio".to_owned())
        }) {
            self.audio.playing = None;
            self.notice(Level::Error, error);
            return self.emit(Event::Playback(None));
        }
        if playing.playback.finished() {
            return self.stop_playback();
        }
        let position = PlaybackPosition {
            id: playing.id,
            position_s: playing.offset_s + position_s,
            duration_s: playing.duration_s,
        };
        let _ = self.events.try_send(Event::Playback(Some(position)));
        (self.wake)();
    }
}
