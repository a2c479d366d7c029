//! The Evaluate panel: a run's results on the test (or validation, or training) data — overall
//! accuracy, the confusion matrix (counts or row percentages, coloured), precision/recall/F1 per
//! class, the uncertain share at the confidence threshold slider, anomaly scores at the anomaly
//! threshold slider — and the misclassified windows and per-sample results as lists where a
//! click opens the sample in the Dataset panel. A FOMO run shows its detection results instead
//! ([`super::detection_view`]).

use super::app::TinyLabApp;
use super::tab::Tab;
use crate::project::runs::DataSet;
use crate::project::sample::SampleId;
use crate::protocol::{Command, RunEvaluation, percent};
use std::sync::Arc;

/// Draws the Evaluate panel.
pub fn evaluate_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(project) = app.view.project.clone() else {
        ui.label("No project is open: create or open one in the Lab panel.");
        return;
    };
    let Some(evaluation) = app.view.evaluation.clone() else {
        ui.heading("Evaluation");
        ui.label("No trained model yet: press Train in the Train panel (Ctrl+5).");
        return;
    };
    controls_ui(app, ui, &evaluation, &project.settings.model);
    ui.separator();
    let mut open: Option<(SampleId, usize)> = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        if super::camera_ui::is_camera_project(app) {
            ui.weak("Live inference on a camera: Capture panel, Start live inference.");
        } else {
            egui::CollapsingHeader::new("Live classification")
                .default_open(true)
                .show(ui, |ui| super::live_panel::live_classification_ui(app, ui));
        }
        if let Some(detection) = evaluation.detection.clone() {
            // FOMO: detection first; the confusion matrix counts cells.
            super::detection_view::detection_summary_ui(ui, &evaluation, &detection);
            ui.add_space(8.0);
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    super::detection_view::predictions_vs_labels_ui(
                        app,
                        ui,
                        &evaluation,
                        &detection,
                    );
                });
                ui.add_space(24.0);
                ui.vertical(|ui| {
                    ui.weak("Per cell: each cell of the output grid against its target class.");
                    confusion_ui(app, ui, &evaluation);
                    ui.add_space(8.0);
                    misclassified_ui(ui, &evaluation, &mut open);
                });
            });
            return;
        }
        summary_ui(ui, &evaluation);
        ui.add_space(6.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| confusion_ui(app, ui, &evaluation));
            ui.add_space(24.0);
            ui.vertical(|ui| per_class_ui(ui, &evaluation));
        });
        ui.add_space(8.0);
        ui.columns(2, |columns| {
            if let [left, right] = columns {
                misclassified_ui(left, &evaluation, &mut open);
                samples_ui(right, &evaluation, &mut open);
            }
        });
    });
    if let Some((sample, window)) = open {
        app.focus_sample(sample, window);
        app.state.tab = Tab::Dataset;
    }
}

fn controls_ui(
    app: &mut TinyLabApp,
    ui: &mut egui::Ui,
    evaluation: &Arc<RunEvaluation>,
    model: &crate::models::ModelSettings,
) {
    ui.horizontal_wrapped(|ui| {
        ui.heading(format!("Evaluation of {}", evaluation.run));
        let label = ui.label("data");
        let mut set = evaluation.set;
        egui::ComboBox::from_id_salt("eval_set")
            .selected_text(set.title())
            .show_ui(ui, |ui| {
                for choice in DataSet::ALL {
                    ui.selectable_value(&mut set, choice, choice.title());
                }
            })
            .response
            .labelled_by(label.id);
        if set != evaluation.set {
            app.forms.eval_set = set;
            app.send(Command::ShowRun {
                run: evaluation.run.clone(),
                set,
            });
        }
        if ui
            .button("Evaluate again")
            .on_hover_text(
                "Predict the dataset as it is now (new or relabelled samples) with this run",
            )
            .clicked()
        {
            app.send(Command::Evaluate {
                run: Some(evaluation.run.clone()),
            });
        }
    });
    ui.horizontal_wrapped(|ui| {
        let mut changed = model.clone();
        let label = ui.label("Minimum confidence");
        let response = ui
            .add(egui::Slider::new(&mut changed.confidence_threshold, 0.0..=1.0).step_by(0.01))
            .labelled_by(label.id)
            .on_hover_text(
                "Below this top probability a prediction counts as uncertain (Edge Impulse: 0.6)",
            );
        let mut moved = response.changed();
        if evaluation.has_anomaly {
            ui.add_space(16.0);
            let label = ui.label("Anomaly threshold");
            moved |= ui
                .add(egui::Slider::new(&mut changed.anomaly.threshold, -1.0..=3.0).step_by(0.01))
                .labelled_by(label.id)
                .on_hover_text("Windows scoring above this are anomalies (Edge Impulse: 0.3)")
                .changed();
        }
        if moved {
            app.send(Command::SetModel(Box::new(changed)));
        }
    });
}

fn summary_ui(ui: &mut egui::Ui, evaluation: &RunEvaluation) {
    let metrics = &evaluation.metrics;
    let total = metrics.predictions.len();
    if total == 0 {
        ui.label(format!(
            "The {} data is empty for this run.",
            evaluation.set.title()
        ));
        return;
    }
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(format!(
                "Accuracy {}",
                percent(Some(metrics.accuracy as f32))
            ))
            .size(22.0)
            .strong(),
        );
        ui.add_space(16.0);
        ui.label(format!(
            "{total} windows · uncertain {} · loss {:.3}",
            percent(Some(metrics.uncertain_share as f32)),
            metrics.loss
        ));
        if evaluation.has_anomaly {
            ui.label(format!(
                " · {} above the anomaly threshold",
                evaluation.anomalies
            ));
        }
    });
}

/// Rows are the true labels, columns the predictions plus "uncertain"; cells coloured by their
/// row share, green on the diagonal and red off it.
fn confusion_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, evaluation: &RunEvaluation) {
    ui.horizontal(|ui| {
        ui.strong("Confusion matrix");
        ui.selectable_value(&mut app.forms.eval_percent, true, "%");
        ui.selectable_value(&mut app.forms.eval_percent, false, "counts");
    });
    confusion_grid_ui(ui, "confusion", &evaluation.metrics, app.forms.eval_percent);
}

/// One confusion matrix (rows true labels, columns predictions plus "uncertain"), cells coloured
/// by their row share: green on the diagonal, red off it. Also used by the Optimize panel.
pub(super) fn confusion_grid_ui(
    ui: &mut egui::Ui,
    id: &str,
    metrics: &crate::nn::metrics::Evaluation,
    as_percent: bool,
) {
    let labels = &metrics.labels;
    let matrix = &metrics.confusion_matrix;
    let uncertain = &metrics.uncertain;
    let dark = ui.visuals().dark_mode;
    egui::Grid::new(id)
        .spacing([2.0, 2.0])
        .min_col_width(64.0)
        .show(ui, |ui| {
            ui.weak("true \\ predicted");
            for label in labels {
                ui.strong(label);
            }
            ui.strong("uncertain");
            ui.end_row();
            for (row_index, ((label, row), &unsure)) in
                labels.iter().zip(matrix).zip(uncertain).enumerate()
            {
                ui.strong(label);
                let row_total: usize = row.iter().sum::<usize>() + unsure;
                for (column, &count) in row.iter().chain([&unsure]).enumerate() {
                    let share = count as f32 / row_total.max(1) as f32;
                    let text = if as_percent {
                        format!("{:.1} %", share * 100.0)
                    } else {
                        count.to_string()
                    };
                    let color = cell_color(share, column == row_index, dark);
                    egui::Frame::new()
                        .fill(color)
                        .inner_margin(egui::Margin::symmetric(8, 4))
                        .show(ui, |ui| {
                            ui.set_min_width(48.0);
                            // Strong cells get white text so it stays readable on the colour.
                            let text = egui::RichText::new(text);
                            ui.label(if share > 0.5 {
                                text.color(egui::Color32::WHITE).strong()
                            } else {
                                text
                            });
                        });
                }
                ui.end_row();
            }
        });
}

fn cell_color(share: f32, diagonal: bool, dark: bool) -> egui::Color32 {
    let base = if dark {
        egui::Color32::from_gray(40)
    } else {
        egui::Color32::from_gray(235)
    };
    let accent = if diagonal {
        egui::Color32::from_rgb(60, 170, 90)
    } else {
        egui::Color32::from_rgb(220, 70, 60)
    };
    if share <= 0.0 {
        return base;
    }
    base.lerp_to_gamma(accent, (0.25 + 0.75 * share).min(1.0))
}

fn per_class_ui(ui: &mut egui::Ui, evaluation: &RunEvaluation) {
    ui.strong("Per class");
    egui::Grid::new("per_class")
        .striped(true)
        .num_columns(5)
        .spacing([16.0, 3.0])
        .show(ui, |ui| {
            for title in ["Label", "Precision", "Recall", "F1", "Windows"] {
                ui.strong(title);
            }
            ui.end_row();
            for (label, class) in evaluation.labels.iter().zip(&evaluation.metrics.per_class) {
                ui.label(label);
                ui.label(format!("{:.2}", class.precision));
                ui.label(format!("{:.2}", class.recall));
                ui.label(format!("{:.2}", class.f1));
                ui.label(class.support.to_string());
                ui.end_row();
            }
        });
}

fn misclassified_ui(
    ui: &mut egui::Ui,
    evaluation: &RunEvaluation,
    open: &mut Option<(SampleId, usize)>,
) {
    ui.strong(format!(
        "{} ({})",
        if evaluation.detection.is_some() {
            "Images with false or missed detections"
        } else {
            "Misclassified or uncertain windows"
        },
        evaluation.misclassified.len()
    ));
    if evaluation.misclassified.is_empty() {
        ui.label("None: every window was predicted right.");
        return;
    }
    ui.weak("Click one to open its sample in the Dataset panel.");
    egui::ScrollArea::vertical()
        .id_salt("misclassified")
        .max_height(260.0)
        .show(ui, |ui| {
            egui::Grid::new("misclassified_grid")
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    for title in ["Sample · window", "Label", "Predicted", "Confidence"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for m in &evaluation.misclassified {
                        if ui.link(format!("{} · {}", m.sample, m.window)).clicked() {
                            *open = Some((m.sample, m.window));
                        }
                        ui.label(&m.truth);
                        ui.label(&m.predicted);
                        ui.label(format!("{:.2}", m.confidence));
                        ui.end_row();
                    }
                });
        });
}

fn samples_ui(ui: &mut egui::Ui, evaluation: &RunEvaluation, open: &mut Option<(SampleId, usize)>) {
    ui.strong(format!("Samples ({})", evaluation.samples.len()));
    ui.weak("Majority vote over each sample's windows; anomaly = its highest window score.");
    egui::ScrollArea::vertical()
        .id_salt("sample_scores")
        .max_height(260.0)
        .show(ui, |ui| {
            egui::Grid::new("sample_scores_grid")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for title in ["Sample", "Label", "Predicted", "Agreement", "Anomaly"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for s in &evaluation.samples {
                        if ui.link(s.sample.to_string()).clicked() {
                            *open = Some((s.sample, 0));
                        }
                        ui.label(s.truth.as_deref().unwrap_or("(not trained)"));
                        ui.label(s.predicted.as_deref().unwrap_or("uncertain"));
                        ui.label(percent(Some(s.agreement)));
                        match s.max_anomaly {
                            Some(score) if score > evaluation.anomaly_threshold => {
                                ui.colored_label(
                                    ui.visuals().error_fg_color,
                                    format!("{score:.3}"),
                                );
                            }
                            Some(score) => {
                                ui.label(format!("{score:.3}"));
                            }
                            None => {
                                ui.weak("–");
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}
