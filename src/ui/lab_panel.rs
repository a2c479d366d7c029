//! The Lab panel: the open project's lab — its steps, each with a check mark computed from the
//! project's real state and a button to the panel where it happens, the book's results beside the
//! student's, and the lab's settings — and the place to create a project from a lab preset, open
//! one, or go back to the demo.

use super::app::{TinyLabApp, demo_project_dir};
use super::dialogs::DialogPurpose;
use super::tab::Tab;
use crate::lab_guide::{LabState, RunState, evaluate_steps};
use crate::labs;
use crate::protocol::Command;
use std::path::PathBuf;

/// Draws the Lab panel.
pub fn lab_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        current_lab_ui(app, ui);
        ui.add_space(12.0);
        ui.separator();
        new_project_ui(app, ui);
        ui.add_space(12.0);
        ui.separator();
        open_project_ui(app, ui);
    });
}

fn current_lab_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(project) = app.view.project.clone() else {
        ui.heading("No project open");
        ui.label("Create a project from one of the book's labs below, or open the demo project.");
        return;
    };
    let settings = &project.settings;
    let lab = labs::lab(&settings.lab).ok();
    ui.heading(
        lab.as_ref()
            .map_or(settings.lab.clone(), |l| l.title.clone()),
    );
    ui.label(format!(
        "Project \"{}\" in {}",
        settings.name,
        project.dir.display()
    ));
    if let Some(lab) = &lab {
        ui.label(lab.summary.trim());
        let kits = labs::kits();
        let names: Vec<&str> = lab
            .kits
            .iter()
            .map(|id| {
                kits.iter()
                    .find(|k| &k.id == id)
                    .map_or(id.as_str(), |k| k.name.as_str())
            })
            .collect();
        ui.label(format!("Kits: {}", names.join(", ")));
        ui.add_space(6.0);
        let state = lab_state(app, &settings.capture.labels);
        steps_ui(app, ui, lab, &state);
        ui.add_space(6.0);
        results_ui(ui, &lab.book, &state);
    }
    ui.add_space(6.0);
    egui::CollapsingHeader::new("Lab settings")
        .show(ui, |ui| settings_grid_ui(ui, settings, lab.as_ref()));
}

/// What the checks look at, from what the engine has told the window.
fn lab_state(app: &TinyLabApp, labels: &[String]) -> LabState {
    let view = &app.view;
    let run = view.runs.last().map(|run| RunState {
        id: run.id.clone(),
        validation_accuracy: run.val_accuracy.map(f64::from),
        test_accuracy: run.test_accuracy.map(f64::from),
        quantized: view
            .quantized
            .as_ref()
            .filter(|q| q.run == run.id)
            .map(|q| (q.float.accuracy, q.int8.accuracy)),
        deployed_to: run.deployed_to.clone(),
    });
    LabState {
        labels: labels.to_vec(),
        dataset: crate::project::summarize(&view.samples),
        features_current: view.features.is_some() && !view.features_stale,
        run,
    }
}

fn steps_ui(app: &mut TinyLabApp, ui: &mut egui::Ui, lab: &labs::LabPreset, state: &LabState) {
    let (results, done, total) = evaluate_steps(&lab.steps, state);
    ui.horizontal(|ui| {
        ui.strong("Steps");
        ui.add(
            egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                .desired_width(200.0)
                .text(format!("{done} of {total} done")),
        );
    });
    let current = results
        .iter()
        .position(|r| r.as_ref().is_some_and(|r| !r.passed));
    let (green, dim) = (
        egui::Color32::from_rgb(60, 170, 90),
        ui.visuals().weak_text_color(),
    );
    for (index, (step, result)) in lab.steps.iter().zip(&results).enumerate() {
        ui.horizontal(|ui| {
            // A filled green dot for a passed check, a hollow one for a step to do (painted:
            // the default fonts have no check-mark glyph).
            // A step with no automatic check gets a small dash: the student's to tick.
            let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
            match result {
                Some(r) if r.passed => ui.painter().circle_filled(rect.center(), 5.5, green),
                Some(_) => {
                    ui.painter()
                        .circle_stroke(rect.center(), 5.0, egui::Stroke::new(1.5, dim))
                }
                None => ui.painter().hline(
                    rect.center().x - 4.0..=rect.center().x + 4.0,
                    rect.center().y,
                    egui::Stroke::new(1.5, dim),
                ),
            };
            ui.strong(format!("{}. {}", index + 1, step.title));
            let tab = Tab::of_panel(step.panel);
            if ui.small_button(format!("Open {}", tab.title())).clicked() {
                app.state.tab = tab;
            }
            match result {
                Some(r) if !r.detail.is_empty() => {
                    ui.weak(&r.detail);
                }
                Some(_) => {}
                None => {
                    ui.weak("no automatic check");
                }
            }
        });
        if Some(index) == current {
            ui.indent(("step_text", index), |ui| {
                ui.label(step.text.trim());
            });
        }
    }
}

/// The book's figures beside the student's latest run.
fn results_ui(ui: &mut egui::Ui, book: &toml::Table, state: &LabState) {
    ui.strong("The book's results and yours");
    let run = state.run.as_ref();
    egui::Grid::new("book_results")
        .striped(true)
        .num_columns(3)
        .spacing([24.0, 3.0])
        .show(ui, |ui| {
            ui.strong("");
            ui.strong("Book");
            ui.strong(run.map_or("Yours".to_owned(), |r| format!("Yours ({})", r.id)));
            ui.end_row();
            for (key, value) in book {
                let yours = match key.as_str() {
                    "validation_accuracy_percent" => run.and_then(|r| r.validation_accuracy),
                    "test_accuracy_percent" => run.and_then(|r| r.test_accuracy),
                    _ => None,
                };
                ui.label(key.replace('_', " ").replace(" percent", " (%)"));
                ui.label(book_value(value));
                ui.label(yours.map_or("–".to_owned(), |v| format!("{:.1}", v * 100.0)));
                ui.end_row();
            }
        });
}

/// `[98.5, 100.0]` → `98.5–100`; other values as TOML writes them.
fn book_value(value: &toml::Value) -> String {
    match value {
        toml::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                toml::Value::Float(f) => format!("{f}"),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("–"),
        toml::Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

/// Sensor, sampling, classes, sample length and window of a time-series project.
fn time_series_rows_ui(ui: &mut egui::Ui, settings: &crate::project::ProjectFile) {
    let s = &settings.sensor;
    row(
        ui,
        "Sensor",
        format!("{} ({}) in {}", s.kind, s.axes.join(", "), s.units),
    );
    row(ui, "Sampling", format!("{} Hz, {} baud", s.rate_hz, s.baud));
    row(ui, "Classes", settings.capture.labels.join(", "));
    row(
        ui,
        "Samples",
        format!(
            "{} s each, about {} s per class",
            settings.capture.sample_seconds, settings.capture.target_seconds_per_class
        ),
    );
    let i = &settings.impulse;
    row(
        ui,
        "Window",
        format!(
            "{} ms, increase {} ms, zero-pad {}",
            i.window_ms,
            i.window_increase_ms,
            if i.zero_pad { "on" } else { "off" }
        ),
    );
}

fn settings_grid_ui(
    ui: &mut egui::Ui,
    settings: &crate::project::ProjectFile,
    lab: Option<&labs::LabPreset>,
) {
    egui::Grid::new("lab_settings")
        .num_columns(2)
        .striped(true)
        .max_col_width((ui.available_width() - 140.0).max(200.0))
        .show(ui, |ui| {
            let s = &settings.sensor;
            if s.kind == crate::project::CAMERA {
                // Images have no axes, rate or windows: one image is one sample.
                row(
                    ui,
                    "Sensor",
                    "camera or image files (PNG, JPEG, BMP)".to_owned(),
                );
                row(ui, "Classes", settings.capture.labels.join(", "));
            } else {
                time_series_rows_ui(ui, settings);
            }
            row(
                ui,
                "Processing",
                format!(
                    "{}: {}",
                    settings.dsp.title(),
                    settings
                        .dsp
                        .parameters()
                        .iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            row(ui, "Model", settings.model.describe());
            if let Some(lab) = lab {
                row(ui, "Book results", table_summary(&lab.book));
            }
        });
}

fn row(ui: &mut egui::Ui, name: &str, value: String) {
    ui.strong(name);
    ui.add(egui::Label::new(value).wrap());
    ui.end_row();
}

fn table_summary(table: &toml::Table) -> String {
    table
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn new_project_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.heading("New project from a lab");
    let kits = labs::kits();
    let kit_name = |id: &str| {
        kits.iter()
            .find(|k| k.id == id)
            .map_or("Any kit (the kit-independent labs)".to_owned(), |k| {
                k.name.clone()
            })
    };
    ui.horizontal(|ui| {
        let name = ui.label("Kit");
        egui::ComboBox::from_id_salt("new_kit")
            .selected_text(kit_name(&app.forms.new_project_kit))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.forms.new_project_kit, String::new(), kit_name(""));
                for kit in &kits {
                    ui.selectable_value(
                        &mut app.forms.new_project_kit,
                        kit.id.clone(),
                        kit.name.clone(),
                    );
                }
            })
            .response
            .labelled_by(name.id);
    });
    let kit = kits.iter().find(|k| k.id == app.forms.new_project_kit);
    // A kit lists its own labs and the shared labs that name it; "any kit" lists the
    // kit-independent labs and the shared ones.
    let offered: Vec<labs::LabPreset> = labs::lab_ids()
        .into_iter()
        .filter_map(|id| labs::lab(id).ok())
        .filter(|lab| match kit {
            Some(kit) => lab.extends.is_some() && lab.kits.contains(&kit.id),
            None => lab.extends.is_none() || lab.kits.len() > 1,
        })
        .collect();
    if !offered
        .iter()
        .any(|lab| lab.id == app.forms.new_project_lab)
        && let Some(first) = offered.first()
    {
        app.forms.new_project_lab = first.id.clone();
    }
    if let Some(kit) = kit {
        kit_card_ui(ui, kit, &offered);
    }
    ui.horizontal(|ui| {
        let name = ui.label("Lab");
        let chosen = offered
            .iter()
            .find(|lab| lab.id == app.forms.new_project_lab)
            .map_or(app.forms.new_project_lab.clone(), |lab| lab.title.clone());
        egui::ComboBox::from_id_salt("new_lab")
            .selected_text(chosen)
            .width(360.0)
            .show_ui(ui, |ui| {
                for lab in &offered {
                    ui.selectable_value(
                        &mut app.forms.new_project_lab,
                        lab.id.clone(),
                        format!("{} ({})", lab.title, lab.id),
                    );
                }
            })
            .response
            .labelled_by(name.id);
    });
    ui.horizontal(|ui| {
        let name = ui.label("Folder");
        ui.add(
            egui::TextEdit::singleline(&mut app.forms.new_project_dir)
                .hint_text("a new or empty folder")
                .desired_width(320.0),
        )
        .labelled_by(name.id);
        if ui.button("Browse…").clicked() {
            app.open_dialog(DialogPurpose::NewProjectFolder);
        }
    });
    ui.checkbox(&mut app.forms.new_project_demo, "Fill it with demo data")
        .on_hover_text(
            "Synthetic data to run the lab with no hardware: virtual-kit recordings for motion, \
             spoken words made with espeak-ng for keyword spotting, drawn pictures and scenes \
             for images and FOMO.",
        );
    let dir = app.forms.new_project_dir.trim().to_owned();
    if ui
        .add_enabled(!dir.is_empty(), egui::Button::new("Create project"))
        .clicked()
    {
        app.send(Command::CreateProject {
            dir: PathBuf::from(dir),
            lab: app.forms.new_project_lab.clone(),
            demo: app.forms.new_project_demo,
        });
    }
}

/// What the kit is and which of the book's labs TinyLab has for it.
fn kit_card_ui(ui: &mut egui::Ui, kit: &labs::Kit, offered: &[labs::LabPreset]) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.strong(&kit.name);
        egui::Grid::new(("kit_card", &kit.id))
            .num_columns(2)
            .spacing([16.0, 2.0])
            .max_col_width((ui.available_width() - 120.0).max(200.0))
            .show(ui, |ui| {
                row(ui, "Processor", kit.processor.clone());
                row(ui, "RAM", kit.ram.clone());
                row(ui, "Flash", kit.flash.clone());
                row(ui, "Sensors", kit.sensors.join("; "));
                row(ui, "Tools", kit.toolchains.clone());
                row(
                    ui,
                    "Labs",
                    offered
                        .iter()
                        .map(|lab| lab.title.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                row(ui, "Notes", kit.notes.clone());
            });
    });
}

fn open_project_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.heading("Open a project");
    ui.horizontal(|ui| {
        let name = ui.label("Folder");
        ui.add(
            egui::TextEdit::singleline(&mut app.forms.open_project_dir)
                .hint_text("project folder")
                .desired_width(320.0),
        )
        .labelled_by(name.id);
        let dir = app.forms.open_project_dir.trim().to_owned();
        if ui
            .add_enabled(!dir.is_empty(), egui::Button::new("Open"))
            .clicked()
        {
            app.send(Command::OpenProject {
                dir: PathBuf::from(dir),
            });
        }
        if ui.button("Browse…").clicked() {
            app.open_dialog(DialogPurpose::OpenProject);
        }
    });
    if ui
        .button("Open the demo project")
        .on_hover_text(demo_project_dir().display().to_string())
        .clicked()
    {
        app.send(Command::OpenDemoProject {
            dir: demo_project_dir(),
        });
    }
    if !app.state.recent_projects.is_empty() {
        ui.label("Recent:");
        for dir in app.state.recent_projects.clone() {
            if ui.link(dir.display().to_string()).clicked() {
                app.send(Command::OpenProject { dir });
            }
        }
    }
}
