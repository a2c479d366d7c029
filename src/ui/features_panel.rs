//! The Features panel: the project's processing block and its parameters (Edge Impulse's names
//! and the lab's defaults), what the block computes on one window of the selected sample — the
//! filtered signal and spectrum per axis, or every step of the MFCC pipeline — and "Generate
//! features" with the 2-D feature explorer (PCA), where clicking a dot opens its sample.

use super::app::TinyLabApp;
use super::plot::{Trace, heatmap_ui, stacked_plots_ui};
use super::settings_form::parameter_ui;
use crate::dsp::block::{BLOCK_NAMES, BlockSteps, DspSettings};
use crate::dsp::spectral::SpectralSteps;
use crate::protocol::{Command, ExplorerPoint};
use egui_plot::{Legend, Plot, PlotPoints, Points};
use std::collections::BTreeMap;

/// Which MFCC step is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MfccStep {
    /// The signal after pre-emphasis.
    PreEmphasis,
    /// |FFT|² of each windowed frame.
    #[default]
    Power,
    /// Mel filterbank energies.
    Mel,
    /// Their logarithm.
    LogMel,
    /// DCT of the log energies.
    Cepstra,
    /// After cepstral mean and variance normalisation.
    Normalised,
}

impl MfccStep {
    const ALL: [Self; 6] = [
        Self::PreEmphasis,
        Self::Power,
        Self::Mel,
        Self::LogMel,
        Self::Cepstra,
        Self::Normalised,
    ];

    fn title(self) -> &'static str {
        match self {
            Self::PreEmphasis => "1 pre-emphasis",
            Self::Power => "2 frames, FFT power",
            Self::Mel => "3 mel filterbank",
            Self::LogMel => "4 log",
            Self::Cepstra => "5 DCT (cepstra)",
            Self::Normalised => "6 normalised (CMVN)",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Self::PreEmphasis => {
                "y[n] = x[n] − a·x[n−1] boosts high frequencies, which speech carries weakly."
            }
            Self::Power => {
                "The signal is cut into short overlapping frames; each frame's FFT gives its power per frequency bin."
            }
            Self::Mel => {
                "Triangular filters spaced on the mel scale (fine at low, coarse at high frequencies) sum the power, as the ear does."
            }
            Self::LogMel => {
                "The logarithm turns loudness ratios into differences, closer to how we hear."
            }
            Self::Cepstra => {
                "A DCT decorrelates the log energies; the first coefficients keep the spectral envelope."
            }
            Self::Normalised => {
                "Each coefficient's mean (and variance) over a sliding window is removed, so recording level and channel matter less."
            }
        }
    }
}

/// Draws the Features panel.
pub fn features_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(project) = app.view.project.clone() else {
        ui.label("No project is open: create or open one in the Lab panel.");
        return;
    };
    egui::Panel::left("features_settings")
        .resizable(true)
        .default_size(320.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                block_ui(app, ui, &project.settings.dsp, &project.settings.lab);
                ui.separator();
                window_ui(app, ui, &project.settings.impulse);
                ui.separator();
                generate_ui(app, ui);
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        let height = ui.available_height();
        ui.allocate_ui(egui::vec2(ui.available_width(), height * 0.42), |ui| {
            explorer_ui(app, ui)
        });
        ui.separator();
        steps_ui(app, ui);
    });
    request_preview(app);
}

fn block_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, dsp: &DspSettings, lab: &str) {
    ui.heading("Processing block");
    let name = ui.label("Block");
    let mut chosen = dsp.name();
    egui::ComboBox::from_id_salt("dsp_block")
        .selected_text(dsp.title())
        .show_ui(ui, |ui| {
            for block in BLOCK_NAMES {
                let title = DspSettings::default_for(block)
                    .map(|d| d.title())
                    .unwrap_or(block);
                ui.selectable_value(&mut chosen, block, title);
            }
        })
        .response
        .labelled_by(name.id);
    if chosen != dsp.name()
        && let Ok(fresh) = DspSettings::default_for(chosen)
    {
        app.send(Command::SetDsp(fresh));
    }
    ui.add_space(4.0);
    egui::Grid::new("dsp_parameters")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let parameters = dsp.parameters();
            for (key, value) in &parameters {
                let (key, value) = (key.clone(), value.clone());
                let label = ui.label(&key);
                if let Some(new_value) = parameter_ui(ui, &key, &value, label.id) {
                    let mut changed = dsp.clone();
                    match changed.set(&key, &new_value) {
                        Ok(()) => app.send(Command::SetDsp(changed)),
                        Err(e) => app
                            .view
                            .notify(crate::protocol::Level::Error, e.to_string()),
                    }
                }
                ui.end_row();
            }
        });
    if ui.button("Reset to the lab's settings").clicked()
        && let Ok(preset) = crate::labs::lab(lab)
    {
        app.send(Command::SetDsp(preset.dsp));
    }
}

fn window_ui(
    app: &mut TinyLabApp,
    ui: &mut egui::Ui,
    window: &crate::dsp::windowing::WindowSettings,
) {
    ui.heading("Windows");
    let mut changed = window.clone();
    egui::Grid::new("window_settings")
        .num_columns(2)
        .show(ui, |ui| {
            let name = ui.label("window size");
            let size = ui
                .add(
                    egui::DragValue::new(&mut changed.window_ms)
                        .range(10..=60_000)
                        .suffix(" ms"),
                )
                .labelled_by(name.id);
            ui.end_row();
            let name = ui.label("window increase");
            let step = ui
                .add(
                    egui::DragValue::new(&mut changed.window_increase_ms)
                        .range(1..=60_000)
                        .suffix(" ms"),
                )
                .labelled_by(name.id);
            ui.end_row();
            let name = ui.label("zero-pad");
            ui.checkbox(&mut changed.zero_pad, "").labelled_by(name.id);
            ui.end_row();
            let dragging = size.dragged() || step.dragged();
            if changed != *window && !dragging {
                app.send(Command::SetWindow(changed.clone()));
            }
        });
}

fn generate_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let running = app
        .view
        .jobs
        .values()
        .any(|j| j.name.starts_with("features"));
    let shortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::G);
    let pressed = !running && ui.ctx().input_mut(|i| i.consume_shortcut(&shortcut));
    let button = ui
        .add_enabled(!running, egui::Button::new("Generate features"))
        .on_hover_text("Ctrl+G");
    if button.clicked() || pressed {
        app.send(Command::GenerateFeatures);
    }
    if let Some(summary) = &app.view.features {
        ui.label(summary.describe());
        if app.view.features_stale {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Settings changed since: generate again.",
            );
        }
    }
}

fn explorer_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(summary) = app.view.features.clone() else {
        ui.strong("Feature explorer");
        ui.label("Press Generate features: every window of every sample becomes a dot, placed by PCA and coloured by label.");
        return;
    };
    ui.horizontal(|ui| {
        ui.strong("Feature explorer");
        let [a, b] = summary.explained_variance_ratio;
        ui.label(format!("PCA: the two axes explain {:.0} % + {:.0} % of the variance. Click a dot to open its sample.", a * 100.0, b * 100.0));
    });
    let mut by_label: BTreeMap<&str, Vec<[f64; 2]>> = BTreeMap::new();
    for p in &summary.points {
        by_label
            .entry(&p.label)
            .or_default()
            .push([f64::from(p.xy[0]), f64::from(p.xy[1])]);
    }
    let response = Plot::new("feature_explorer")
        .legend(Legend::default())
        .height(ui.available_height())
        .x_axis_label("PC 1")
        .y_axis_label("PC 2")
        .data_aspect(1.0)
        .show(ui, |plot_ui| {
            for (label, points) in by_label {
                plot_ui.points(Points::new(label, PlotPoints::new(points)).radius(3.0));
            }
            (
                plot_ui.response().clicked(),
                plot_ui.pointer_coordinate(),
                plot_ui.plot_bounds(),
            )
        });
    let (clicked, pointer, bounds) = response.inner;
    if clicked
        && let Some(pointer) = pointer
        && let Some(point) = nearest(
            &summary.points,
            [pointer.x, pointer.y],
            [bounds.width(), bounds.height()],
        )
    {
        app.focus_sample(point.sample, point.window);
    }
}

/// The dot nearest to `at`, distances measured in shares of the visible range.
fn nearest(points: &[ExplorerPoint], at: [f64; 2], span: [f64; 2]) -> Option<&ExplorerPoint> {
    let d = |p: &ExplorerPoint| {
        let dx = (f64::from(p.xy[0]) - at[0]) / span[0].max(1e-12);
        let dy = (f64::from(p.xy[1]) - at[1]) / span[1].max(1e-12);
        dx * dx + dy * dy
    };
    points
        .iter()
        .min_by(|a, b| d(a).total_cmp(&d(b)))
        .filter(|p| d(p) < 0.03 * 0.03)
}

fn request_preview(app: &mut TinyLabApp) {
    let sample = app
        .forms
        .focused
        .or_else(|| app.view.samples.first().map(|s| s.id));
    let Some(sample) = sample else { return };
    let wanted = (sample, app.forms.preview_window, app.view.settings_revision);
    if app.forms.preview_requested != Some(wanted) {
        app.forms.preview_requested = Some(wanted);
        app.send(Command::PreviewSteps {
            sample,
            window: app.forms.preview_window,
        });
    }
}

fn steps_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(preview) = app.view.steps.clone() else {
        ui.label("Select a sample (here in the explorer, or in the Dataset panel) to see what the block computes.");
        return;
    };
    ui.horizontal(|ui| {
        if preview.windows <= 1 {
            ui.strong(format!("{} (one window)", preview.sample));
            return;
        }
        let name = ui.strong(format!("{} — window", preview.sample));
        let mut window = preview.window;
        let slider = ui
            .add(
                egui::Slider::new(&mut window, 0..=preview.windows - 1)
                    .suffix(format!(" of {}", preview.windows)),
            )
            .labelled_by(name.id);
        if slider.changed() {
            app.forms.preview_window = window;
        }
    });
    let height = ui.available_height();
    egui::ScrollArea::vertical()
        .id_salt("steps")
        .show(ui, |ui| match preview.steps.as_ref() {
            BlockSteps::Spectral(steps) => spectral_steps_ui(ui, steps, height),
            BlockSteps::Mfcc(steps) => {
                ui.horizontal_wrapped(|ui| {
                    for step in MfccStep::ALL {
                        ui.selectable_value(&mut app.forms.mfcc_step, step, step.title());
                    }
                });
                let step = app.forms.mfcc_step;
                ui.label(step.explanation());
                let plot_height = (height - 70.0).max(140.0);
                match step {
                    MfccStep::PreEmphasis => {
                        let trace = Trace {
                            name: "pre-emphasised".into(),
                            points: (0..)
                                .zip(&steps.emphasized)
                                .map(|(i, &v)| [f64::from(i), v])
                                .collect(),
                        };
                        stacked_plots_ui(
                            ui,
                            "mfcc_pre",
                            vec![trace],
                            None,
                            "audio sample",
                            "value",
                            plot_height,
                        );
                    }
                    MfccStep::Power => heatmap_ui(
                        ui,
                        "mfcc_power",
                        &log10_rows(&steps.power),
                        "FFT bin (log10 power)",
                        plot_height,
                    ),
                    MfccStep::Mel => heatmap_ui(
                        ui,
                        "mfcc_mel",
                        &steps.mel_energies,
                        "mel filter",
                        plot_height,
                    ),
                    MfccStep::LogMel => heatmap_ui(
                        ui,
                        "mfcc_logmel",
                        &steps.log_mel,
                        "mel filter (log)",
                        plot_height,
                    ),
                    MfccStep::Cepstra => {
                        heatmap_ui(ui, "mfcc_cep", &steps.cepstra, "coefficient", plot_height)
                    }
                    MfccStep::Normalised => heatmap_ui(
                        ui,
                        "mfcc_norm",
                        &grid_rows(&steps.features),
                        "coefficient",
                        plot_height,
                    ),
                }
            }
            BlockSteps::Mfe(_) | BlockSteps::Spectrogram(_) => {
                let features = preview.steps.features();
                heatmap_ui(
                    ui,
                    "grid_features",
                    &grid_rows(features),
                    "filter / bin",
                    (height - 40.0).max(140.0),
                );
            }
            BlockSteps::Image(steps) => {
                ui.label(format!("resized to {} × {}", steps.width, steps.height));
            }
            BlockSteps::Raw(features) => {
                let trace = Trace {
                    name: "value".into(),
                    points: (0..)
                        .zip(&features.values)
                        .map(|(i, &v)| [f64::from(i), f64::from(v)])
                        .collect(),
                };
                stacked_plots_ui(
                    ui,
                    "raw_values",
                    vec![trace],
                    None,
                    "feature",
                    "value",
                    (height - 40.0).max(140.0),
                );
            }
        });
}

fn spectral_steps_ui(ui: &mut egui::Ui, steps: &SpectralSteps, height: f32) {
    // Three stacked axes need room to read: at least 80 points each, scrolling if the panel is short.
    let plot_height = (height - 60.0).max(3.0 * 80.0);
    ui.columns(2, |columns| {
        if let [left, right] = columns {
            left.strong("After filter and mean removal");
            let traces = steps
                .axes
                .iter()
                .map(|a| Trace {
                    name: a.name.clone(),
                    points: (0..)
                        .zip(&a.filtered)
                        .map(|(i, &v)| [f64::from(i), v])
                        .collect(),
                })
                .collect();
            stacked_plots_ui(
                left,
                "spectral_filtered",
                traces,
                None,
                "reading",
                "",
                plot_height,
            );
            right.strong("Spectrum (max-hold power)");
            let traces = steps
                .axes
                .iter()
                .map(|a| Trace {
                    name: a.name.clone(),
                    points: a
                        .frequencies_hz
                        .iter()
                        .zip(&a.spectrum)
                        .map(|(&f, &p)| [f, p])
                        .collect(),
                })
                .collect();
            stacked_plots_ui(
                right,
                "spectral_spectrum",
                traces,
                None,
                "frequency (Hz)",
                "",
                plot_height,
            );
        }
    });
    egui::CollapsingHeader::new(format!("{} features", steps.features.values.len()))
        .id_salt("spectral_values")
        .show(ui, |ui| {
            egui::Grid::new("spectral_feature_values")
                .striped(true)
                .show(ui, |ui| {
                    for (name, value) in steps.features.names.iter().zip(&steps.features.values) {
                        ui.label(name);
                        ui.monospace(format!("{value:.4}"));
                        ui.end_row();
                    }
                });
        });
}

/// A `[frames, n]` feature grid as rows.
fn grid_rows(features: &crate::dsp::Features) -> Vec<Vec<f64>> {
    let cols = features
        .shape
        .last()
        .copied()
        .unwrap_or(features.values.len())
        .max(1);
    features
        .values
        .chunks(cols)
        .map(|row| row.iter().map(|&v| f64::from(v)).collect())
        .collect()
}

fn log10_rows(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|row| row.iter().map(|&v| v.max(1e-10).log10()).collect())
        .collect()
}
