//! The Dataset panel: every sample with its label, split and length; filter, select (click,
//! Ctrl+click, Shift+click), relabel, move between train and test, delete and undo; the class
//! balance per split; and a plot of the selected sample (an image's boxes in the box editor,
//! [`super::box_editor`]).

use super::app::TinyLabApp;
use super::dialogs::DialogPurpose;
use super::plot::{Trace, stacked_plots_ui};
use crate::project::formats::SampleFormat;
use crate::project::sample::{SampleId, SampleMeta, Split};
use crate::project::summarize;
use crate::protocol::{Command, SplitChoice};

/// Draws the Dataset panel.
pub fn dataset_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    if app.view.project.is_none() {
        ui.label("No project is open: create or open one in the Lab panel.");
        return;
    }
    keys(app, ui);
    egui::Panel::right("dataset_side")
        .resizable(true)
        .default_size(300.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                balance_ui(app, ui);
                ui.separator();
                selection_ui(app, ui);
                ui.separator();
                files_ui(app, ui);
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        filter_ui(app, ui);
        // With a sample selected, the table takes the top 40 % and its plot the rest.
        let table_height = if app.forms.focused.is_some() {
            (ui.available_height() * 0.4).max(120.0)
        } else {
            ui.available_height()
        };
        egui::ScrollArea::vertical()
            .id_salt("samples")
            .auto_shrink([false, true])
            .max_height(table_height)
            .show(ui, |ui| table_ui(app, ui));
        sample_plot_ui(app, ui);
    });
}

fn keys(app: &mut TinyLabApp, ui: &egui::Ui) {
    let typing = ui.ctx().egui_wants_keyboard_input();
    // With a box selected in the box editor, Delete removes the box instead.
    let editing_box = super::box_editor::has_selection(ui.ctx(), app.forms.focused);
    if !typing
        && !editing_box
        && ui.input(|i| i.key_pressed(egui::Key::Delete))
        && !app.forms.selected.is_empty()
    {
        let ids = app.forms.selected.iter().copied().collect();
        app.send(Command::Delete(ids));
    }
}

fn visible(app: &TinyLabApp) -> Vec<SampleMeta> {
    let text = app.forms.filter_text.to_lowercase();
    app.view
        .samples
        .iter()
        .filter(|s| {
            app.forms
                .filter_label
                .as_ref()
                .is_none_or(|l| &s.label == l)
        })
        .filter(|s| {
            text.is_empty()
                || s.id.to_string().contains(&text)
                || s.source.to_lowercase().contains(&text)
        })
        .cloned()
        .collect()
}

fn filter_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let name = ui.label("Show");
        let shown = app
            .forms
            .filter_label
            .clone()
            .unwrap_or_else(|| "all labels".into());
        egui::ComboBox::from_id_salt("filter_label")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.forms.filter_label, None, "all labels");
                for label in app.view.known_labels() {
                    ui.selectable_value(&mut app.forms.filter_label, Some(label.clone()), label);
                }
            })
            .response
            .labelled_by(name.id);
        let name = ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(&mut app.forms.filter_text)
                .hint_text("id or source")
                .desired_width(160.0),
        )
        .labelled_by(name.id);
        let shown = visible(app).len();
        ui.label(format!("{shown} of {} samples", app.view.samples.len()));
    });
}

fn table_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let rows = visible(app);
    egui::Grid::new("samples_grid")
        .striped(true)
        .num_columns(5)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            for title in ["Sample", "Label", "Split", "Length", "Source"] {
                ui.strong(title);
            }
            ui.end_row();
            for meta in &rows {
                let selected = app.forms.selected.contains(&meta.id);
                let response = ui.selectable_label(selected, meta.id.to_string());
                if response.clicked() {
                    let modifiers = ui.input(|i| i.modifiers);
                    click(app, &rows, meta.id, modifiers);
                }
                ui.label(&meta.label);
                ui.label(meta.split.as_str());
                ui.label(match meta.image {
                    Some(size) => format!("{} × {} px", size.width, size.height),
                    None => format!("{:.1} s", meta.duration_s()),
                });
                ui.label(&meta.source);
                ui.end_row();
            }
        });
    if rows.is_empty() {
        ui.label("No samples yet: record some in the Capture panel, or import files.");
    }
}

/// Click selects one; Ctrl+click toggles; Shift+click extends from the focused sample.
fn click(app: &mut TinyLabApp, rows: &[SampleMeta], id: SampleId, modifiers: egui::Modifiers) {
    let forms = &mut app.forms;
    if modifiers.command {
        if !forms.selected.remove(&id) {
            forms.selected.insert(id);
        }
    } else if modifiers.shift {
        let position = |target: Option<SampleId>| rows.iter().position(|m| Some(m.id) == target);
        if let (Some(a), Some(b)) = (position(forms.focused), position(Some(id))) {
            let (from, to) = if a <= b { (a, b) } else { (b, a) };
            forms
                .selected
                .extend(rows.iter().skip(from).take(to - from + 1).map(|m| m.id));
        }
    } else {
        forms.selected.clear();
        forms.selected.insert(id);
    }
    forms.focused = Some(id);
    forms.preview_window = 0;
    if let Some(meta) = rows.iter().find(|m| m.id == id) {
        forms.relabel.clone_from(&meta.label);
    }
    app.send(Command::LoadSample(id));
}

fn selection_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let ids: Vec<SampleId> = app.forms.selected.iter().copied().collect();
    ui.strong(match ids.len() {
        0 => "No sample selected".to_owned(),
        1 => "1 sample selected".to_owned(),
        n => format!("{n} samples selected"),
    });
    ui.add_enabled_ui(!ids.is_empty(), |ui| {
        ui.horizontal(|ui| {
            let name = ui.label("New label");
            ui.add(
                egui::TextEdit::singleline(&mut app.forms.relabel)
                    .desired_width(120.0)
                    .id_salt("relabel_text"),
            )
            .labelled_by(name.id);
            if ui.button("Relabel").clicked() {
                app.send(Command::Relabel {
                    ids: ids.clone(),
                    label: app.forms.relabel.trim().to_owned(),
                });
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Move to train").clicked() {
                app.send(Command::SetSplit {
                    ids: ids.clone(),
                    split: Split::Train,
                });
            }
            if ui.button("Move to test").clicked() {
                app.send(Command::SetSplit {
                    ids: ids.clone(),
                    split: Split::Test,
                });
            }
        });
        if ui
            .button("Delete")
            .on_hover_text("Delete key; undo with Ctrl+Z")
            .clicked()
        {
            app.send(Command::Delete(ids.clone()));
        }
        split_button_ui(app, ui, &ids);
    });
    let undo = app.view.undo.clone();
    let text = undo
        .as_ref()
        .map_or("Undo".to_owned(), |what| format!("Undo {what}"));
    if ui
        .add_enabled(undo.is_some(), egui::Button::new(text))
        .on_hover_text("Ctrl+Z")
        .clicked()
    {
        app.send(Command::Undo);
    }
}

fn balance_ui(app: &TinyLabApp, ui: &mut egui::Ui) {
    let summary = summarize(&app.view.samples);
    ui.strong(format!(
        "{} samples, {:.0} s in total",
        summary.samples, summary.total_seconds
    ));
    let max_s = summary
        .by_label
        .values()
        .map(|c| c.train_seconds + c.test_seconds)
        .fold(1.0_f64, f64::max);
    egui::Grid::new("balance").num_columns(3).show(ui, |ui| {
        for (label, counts) in &summary.by_label {
            ui.label(label);
            let total = counts.train_seconds + counts.test_seconds;
            ui.add(
                egui::ProgressBar::new((total / max_s) as f32)
                    .desired_width(110.0)
                    .text(format!("{total:.0} s")),
            );
            ui.label(format!(
                "{} train / {} test",
                counts.train_samples, counts.test_samples
            ));
            ui.end_row();
        }
    });
    let test_s: f64 = summary.by_label.values().map(|c| c.test_seconds).sum();
    if summary.total_seconds > 0.0 {
        ui.label(format!(
            "Split: {:.0} % train / {:.0} % test",
            100.0 * (1.0 - test_s / summary.total_seconds),
            100.0 * test_s / summary.total_seconds
        ));
    }
}

fn files_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.strong("Files");
    ui.horizontal(|ui| {
        ui.label("Import to");
        ui.selectable_value(&mut app.forms.import_split, SplitChoice::Auto, "auto 80/20");
        ui.selectable_value(
            &mut app.forms.import_split,
            SplitChoice::Fixed(Split::Train),
            "train",
        );
        ui.selectable_value(
            &mut app.forms.import_split,
            SplitChoice::Fixed(Split::Test),
            "test",
        );
    });
    if super::audio_ui::is_audio_project(app) {
        if ui.button("Import WAV files…").clicked() {
            app.open_dialog(DialogPurpose::ImportFiles);
        }
        if ui
            .button("Import folder of labels…")
            .on_hover_text(
                "A folder with one subfolder per label, e.g. yes/, no/ (Speech Commands)",
            )
            .clicked()
        {
            app.open_dialog(DialogPurpose::ImportFolder);
        }
        noise_mix_ui(app, ui);
    } else if ui.button("Import CSV / Edge Impulse JSON…").clicked() {
        app.open_dialog(DialogPurpose::ImportFiles);
    }
    ui.horizontal(|ui| {
        ui.label("Export as");
        ui.selectable_value(&mut app.forms.export_format, SampleFormat::Csv, "CSV");
        ui.selectable_value(
            &mut app.forms.export_format,
            SampleFormat::EiJson,
            "Edge Impulse JSON",
        );
    });
    if ui.button("Export dataset…").clicked() {
        app.open_dialog(DialogPurpose::ExportFolder);
    }
}

fn sample_plot_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(focused) = app.forms.focused else {
        return;
    };
    if let Some((id, width, height, rgb)) = &app.view.loaded_image
        && *id == focused
    {
        let (id, size, rgb) = (*id, [*width, *height], rgb.clone());
        return sample_image_ui(app, ui, id, size, &rgb);
    }
    let Some((id, series)) = &app.view.loaded else {
        return;
    };
    if *id != focused {
        return;
    }
    let label = app
        .view
        .samples
        .iter()
        .find(|s| s.id == *id)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    ui.separator();
    ui.strong(format!(
        "{id} — {label} — {} readings at {} Hz",
        series.readings(),
        series.rate_hz
    ));
    if super::audio_ui::is_audio_project(app) {
        let (id, series) = (*id, series.clone());
        return super::audio_ui::sample_waveform_ui(app, ui, id, &series);
    }
    let rate_hz = series.rate_hz.max(1e-9);
    let traces = series
        .axes
        .iter()
        .enumerate()
        .map(|(axis, name)| Trace::new(name, (0..).zip(series.axis(axis)), rate_hz))
        .collect();
    let units = app.view.sensor_units();
    stacked_plots_ui(
        ui,
        "sample_plot",
        traces,
        None,
        "time (s)",
        &units,
        ui.available_height(),
    );
}

/// An image sample: its label and size, and the picture (uploaded once per sample as a texture
/// kept in egui's memory; the engine decoded it).
fn sample_image_ui(
    app: &mut TinyLabApp,
    ui: &mut egui::Ui,
    id: SampleId,
    [width, height]: [u32; 2],
    rgb: &[u8],
) {
    let label = app
        .view
        .samples
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    ui.separator();
    ui.strong(format!("{id} — {label} — {width} × {height} pixels"));
    let key = egui::Id::unique("sample_image_texture");
    let cached: Option<(SampleId, egui::TextureHandle)> = ui.data(|d| d.get_temp(key));
    let texture = match cached {
        Some((shown, texture)) if shown == id => texture,
        _ => {
            let size = [width as usize, height as usize];
            if size[0] * size[1] * 3 != rgb.len() {
                return;
            }
            let image = egui::ColorImage::from_rgb(size, rgb);
            let texture =
                ui.ctx()
                    .load_texture(format!("sample {id}"), image, egui::TextureOptions::NEAREST);
            ui.data_mut(|d| d.insert_temp(key, (id, texture.clone())));
            texture
        }
    };
    // Small images (a model's 96 × 96) are shown enlarged, large ones fit the panel.
    let scale = (ui.available_width() / width.max(1) as f32)
        .min(ui.available_height().max(96.0) / height.max(1) as f32)
        .clamp(0.1, 4.0);
    let alt_text = format!("{label} image {id}");
    // Object detection projects (a FOMO model, or any image with boxes) edit boxes on the picture.
    let detection = app
        .view
        .project
        .as_ref()
        .is_some_and(|p| p.object_detection)
        || app.view.samples.iter().any(|s| !s.boxes.is_empty());
    if detection {
        super::box_editor::box_editor_ui(app, ui, id, [width, height], &texture, scale, alt_text);
        return;
    }
    let size = egui::vec2(width as f32 * scale, height as f32 * scale);
    ui.add(egui::Image::new((texture.id(), size)).alt_text(alt_text));
}

/// Background-noise mixing: noisy copies of every training sample, at a chosen SNR.
fn noise_mix_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("Mix in background noise")
        .id_salt("noise_mix")
        .show(ui, |ui| {
            let labels = app.view.known_labels();
            let form = &mut app.forms.noise_mix;
            ui.horizontal(|ui| {
                let name = ui.label("Noise label");
                egui::ComboBox::from_id_salt("noise_label")
                    .selected_text(form.label.clone())
                    .show_ui(ui, |ui| {
                        for label in &labels {
                            ui.selectable_value(&mut form.label, label.clone(), label);
                        }
                    })
                    .response
                    .labelled_by(name.id);
            });
            ui.horizontal(|ui| {
                let name = ui.label("SNR");
                ui.add(
                    egui::DragValue::new(&mut form.snr_db)
                        .range(-10.0..=40.0)
                        .suffix(" dB"),
                )
                .labelled_by(name.id);
                let name = ui.label("copies");
                ui.add(egui::DragValue::new(&mut form.copies).range(1..=10))
                    .labelled_by(name.id);
            });
            let command = Command::MixNoise {
                noise_label: form.label.clone(),
                snr_db: form.snr_db,
                copies: form.copies,
            };
            if ui
                .button("Add noisy copies of the training samples")
                .on_hover_text(
                    "Each training sample of the other labels gets copies with a stretch of a noise \
                     recording mixed in at this signal-to-noise ratio (Ctrl+Z removes them)",
                )
                .clicked()
            {
                app.send(command);
            }
        });
}

/// "Split into words" for one selected audio sample: opens the split review window.
fn split_button_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, ids: &[SampleId]) {
    let [id] = ids else { return };
    let Some(meta) = app.view.samples.iter().find(|s| s.id == *id) else {
        return;
    };
    if meta.axes.len() != 1 || meta.sensor != crate::project::MICROPHONE {
        return;
    }
    let label = meta.label.clone();
    if ui
        .button("Split into words")
        .on_hover_text("Find each spoken word and cut a clip around it, to review")
        .clicked()
    {
        super::split_review::open_split(app, *id, &label);
    }
}
