//! The Deploy panel: export the shown run's quantized model as a float32 or int8 `.tflite` (with
//! `labels.txt` beside it) or as a C array for TensorFlow Lite Micro, to a path typed or chosen
//! in a dialog. Exports use the models the last quantization kept, so what is exported is what
//! the Optimize panel measured.

use super::app::TinyLabApp;
use super::dialogs::DialogPurpose;
use super::optimize_panel::bytes;
use crate::protocol::{Command, ModelFormat};

/// The Deploy panel's form.
#[derive(Debug, Clone)]
pub struct DeployForms {
    /// The export chosen.
    pub format: ModelFormat,
    /// Where it goes (a file for `.tflite`, a folder for the C array).
    pub path: String,
}

impl Default for DeployForms {
    fn default() -> Self {
        Self {
            format: ModelFormat::TfliteInt8,
            path: String::new(),
        }
    }
}

/// Draws the Deploy panel.
pub fn deploy_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(project) = app.view.project.clone() else {
        ui.label("No project is open: create or open one in the Lab panel.");
        return;
    };
    let Some(run) = app.view.run.clone() else {
        ui.heading("Deployment");
        ui.label("No trained model yet: press Start training in the Train panel (Ctrl+5).");
        super::boards_ui::boards_ui(app, ui);
        return;
    };
    ui.heading(format!("Deploy {}", run.id));
    let Some(report) = app.view.quantized.clone().filter(|r| r.run == run.id) else {
        ui.label(
            "Quantize this run in the Optimize panel (Ctrl+7) first: exports are the float32 and \
             int8 models that comparison measured.",
        );
        super::boards_ui::boards_ui(app, ui);
        return;
    };
    ui.label(format!(
        "int8 test accuracy {:.1} % (float32 {:.1} %); int8 model {}, float32 {}.",
        report.int8.accuracy * 100.0,
        report.float.accuracy * 100.0,
        bytes(report.int8_footprint.file_bytes),
        bytes(report.float_footprint.file_bytes),
    ));
    ui.add_space(6.0);
    ui.strong("Export");
    let before = app.forms.deploy.format;
    for format in ModelFormat::ALL {
        ui.radio_value(&mut app.forms.deploy.format, format, format.title());
    }
    let path_is_default = app.forms.deploy.path.is_empty()
        || app
            .forms
            .deploy
            .path
            .ends_with(&before.default_name(&run.id));
    if path_is_default && (before != app.forms.deploy.format || app.forms.deploy.path.is_empty()) {
        app.forms.deploy.path = project
            .dir
            .join("export")
            .join(app.forms.deploy.format.default_name(&run.id))
            .display()
            .to_string();
    }
    ui.horizontal(|ui| {
        let folder = app.forms.deploy.format.is_folder();
        ui.label(if folder { "Folder:" } else { "File:" });
        ui.add(egui::TextEdit::singleline(&mut app.forms.deploy.path).desired_width(420.0));
        if ui.button("Choose…").clicked() {
            app.open_dialog(if folder {
                DialogPurpose::ExportModelFolder
            } else {
                DialogPurpose::ExportModelFile
            });
        }
    });
    let path = app.forms.deploy.path.trim().to_owned();
    if ui
        .add_enabled(!path.is_empty(), egui::Button::new("Export model"))
        .on_hover_text("Write the model (and labels.txt)")
        .clicked()
    {
        app.send(Command::ExportModel {
            run: run.id.clone(),
            format: app.forms.deploy.format,
            path: path.into(),
        });
    }
    ui.add_space(6.0);
    ui.weak(
        "The .tflite files open in LiteRT, TensorFlow Lite Micro and Netron; the C array is the \
         model as `alignas(16) const unsigned char g_model[]` for a TFLM sketch; the C library needs \
         no runtime at all: tinylab_classify(raw, len, scores) runs the DSP and the int8 model; the \
         Arduino library installs with Sketch > Include Library > Add .ZIP Library and has an \
         example per kit.",
    );
    super::boards_ui::boards_ui(app, ui);
}
