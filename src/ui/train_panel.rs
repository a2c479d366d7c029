//! The Train panel: the model preset and its layers (each with its output shape, parameters and
//! MACs), the training settings, the K-means anomaly detector, and the Train button; on the right
//! the loss and accuracy curves of training and validation, drawn live epoch by epoch, with an
//! earlier run overlaid for comparison, and the list of saved runs.

use super::app::TinyLabApp;
use super::settings_form::settings_grid_ui;
use crate::models::{self, ModelSettings};
use crate::nn::Layer;
use crate::nn::augment::Augmentation;
use crate::nn::optim::Optimizer;
use crate::nn::train::{EarlyStopping, EpochReport};
use crate::protocol::{Command, JobId, Level, percent};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};

/// Layers the "Add layer" menu offers, as preset TOML would write them.
const NEW_LAYERS: &[(&str, &str)] = &[
    ("dense", r#"{"type": "dense", "units": 16}"#),
    ("relu", r#"{"type": "relu"}"#),
    ("dropout", r#"{"type": "dropout", "rate": 0.25}"#),
    (
        "conv1d",
        r#"{"type": "conv1d", "filters": 8, "kernel_size": 3}"#,
    ),
    ("max pool 1-D", r#"{"type": "max_pool1d", "pool_size": 2}"#),
    (
        "conv2d",
        r#"{"type": "conv2d", "filters": 8, "kernel_size": [3, 3]}"#,
    ),
    (
        "max pool 2-D",
        r#"{"type": "max_pool2d", "pool_size": [2, 2]}"#,
    ),
    ("batch norm", r#"{"type": "batch_norm"}"#),
    ("flatten", r#"{"type": "flatten"}"#),
    ("global average pool", r#"{"type": "global_avg_pool"}"#),
];

/// Draws the Train panel.
pub fn train_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(project) = app.view.project.clone() else {
        ui.label("No project is open: create or open one in the Lab panel.");
        return;
    };
    let settings = project.settings.model;
    egui::Panel::left("train_settings")
        .resizable(true)
        .default_size(330.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                train_button_ui(app, ui);
                ui.separator();
                preset_ui(app, ui, &settings);
                ui.separator();
                training_ui(app, ui, &settings, project.settings.dsp.name());
                ui.separator();
                anomaly_ui(app, ui, &settings);
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            curves_ui(app, ui);
            ui.separator();
            runs_ui(app, ui);
            ui.separator();
            layers_ui(app, ui, &settings);
        });
    });
}

/// The running training job, if any.
fn training_job(app: &TinyLabApp) -> Option<(JobId, f32, String)> {
    app.view
        .jobs
        .iter()
        .find(|(_, job)| job.name.starts_with("training"))
        .map(|(id, job)| (*id, job.fraction, job.message.clone()))
}

fn train_button_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    match training_job(app) {
        Some((id, fraction, message)) => {
            ui.add(egui::ProgressBar::new(fraction).text(message));
            if ui.button("Cancel training").clicked() {
                app.send(Command::CancelJob(id));
            }
        }
        None => {
            let train = ui.add_sized(
                [ui.available_width(), 32.0],
                egui::Button::new(egui::RichText::new("Start training").strong()),
            );
            if train.on_hover_text("Train a new run (Ctrl+T)").clicked()
                || ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::T))
            {
                app.send(Command::Train {
                    epochs: None,
                    seed: None,
                });
            }
        }
    }
}

fn set_model(app: &mut TinyLabApp, settings: ModelSettings) {
    app.send(Command::SetModel(Box::new(settings)));
}

fn preset_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, settings: &ModelSettings) {
    ui.heading("Model");
    let label = ui.label("Preset");
    let mut chosen = settings.preset.clone();
    egui::ComboBox::from_id_salt("model_preset")
        .selected_text(preset_title(&settings.preset))
        .show_ui(ui, |ui| {
            for id in models::preset_ids() {
                ui.selectable_value(&mut chosen, id.to_owned(), preset_title(id));
            }
        })
        .response
        .labelled_by(label.id);
    if let Ok(preset) = models::preset(&settings.preset) {
        ui.weak(&preset.description);
    }
    if chosen != settings.preset {
        let mut changed = settings.clone();
        match changed.use_preset(&chosen) {
            Ok(()) => set_model(app, changed),
            Err(e) => app.view.notify(Level::Error, e.to_string()),
        }
    }
    if !settings.layers.is_empty() {
        ui.horizontal(|ui| {
            ui.label("Layers edited.");
            if ui.button("Back to the preset's layers").clicked() {
                let mut changed = settings.clone();
                changed.layers.clear();
                set_model(app, changed);
            }
        });
    }
}

fn preset_title(id: &str) -> String {
    models::preset(id).map_or_else(|_| id.to_owned(), |p| p.name)
}

fn training_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, settings: &ModelSettings, block: &str) {
    ui.heading("Training");
    let mut config = settings.training.clone();
    egui::Grid::new("train_config")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            labelled(ui, "Epochs", |ui| {
                ui.add(egui::DragValue::new(&mut config.epochs).range(1..=10_000))
            });
            labelled(ui, "Learning rate", |ui| {
                ui.add(
                    egui::DragValue::new(&mut config.learning_rate)
                        .range(0.000_001..=1.0)
                        .speed(0.0001)
                        .max_decimals(6),
                )
            });
            labelled(ui, "Batch size", |ui| {
                ui.add(egui::DragValue::new(&mut config.batch_size).range(1..=4096))
            });
            labelled(ui, "Validation share", |ui| {
                ui.add(egui::Slider::new(&mut config.validation_share, 0.0..=0.5).step_by(0.05))
            });
            labelled(ui, "Optimizer", |ui| {
                let adam = matches!(config.optimizer, Optimizer::Adam { .. });
                let mut choice = adam;
                let response = egui::ComboBox::from_id_salt("optimizer")
                    .selected_text(if adam { "Adam" } else { "SGD with momentum" })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut choice, true, "Adam");
                        ui.selectable_value(&mut choice, false, "SGD with momentum");
                    })
                    .response;
                if choice != adam {
                    config.optimizer = if choice {
                        Optimizer::default()
                    } else {
                        Optimizer::Sgd {
                            momentum: 0.9,
                            nesterov: false,
                        }
                    };
                }
                response
            });
            labelled(ui, "Early stopping", |ui| {
                let mut on = config.early_stopping.is_some();
                let response = ui.checkbox(&mut on, "on validation loss");
                if on != config.early_stopping.is_some() {
                    config.early_stopping = on.then(EarlyStopping::default);
                }
                response
            });
            if let Some(early) = &mut config.early_stopping {
                labelled(ui, "Patience (epochs)", |ui| {
                    ui.add(egui::DragValue::new(&mut early.patience).range(1..=1000))
                });
            }
            labelled(ui, "Balance classes", |ui| {
                ui.checkbox(&mut config.class_weights, "weight rare classes up")
            });
            labelled(ui, "Seed", |ui| {
                ui.add(egui::DragValue::new(&mut config.seed))
            });
        });
    let relevant: &[&str] = match block {
        "mfcc" | "mfe" | "spectrogram" => AUDIO_AUGMENTATIONS,
        "image" => IMAGE_AUGMENTATIONS,
        _ => &["noise_std"],
    };
    let fields = serde_json::to_value(Augmentation::default()).unwrap_or_default();
    let hidden: Vec<&str> = fields
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .map(String::as_str)
        .filter(|name| !relevant.contains(name))
        .collect();
    egui::CollapsingHeader::new("Augmentation")
        .id_salt("augmentation")
        .show(ui, |ui| {
            match settings_grid_ui::<Augmentation>(
                ui,
                "augmentation_grid",
                &config.augmentation,
                &hidden,
            ) {
                Some(Ok(augmentation)) => config.augmentation = augmentation,
                Some(Err(e)) => app.view.notify(Level::Error, e),
                None => {}
            }
        });
    egui::CollapsingHeader::new("Advanced")
        .id_salt("advanced_training")
        .show(ui, |ui| {
            match settings_grid_ui::<Optimizer>(ui, "optimizer_grid", &config.optimizer, &["type"]) {
                Some(Ok(optimizer)) => config.optimizer = optimizer,
                Some(Err(e)) => app.view.notify(Level::Error, e),
                None => {}
            }
            egui::Grid::new("shards").num_columns(2).show(ui, |ui| {
                labelled(ui, "Batch shards", |ui| {
                    ui.add(egui::DragValue::new(&mut config.shards).range(1..=16))
                        .on_hover_text("Each batch is split in this many parts computed in parallel; fixed so results do not depend on the machine")
                });
            });
        });
    if config != settings.training {
        let mut changed = settings.clone();
        changed.training = config;
        set_model(app, changed);
    }
}

/// The augmentations that make sense for audio features (`[frames, coefficients]`).
const AUDIO_AUGMENTATIONS: &[&str] = &[
    "noise_std",
    "time_shift_max",
    "time_masks",
    "time_mask_width",
    "freq_masks",
    "freq_mask_width",
];

/// The augmentations that make sense for images (`[H, W, C]`).
const IMAGE_AUGMENTATIONS: &[&str] = &["noise_std", "flip_horizontal", "crop_share", "brightness"];

/// A grid row: a label and the widget `add` draws, named by the label for screen readers.
fn labelled(ui: &mut egui::Ui, text: &str, add: impl FnOnce(&mut egui::Ui) -> egui::Response) {
    let label = ui.label(text);
    add(ui).labelled_by(label.id);
    ui.end_row();
}

fn anomaly_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, settings: &ModelSettings) {
    ui.heading("Anomaly detection (K-means)");
    let mut changed = settings.anomaly.clone();
    ui.checkbox(&mut changed.enabled, "Train an anomaly detector");
    if changed.enabled {
        ui.horizontal(|ui| {
            let label = ui.label("Clusters");
            ui.add(egui::DragValue::new(&mut changed.clusters).range(1..=256))
                .labelled_by(label.id);
        });
        let names = match &app.view.model {
            Some(Ok(model)) => model.feature_names.clone(),
            _ => Vec::new(),
        };
        let chosen = changed.feature_indices(&names);
        ui.label(format!(
            "Features: {} of {}{}",
            chosen.len(),
            names.len(),
            if changed.features.is_empty() {
                " (each axis's RMS, as the book picks)"
            } else {
                ""
            }
        ));
        egui::CollapsingHeader::new("Choose features")
            .id_salt("anomaly_features")
            .show(ui, |ui| {
                if names.is_empty() {
                    ui.weak("Record or import a sample to choose among its features.");
                }
                egui::ScrollArea::vertical()
                    .max_height(220.0)
                    .show(ui, |ui| {
                        for (index, name) in names.iter().enumerate() {
                            let mut on = chosen.contains(&index);
                            if ui.checkbox(&mut on, name).changed() {
                                let mut list: Vec<String> = chosen
                                    .iter()
                                    .filter_map(|&i| names.get(i).cloned())
                                    .collect();
                                if on {
                                    list.push(name.clone());
                                } else {
                                    list.retain(|n| n != name);
                                }
                                changed.features = list;
                            }
                        }
                    });
                if ui.button("Use each axis's RMS").clicked() {
                    changed.features.clear();
                }
            });
    }
    if changed != settings.anomaly {
        let mut model = settings.clone();
        model.anomaly = changed;
        set_model(app, model);
    }
}

/// The layer table with shapes, parameters and MACs, and the layer editor.
fn layers_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, settings: &ModelSettings) {
    ui.heading("Layers");
    match &app.view.model {
        Some(Ok(model)) => {
            ui.label(format!(
                "Input {:?}, {} classes",
                model.input_shape, model.classes
            ));
            egui::Grid::new("layer_summary")
                .striped(true)
                .num_columns(4)
                .spacing([24.0, 3.0])
                .show(ui, |ui| {
                    for title in ["Layer", "Output shape", "Parameters", "MACs"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for layer in &model.layers {
                        ui.label(&layer.name);
                        ui.label(format!("{:?}", layer.output_shape));
                        ui.label(layer.params.to_string());
                        ui.label(layer.macs.to_string());
                        ui.end_row();
                    }
                    ui.strong("Total");
                    ui.label("");
                    ui.strong(
                        model
                            .layers
                            .iter()
                            .map(|l| l.params)
                            .sum::<usize>()
                            .to_string(),
                    );
                    ui.strong(model.layers.iter().map(|l| l.macs).sum::<u64>().to_string());
                    ui.end_row();
                });
        }
        Some(Err(why)) => {
            ui.colored_label(ui.visuals().warn_fg_color, why);
        }
        None => {
            ui.weak("Open a project with samples to see the model's shapes.");
        }
    }
    egui::CollapsingHeader::new("Edit layers")
        .id_salt("edit_layers")
        .show(ui, |ui| layer_editor_ui(app, ui, settings));
}

fn layer_editor_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, settings: &ModelSettings) {
    let layers = match settings.body() {
        Ok(layers) => layers,
        Err(e) => {
            ui.label(e.to_string());
            return;
        }
    };
    ui.weak("The classifier head (dense to the number of classes, softmax) is added after these.");
    let mut edited: Option<Vec<Layer>> = None;
    for (index, layer) in layers.iter().enumerate() {
        ui.push_id(index, |ui| {
            ui.horizontal(|ui| {
                ui.strong(format!("{}. {}", index + 1, layer_type(layer)));
                if ui.small_button("Remove").clicked() {
                    let mut list = layers.clone();
                    list.remove(index);
                    edited = Some(list);
                }
                if index > 0 && ui.small_button("Move up").clicked() {
                    let mut list = layers.clone();
                    list.swap(index, index - 1);
                    edited = Some(list);
                }
            });
            let skip = [
                "type",
                "weights",
                "bias",
                "gamma",
                "beta",
                "moving_mean",
                "moving_variance",
            ];
            match settings_grid_ui::<Layer>(ui, &format!("layer_{index}"), layer, &skip) {
                Some(Ok(new_layer)) => {
                    let mut list = layers.clone();
                    if let Some(slot) = list.get_mut(index) {
                        *slot = new_layer;
                    }
                    edited = Some(list);
                }
                Some(Err(e)) => app.view.notify(Level::Error, e),
                None => {}
            }
        });
    }
    ui.menu_button("Add layer", |ui| {
        for (title, json) in NEW_LAYERS {
            if ui.button(*title).clicked()
                && let Ok(layer) = serde_json::from_str::<Layer>(json)
            {
                let mut list = layers.clone();
                list.push(layer);
                edited = Some(list);
            }
        }
    });
    if let Some(list) = edited {
        let mut changed = settings.clone();
        changed.layers = list;
        set_model(app, changed);
    }
}

/// The layer's type as the preset file writes it (`dense`, `conv1d`, …).
fn layer_type(layer: &Layer) -> String {
    serde_json::to_value(layer)
        .ok()
        .and_then(|v| v.get("type")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Loss and accuracy per epoch, training and validation, live; a second run overlaid.
fn curves_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let (current_id, current): (String, Vec<EpochReport>) =
        match (&app.view.training, &app.view.run) {
            (Some(live), _) => (live.run.clone(), live.history.clone()),
            (None, Some(run)) => (run.id.clone(), run.history.clone()),
            (None, None) => {
                ui.heading("Training curves");
                ui.label(
                    "Press Start training (Ctrl+T): loss and accuracy appear here epoch by epoch.",
                );
                return;
            }
        };
    ui.horizontal(|ui| {
        ui.heading(format!("Training curves: {current_id}"));
        let label = ui.label("compare with");
        let shown = app
            .forms
            .compare_run
            .clone()
            .unwrap_or_else(|| "none".into());
        egui::ComboBox::from_id_salt("compare_run")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.forms.compare_run, None, "none");
                for run in &app.view.runs {
                    if run.id != current_id {
                        ui.selectable_value(
                            &mut app.forms.compare_run,
                            Some(run.id.clone()),
                            &run.id,
                        );
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    if let Some(last) = current.last() {
        ui.label(format!(
            "epoch {}/{}: loss {:.3}, accuracy {:.1} %{}",
            last.epoch,
            last.epochs,
            last.train_loss,
            last.train_accuracy * 100.0,
            match (last.val_loss, last.val_accuracy) {
                (Some(l), Some(a)) =>
                    format!("; validation loss {l:.3}, accuracy {:.1} %", a * 100.0),
                _ => String::new(),
            }
        ));
    }
    let compare = app
        .forms
        .compare_run
        .as_ref()
        .and_then(|id| app.view.runs.iter().find(|r| &r.id == id))
        .map(|r| (r.id.clone(), r.history.clone()));
    let width = (ui.available_width() - 12.0) / 2.0;
    ui.horizontal(|ui| {
        for (title, pick) in [("Loss", Metric::Loss), ("Accuracy", Metric::Accuracy)] {
            ui.vertical(|ui| {
                ui.strong(title);
                Plot::new(("curve", title))
                    .width(width)
                    .height(220.0)
                    .legend(Legend::default())
                    .x_axis_label("epoch")
                    .allow_scroll(false)
                    .show(ui, |plot| {
                        for line in curve_lines(&current_id, &current, pick, false) {
                            plot.line(line);
                        }
                        if let Some((id, history)) = &compare {
                            for line in curve_lines(id, history, pick, true) {
                                plot.line(line);
                            }
                        }
                    });
            });
        }
    });
}

#[derive(Clone, Copy)]
enum Metric {
    Loss,
    Accuracy,
}

fn curve_lines(
    run: &str,
    history: &[EpochReport],
    metric: Metric,
    faded: bool,
) -> Vec<Line<'static>> {
    let pick_train = |e: &EpochReport| match metric {
        Metric::Loss => Some(e.train_loss),
        Metric::Accuracy => Some(e.train_accuracy),
    };
    let pick_val = |e: &EpochReport| match metric {
        Metric::Loss => e.val_loss,
        Metric::Accuracy => e.val_accuracy,
    };
    let points = |pick: &dyn Fn(&EpochReport) -> Option<f32>| -> PlotPoints<'static> {
        history
            .iter()
            .filter_map(|e| Some([e.epoch as f64, f64::from(pick(e)?)]))
            .collect()
    };
    let (train_color, val_color) = if faded {
        (
            egui::Color32::from_rgb(150, 150, 170),
            egui::Color32::from_rgb(200, 170, 120),
        )
    } else {
        (
            egui::Color32::from_rgb(90, 150, 235),
            egui::Color32::from_rgb(235, 140, 50),
        )
    };
    let style = if faded {
        LineStyle::dashed_loose()
    } else {
        LineStyle::Solid
    };
    vec![
        Line::new(format!("{run} training"), points(&pick_train))
            .color(train_color)
            .style(style),
        Line::new(format!("{run} validation"), points(&pick_val))
            .color(val_color)
            .style(style),
    ]
}

fn runs_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.heading("Runs");
    if app.view.runs.is_empty() {
        ui.label("No runs yet.");
        return;
    }
    let shown = app.view.run.as_ref().map(|r| r.id.clone());
    let mut show = None;
    egui::Grid::new("runs")
        .striped(true)
        .num_columns(6)
        .spacing([18.0, 3.0])
        .show(ui, |ui| {
            for title in ["Run", "Model", "Epochs", "Validation", "Test", "Ended"] {
                ui.strong(title);
            }
            ui.end_row();
            for run in app.view.runs.iter().rev() {
                if ui
                    .selectable_label(shown.as_deref() == Some(run.id.as_str()), &run.id)
                    .on_hover_text("Show this run here and in Evaluate")
                    .clicked()
                {
                    show = Some(run.id.clone());
                }
                ui.label(&run.preset);
                ui.label(run.epochs.to_string());
                ui.label(percent(run.val_accuracy));
                ui.label(percent(run.test_accuracy));
                ui.label(&run.stopped);
                ui.end_row();
            }
        });
    if let Some(run) = show {
        app.send(Command::ShowRun {
            run,
            set: app.forms.eval_set,
        });
    }
}
