//! The Lab panel: the open project's lab and its book settings, and the place to create a
//! project from a lab preset, open one, or go back to the demo. The guided steps with live
//! check marks arrive with the lab-guide issue.

use super::app::{TinyLabApp, demo_project_dir};
use super::dialogs::DialogPurpose;
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

fn current_lab_ui(app: &TinyLabApp, ui: &mut egui::Ui) {
    let Some(project) = &app.view.project else {
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
        ui.label(format!("Kits: {}", lab.kits.join(", ")));
    }
    ui.add_space(6.0);
    egui::Grid::new("lab_settings")
        .num_columns(2)
        .striped(true)
        .max_col_width((ui.available_width() - 140.0).max(200.0))
        .show(ui, |ui| {
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
            if let Some(lab) = &lab {
                row(ui, "Book results", table_summary(&lab.book));
            }
        });
    ui.add_space(6.0);
    ui.label(
        "Coming with the lab guide: the lab's steps, each with a check mark computed from this project \
         (enough samples per class, a test split, features up to date, accuracy against the book's).",
    );
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
    ui.horizontal(|ui| {
        let name = ui.label("Lab");
        egui::ComboBox::from_id_salt("new_lab")
            .selected_text(app.forms.new_project_lab.clone())
            .show_ui(ui, |ui| {
                for id in labs::lab_ids() {
                    let title = labs::lab(id).map(|l| l.title).unwrap_or_default();
                    ui.selectable_value(
                        &mut app.forms.new_project_lab,
                        id.to_owned(),
                        format!("{id} — {title}"),
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
    let dir = app.forms.new_project_dir.trim().to_owned();
    if ui
        .add_enabled(!dir.is_empty(), egui::Button::new("Create project"))
        .clicked()
    {
        app.send(Command::CreateProject {
            dir: PathBuf::from(dir),
            lab: app.forms.new_project_lab.clone(),
        });
    }
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
