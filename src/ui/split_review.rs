//! The split review window: a long audio sample's waveform with the clips the engine proposes
//! around each word (energy above the noise floor, see [`crate::dsp::split`]), a threshold and a
//! gap slider that ask for new proposals, accept/reject per clip, and "Add clips" which makes
//! them samples with a label (one undo step; the original kept or deleted as chosen). Opened
//! from the Dataset panel's "Split into words" button.

use super::app::TinyLabApp;
use crate::dsp::split::{SplitClip, SplitSettings};
use crate::project::sample::{SampleId, Series};
use crate::protocol::Command;
use egui_plot::{Line, Plot, PlotPoints, Polygon};

/// Waveform points drawn at most (min/max per bucket keeps the peaks).
const WAVEFORM_POINTS: usize = 4000;

/// The proposal shown, built from `Event::SplitProposed`.
#[derive(Clone, Debug)]
pub struct SplitView {
    /// The sample being split.
    pub sample: SampleId,
    /// Its readings.
    pub series: Series,
    /// The proposed clips.
    pub clips: Vec<SplitClip>,
}

impl SplitView {
    /// A new proposal.
    pub fn new(sample: SampleId, series: Series, clips: Vec<SplitClip>) -> Self {
        Self {
            sample,
            series,
            clips,
        }
    }
}

/// The window's form fields.
#[derive(Clone, Debug)]
pub struct SplitForm {
    /// The window is open.
    pub open: bool,
    /// Threshold, gap and clip length sent with each proposal.
    pub settings: SplitSettings,
    /// Accepted flag per proposed clip (reset when a new proposal arrives).
    pub accepted: Vec<bool>,
    /// Label of the new samples.
    pub label: String,
    /// Keep the original recording.
    pub keep_original: bool,
}

impl Default for SplitForm {
    fn default() -> Self {
        Self {
            open: false,
            settings: SplitSettings::default(),
            accepted: Vec::new(),
            label: String::new(),
            keep_original: true,
        }
    }
}

/// Opens the window on `sample` with `label`, asking the engine for clips.
pub fn open_split(app: &mut TinyLabApp, sample: SampleId, label: &str) {
    app.forms.split.open = true;
    app.forms.split.label = label.to_owned();
    app.forms.split.accepted.clear();
    app.send(Command::ProposeSplit {
        sample,
        settings: app.forms.split.settings.clone(),
    });
}

/// Draws the window when it is open.
pub fn split_review_ui(app: &mut TinyLabApp, ctx: &egui::Context) {
    if !app.forms.split.open {
        return;
    }
    let Some(view) = app.view.split.clone() else {
        return;
    };
    if app.forms.split.accepted.len() != view.clips.len() {
        app.forms.split.accepted = vec![true; view.clips.len()];
    }
    let mut open = true;
    egui::Window::new("Split into words")
        .open(&mut open)
        .default_width(720.0)
        .show(ctx, |ui| body_ui(app, ui, &view));
    app.forms.split.open &= open;
}

fn body_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, view: &SplitView) {
    let rate = view.series.rate_hz.max(1.0);
    ui.label(format!(
        "{}: {:.1} s, {} word(s) found",
        view.sample,
        view.series.duration_s(),
        view.clips.len()
    ));
    let mut changed = false;
    ui.horizontal(|ui| {
        let label = ui.label("threshold (dB above the noise floor)");
        changed |= ui
            .add(egui::Slider::new(
                &mut app.forms.split.settings.threshold_db,
                3.0..=40.0,
            ))
            .labelled_by(label.id)
            .drag_stopped();
        let label = ui.label("min gap (ms)");
        changed |= ui
            .add(egui::Slider::new(
                &mut app.forms.split.settings.min_gap_ms,
                50..=1000,
            ))
            .labelled_by(label.id)
            .drag_stopped();
        changed |= ui.button("Find words").clicked();
    });
    if changed {
        app.forms.split.accepted.clear();
        app.send(Command::ProposeSplit {
            sample: view.sample,
            settings: app.forms.split.settings.clone(),
        });
    }
    waveform_ui(ui, view, &app.forms.split.accepted);
    let mut play = None;
    egui::ScrollArea::vertical()
        .max_height(160.0)
        .show(ui, |ui| {
            for (index, (clip, accepted)) in view
                .clips
                .iter()
                .zip(app.forms.split.accepted.iter_mut())
                .enumerate()
            {
                ui.horizontal(|ui| {
                    if ui
                        .small_button(format!("Play clip {}", index + 1))
                        .clicked()
                    {
                        play = Some(clip.clip.clone());
                    }
                    ui.checkbox(
                        accepted,
                        format!(
                            "clip {} at {:.2}-{:.2} s (word {:.2}-{:.2} s)",
                            index + 1,
                            clip.clip.start as f64 / rate,
                            clip.clip.end as f64 / rate,
                            clip.word.start as f64 / rate,
                            clip.word.end as f64 / rate
                        ),
                    );
                });
            }
        });
    if let Some(range) = play {
        app.send(Command::PlayClip {
            sample: view.sample,
            range,
        });
    }
    ui.horizontal(|ui| {
        if ui.button("Accept all").clicked() {
            app.forms.split.accepted.iter_mut().for_each(|a| *a = true);
        }
        if ui.button("Reject all").clicked() {
            app.forms.split.accepted.iter_mut().for_each(|a| *a = false);
        }
    });
    let chosen: Vec<std::ops::Range<usize>> = view
        .clips
        .iter()
        .zip(&app.forms.split.accepted)
        .filter(|(_, a)| **a)
        .map(|(c, _)| c.clip.clone())
        .collect();
    ui.horizontal(|ui| {
        let label = ui.label("label");
        ui.add(egui::TextEdit::singleline(&mut app.forms.split.label).desired_width(120.0))
            .labelled_by(label.id);
        ui.checkbox(&mut app.forms.split.keep_original, "keep the original");
        let add = egui::Button::new(format!("Add {} clip(s)", chosen.len()));
        if ui
            .add_enabled(!chosen.is_empty(), add)
            .on_hover_text("New samples with this label; Ctrl+Z undoes the whole split")
            .clicked()
        {
            app.send(Command::ApplySplit {
                sample: view.sample,
                clips: chosen,
                label: app.forms.split.label.trim().to_owned(),
                keep_original: app.forms.split.keep_original,
            });
            app.forms.split.open = false;
        }
    });
}

/// The waveform (min/max per bucket) with each clip shaded, accepted ones stronger.
fn waveform_ui(ui: &mut egui::Ui, view: &SplitView, accepted: &[bool]) {
    let rate = view.series.rate_hz.max(1.0);
    let values = &view.series.values;
    let bucket = values.len().div_ceil(WAVEFORM_POINTS / 2).max(1);
    let mut points = Vec::with_capacity(WAVEFORM_POINTS + 2);
    for (k, chunk) in values.chunks(bucket).enumerate() {
        let x = (k * bucket) as f64 / rate;
        let (lo, hi) = chunk
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        points.push([x, f64::from(lo)]);
        points.push([x, f64::from(hi)]);
    }
    let peak = values.iter().fold(1.0_f32, |m, v| m.max(v.abs()));
    Plot::new("split_waveform")
        .height(180.0)
        .x_axis_label("time (s)")
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new("audio", PlotPoints::from(points)));
            for (index, clip) in view.clips.iter().enumerate() {
                let (a, b) = (clip.clip.start as f64 / rate, clip.clip.end as f64 / rate);
                let h = f64::from(peak);
                let on = accepted.get(index).copied().unwrap_or(false);
                let colour = if on {
                    egui::Color32::from_rgba_unmultiplied(60, 160, 90, 60)
                } else {
                    egui::Color32::from_rgba_unmultiplied(160, 160, 160, 30)
                };
                let name = format!("clip {}", index + 1);
                plot.polygon(
                    Polygon::new(
                        name,
                        PlotPoints::from(vec![[a, -h], [b, -h], [b, h], [a, h]]),
                    )
                    .fill_color(colour),
                );
            }
        });
}
