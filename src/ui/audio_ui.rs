//! Audio in the window: what the UI knows about microphones, the level and playback
//! ([`AudioView`], built only from events), the forms behind it ([`AudioForms`]), and the widgets
//! the Capture and Dataset panels use for audio projects: the microphone chooser, the level meter
//! with its clipping warning, the 3-2-1 countdown before a recording, and the waveform (live, or
//! of a sample with the playback cursor).

use super::app::TinyLabApp;
use crate::devices::audio_in::AudioInputInfo;
use crate::dsp::audio::Level;
use crate::project::MICROPHONE;
use crate::project::sample::{SampleId, Series};
use crate::protocol::{Command, DeviceSpec, Event, PlaybackPosition, RecordRequest};
use egui_plot::{Line, Plot, PlotPoints, VLine};
use std::time::{Duration, Instant};

/// Seconds of countdown before an audio recording starts.
pub const COUNTDOWN_S: u64 = 3;
/// How long the clipping warning stays after the last clipped sample.
const CLIP_HOLD: Duration = Duration::from_millis(1500);
/// A level older than this is shown as silence (the microphone stopped).
const LEVEL_STALE: Duration = Duration::from_millis(500);
/// Columns of the waveform's min/max envelope.
const ENVELOPE_COLUMNS: usize = 1200;
/// Spectrogram columns kept: 5 s of 20 ms steps.
const SPECTRUM_COLUMNS: usize = 250;
/// Colour range of the spectrogram, in dB of int16-unit power.
const SPECTRUM_DB: (f32, f32) = (20.0, 140.0);
/// Lowest level on the meter, in dBFS.
const METER_FLOOR_DB: f32 = -60.0;

/// What the UI knows about audio, from engine events only.
#[derive(Clone, Debug, Default)]
pub struct AudioView {
    /// Microphones last listed.
    pub inputs: Vec<AudioInputInfo>,
    /// True once a list arrived.
    pub listed: bool,
    /// The last level and when it came.
    pub level: Option<(Level, Instant)>,
    /// When a clipped sample was last reported.
    pub last_clip: Option<Instant>,
    /// Frames lost since the microphone opened.
    pub lost_frames: u64,
    /// The sample playing and where.
    pub playback: Option<PlaybackPosition>,
    /// The live spectrogram's last columns (dB per bin), oldest first.
    pub spectrum: std::collections::VecDeque<Vec<f32>>,
    /// Frequency of the spectrogram's last bin.
    pub spectrum_max_hz: f32,
}

impl AudioView {
    /// Folds an audio event in; other events are ignored.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::AudioInputs(inputs) => {
                self.inputs = inputs;
                self.listed = true;
            }
            Event::AudioLevel { level, lost_frames } => {
                let now = Instant::now();
                if level.clipped > 0 {
                    self.last_clip = Some(now);
                }
                self.level = Some((level, now));
                self.lost_frames = lost_frames;
            }
            Event::Playback(position) => self.playback = position,
            Event::AudioSpectrum { columns, max_hz } => {
                self.spectrum_max_hz = max_hz;
                for column in columns {
                    if self.spectrum.len() >= SPECTRUM_COLUMNS {
                        self.spectrum.pop_front();
                    }
                    self.spectrum.push_back(column);
                }
            }
            _ => {}
        }
    }

    /// The current level, or `None` when none arrived lately.
    pub fn fresh_level(&self) -> Option<Level> {
        self.level
            .filter(|(_, at)| at.elapsed() < LEVEL_STALE)
            .map(|(level, _)| level)
    }

    /// True while the clipping warning should show.
    pub fn clipping(&self) -> bool {
        self.last_clip.is_some_and(|at| at.elapsed() < CLIP_HOLD)
    }
}

/// Audio form fields: transient.
#[derive(Clone, Debug, Default)]
pub struct AudioForms {
    /// The chosen microphone id (`None`: the system default).
    pub input: Option<String>,
    /// True once the microphone list was asked for.
    pub asked: bool,
    /// A recording waiting for its countdown to end.
    pub countdown: Option<(Instant, RecordRequest)>,
}

/// True when the open project records audio.
pub fn is_audio_project(app: &TinyLabApp) -> bool {
    app.view
        .project
        .as_ref()
        .is_some_and(|p| p.settings.sensor.kind == MICROPHONE)
}

/// The microphone chooser, connect button and level meter.
pub fn microphone_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    if !app.forms.audio.asked {
        app.forms.audio.asked = true;
        app.send(Command::ListAudioInputs);
    }
    ui.label("Microphone");
    ui.horizontal(|ui| {
        let chosen = app.forms.audio.input.clone();
        let shown = chosen
            .as_ref()
            .and_then(|id| app.view.audio.inputs.iter().find(|i| &i.id == id))
            .map_or_else(|| "System default".to_owned(), |i| i.name.clone());
        let name = ui.label("Input");
        egui::ComboBox::from_id_salt("microphone")
            .selected_text(shown)
            .width(200.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.forms.audio.input, None, "System default");
                for input in &app.view.audio.inputs {
                    ui.selectable_value(
                        &mut app.forms.audio.input,
                        Some(input.id.clone()),
                        input.describe(),
                    );
                }
            })
            .response
            .labelled_by(name.id);
        if ui
            .button("Refresh microphones")
            .on_hover_text("List the audio inputs again")
            .clicked()
        {
            app.send(Command::ListAudioInputs);
        }
    });
    if app.view.audio.listed && app.view.audio.inputs.is_empty() {
        ui.weak("No microphone found: plug one in and refresh.");
    }
    if ui.button("Connect microphone").clicked() {
        let name = app.forms.audio.input.clone();
        app.send(Command::Connect(DeviceSpec::Microphone { name }));
    }
    level_meter_ui(app, ui);
}

/// A horizontal meter: RMS bar, peak tick, red above −1 dBFS, and the clipping warning.
pub fn level_meter_ui(app: &TinyLabApp, ui: &mut egui::Ui) {
    let level = app.view.audio.fresh_level();
    let to_x = |fraction: f32| {
        ((Level::dbfs(fraction) - METER_FLOOR_DB) / -METER_FLOOR_DB).clamp(0.0, 1.0)
    };
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width().min(300.0), 14.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    if let Some(level) = level {
        let rms_x = rect.left() + rect.width() * to_x(level.rms);
        let bar = egui::Rect::from_min_max(rect.min, egui::pos2(rms_x, rect.bottom()));
        painter.rect_filled(bar, 2.0, egui::Color32::from_rgb(80, 200, 120));
        let peak_x = rect.left() + rect.width() * to_x(level.peak);
        let color = if level.peak >= crate::dsp::audio::CLIP_LEVEL {
            egui::Color32::RED
        } else {
            egui::Color32::from_rgb(240, 200, 60)
        };
        painter.line_segment(
            [
                egui::pos2(peak_x, rect.top()),
                egui::pos2(peak_x, rect.bottom()),
            ],
            egui::Stroke::new(2.0, color),
        );
    }
    ui.label(match level {
        Some(level) => format!(
            "Level: {:.0} dBFS RMS, {:.0} dBFS peak",
            Level::dbfs(level.rms),
            Level::dbfs(level.peak)
        ),
        None => "Level: no signal".to_owned(),
    });
    if app.view.audio.clipping() {
        ui.colored_label(
            egui::Color32::RED,
            "Clipping: the sound is too loud. Lower the input volume or move away from the microphone.",
        );
    }
    if app.view.audio.lost_frames > 0 {
        ui.colored_label(
            egui::Color32::YELLOW,
            format!(
                "{} audio frames lost (the computer was too busy)",
                app.view.audio.lost_frames
            ),
        );
    }
}

/// Starts `request` after a 3-2-1 countdown (audio) or at once (other sensors).
pub fn request_recording(app: &mut TinyLabApp, request: RecordRequest) {
    if is_audio_project(app) {
        let until = Instant::now() + Duration::from_secs(COUNTDOWN_S);
        app.forms.audio.countdown = Some((until, request));
    } else {
        start_recording(app, request);
    }
}

fn start_recording(app: &mut TinyLabApp, request: RecordRequest) {
    app.view.recording = Some(super::view::RecordingView {
        label: request.label.clone(),
        readings: 0,
        target: 0,
    });
    app.send(Command::StartRecording(request));
}

/// Draws the countdown while one runs and starts the recording when it ends; returns true while
/// counting down.
pub fn countdown_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) -> bool {
    let Some((until, request)) = app.forms.audio.countdown.clone() else {
        return false;
    };
    let now = Instant::now();
    if now >= until {
        app.forms.audio.countdown = None;
        start_recording(app, request);
        return false;
    }
    let left = (until - now).as_secs_f64().ceil() as u64;
    ui.label(
        egui::RichText::new(format!("Recording \"{}\" in {left}", request.label))
            .size(28.0)
            .strong(),
    );
    ui.label("Get ready to speak.");
    if ui.button("Cancel countdown").clicked() {
        app.forms.audio.countdown = None;
    }
    ui.ctx().request_repaint_after(Duration::from_millis(100));
    true
}

/// The live waveform of the last `window_s` seconds above the live spectrogram.
pub fn live_audio_ui(app: &TinyLabApp, ui: &mut egui::Ui, window_s: f64, rate_hz: f64) {
    let height = ui.available_height();
    live_waveform_ui(app, ui, window_s, rate_hz, height * 0.45);
    ui.strong(format!(
        "Spectrogram (last {} s, 0 to {:.0} Hz)",
        SPECTRUM_COLUMNS / 50,
        app.view.audio.spectrum_max_hz
    ));
    let (low, high) = SPECTRUM_DB;
    // Every other bin is plenty for the screen; a fixed colour range keeps silence dark.
    let rows: Vec<Vec<f64>> = app
        .view
        .audio
        .spectrum
        .iter()
        .map(|column| {
            column
                .iter()
                .step_by(2)
                .map(|&db| f64::from(db.clamp(low, high)))
                .collect()
        })
        .collect();
    super::plot::heatmap_ui(
        ui,
        "live_spectrogram",
        &rows,
        "frequency bin",
        ui.available_height(),
    );
}

/// The live waveform of the last `window_s` seconds.
fn live_waveform_ui(app: &TinyLabApp, ui: &mut egui::Ui, window_s: f64, rate_hz: f64, height: f32) {
    let count = (window_s * rate_hz) as usize;
    let values: Vec<f32> = app.view.live.tail(0, count).map(|(_, v)| v).collect();
    let newest_s = app.view.live.total as f64 / rate_hz;
    let start_s = newest_s - values.len() as f64 / rate_hz;
    let points = envelope(&values, start_s, rate_hz);
    waveform_plot("live_waveform", height)
        .auto_bounds([false, false])
        .default_x_bounds((newest_s - window_s).max(0.0), newest_s.max(window_s))
        .show(ui, |plot_ui| {
            plot_ui.set_plot_bounds_x((newest_s - window_s).max(0.0)..=newest_s.max(window_s));
            plot_ui.set_plot_bounds_y(-32768.0..=32767.0);
            plot_ui.line(Line::new("audio", PlotPoints::new(points)));
        });
}

/// A sample's waveform with Play/Stop and the playback cursor.
pub fn sample_waveform_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, id: SampleId, series: &Series) {
    let playing = app.view.audio.playback.filter(|p| p.id == id);
    ui.horizontal(|ui| {
        if playing.is_some() {
            if ui.button("Stop").clicked() {
                app.send(Command::StopPlayback);
            }
        } else if ui
            .button("Play")
            .on_hover_text("Play this sample")
            .clicked()
        {
            app.send(Command::PlaySample(id));
        }
        if let Some(position) = playing {
            ui.label(format!(
                "{:.2} s / {:.2} s",
                position.position_s, position.duration_s
            ));
        }
    });
    let rate_hz = series.rate_hz.max(1.0);
    let values: Vec<f32> = series.axis(0).collect();
    let points = envelope(&values, 0.0, rate_hz);
    waveform_plot("sample_waveform", ui.available_height()).show(ui, |plot_ui| {
        plot_ui.line(Line::new("audio", PlotPoints::new(points)));
        if let Some(position) = playing {
            plot_ui.vline(
                VLine::new("playing", position.position_s)
                    .color(egui::Color32::from_rgb(240, 200, 60))
                    .width(2.0),
            );
        }
    });
}

/// A plot of audio in int16 units against seconds, the full scale always in view.
fn waveform_plot(id: &str, height: f32) -> Plot<'static> {
    Plot::new(id)
        .height(height)
        .x_axis_label("time (s)")
        .y_axis_label("audio (int16)")
        .include_y(-32768.0)
        .include_y(32767.0)
        .allow_scroll(false)
}

/// A min/max envelope of `values` in at most [`ENVELOPE_COLUMNS`] columns, as `[t_s, value]`
/// points (two per column), so seconds of 16 kHz audio draw as fast as a short series.
fn envelope(values: &[f32], start_s: f64, rate_hz: f64) -> Vec<[f64; 2]> {
    let per_column = values.len().div_ceil(ENVELOPE_COLUMNS).max(1);
    let mut points = Vec::with_capacity(2 * ENVELOPE_COLUMNS + 2);
    for (column, chunk) in values.chunks(per_column).enumerate() {
        let t = start_s + (column * per_column) as f64 / rate_hz;
        if per_column == 1 {
            points.extend(chunk.iter().map(|&v| [t, f64::from(v)]));
            continue;
        }
        let (min, max) = chunk
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        points.push([t, f64::from(min)]);
        points.push([t, f64::from(max)]);
    }
    points
}
