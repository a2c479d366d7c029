//! The Optimize panel: the shown run's float32 and int8 models side by side — test accuracy and
//! confusion matrices, the share of predictions that change, file size, weights, tensor arena,
//! MACs — and the estimated latency, RAM and flash on each of the book's kits, with how the
//! estimate is made. The student picks per-channel or per-tensor weights, min/max or percentile
//! activation ranges and the calibration size, presses Quantize (Ctrl+Q) and sees the effect.

use super::app::TinyLabApp;
use super::evaluate_panel::confusion_grid_ui;
use crate::protocol::{Command, JobId};
use crate::quant::estimate::METHOD;
use crate::quant::report::{QuantReport, QuantizeSettings};

/// Draws the Optimize panel.
pub fn optimize_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let Some(project) = app.view.project.clone() else {
        ui.label("No project is open: create or open one in the Lab panel.");
        return;
    };
    let Some(run) = app.view.run.clone() else {
        ui.heading("Optimization");
        ui.label("No trained model yet: press Start training in the Train panel (Ctrl+5).");
        return;
    };
    let mut settings = app
        .forms
        .quantize
        .clone()
        .unwrap_or_else(|| project.settings.model.quantization.clone());
    ui.heading(format!("Optimize {}: float32 and int8", run.id));
    settings_ui(ui, &mut settings);
    quantize_button_ui(app, ui, &run.id, &settings);
    app.forms.quantize = Some(settings);
    ui.separator();
    let report = app.view.quantized.clone().filter(|r| r.run == run.id);
    let Some(report) = report else {
        ui.label(
            "Not quantized yet. Quantize converts the trained model to int8 as TensorFlow Lite \
             does, runs both on the test split with TensorFlow Lite's reference kernels, and \
             shows what changes.",
        );
        return;
    };
    egui::ScrollArea::vertical().show(ui, |ui| {
        comparison_ui(ui, &report);
        ui.add_space(8.0);
        ui.columns(2, |columns| {
            if let [left, right] = columns {
                left.strong(format!("float32: {:.1} %", report.float.accuracy * 100.0));
                confusion_grid_ui(
                    left,
                    "confusion_float",
                    &report.float,
                    app.forms.eval_percent,
                );
                right.strong(format!("int8: {:.1} %", report.int8.accuracy * 100.0));
                confusion_grid_ui(
                    right,
                    "confusion_int8",
                    &report.int8,
                    app.forms.eval_percent,
                );
            }
        });
        ui.add_space(8.0);
        kits_ui(ui, &report);
        ui.add_space(8.0);
        c_library_ui(ui, &report);
    });
}

fn settings_ui(ui: &mut egui::Ui, settings: &mut QuantizeSettings) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Weights:");
        ui.radio_value(&mut settings.per_channel, true, "per channel")
            .on_hover_text("One scale per output channel of each convolution (TFLite's default)");
        ui.radio_value(&mut settings.per_channel, false, "per tensor")
            .on_hover_text("One scale per weight tensor: simpler, often less accurate");
        ui.separator();
        ui.label("Activation ranges:");
        let mut percentile = settings.percentile.is_some();
        ui.radio_value(&mut percentile, false, "min/max");
        ui.radio_value(&mut percentile, true, "percentile")
            .on_hover_text("Ignore the rarest extreme values when choosing each range");
        if percentile {
            let mut p = settings.percentile.unwrap_or(99.99);
            ui.add(
                egui::DragValue::new(&mut p)
                    .range(90.0..=100.0)
                    .speed(0.01)
                    .suffix(" %"),
            );
            settings.percentile = Some(p);
        } else {
            settings.percentile = None;
        }
        ui.separator();
        ui.label("Calibration windows:");
        ui.add(egui::DragValue::new(&mut settings.calibration_windows).range(1..=10_000));
    });
}

/// The running quantization job, if any.
fn quantize_job(app: &TinyLabApp) -> Option<(JobId, f32, String)> {
    app.view
        .jobs
        .iter()
        .find(|(_, job)| job.name.starts_with("quantization"))
        .map(|(id, job)| (*id, job.fraction, job.message.clone()))
}

fn quantize_button_ui(
    app: &mut TinyLabApp,
    ui: &mut egui::Ui,
    run: &str,
    settings: &QuantizeSettings,
) {
    match quantize_job(app) {
        Some((id, fraction, message)) => {
            ui.horizontal(|ui| {
                ui.add(egui::ProgressBar::new(fraction).text(message));
                if ui.button("Cancel").clicked() {
                    app.send(Command::CancelJob(id));
                }
            });
        }
        None => {
            let button = ui.button(egui::RichText::new("Quantize to int8").strong());
            if button
                .on_hover_text("Quantize and compare (Ctrl+Q)")
                .clicked()
                || ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Q))
            {
                app.send(Command::Quantize {
                    run: run.to_owned(),
                    settings: settings.clone(),
                });
            }
        }
    }
}

fn comparison_ui(ui: &mut egui::Ui, report: &QuantReport) {
    ui.strong(format!(
        "On the {} ({} calibration windows, {}, {}; {:.1} s)",
        report.data,
        report.calibration_windows,
        if report.settings.per_channel {
            "per-channel weights"
        } else {
            "per-tensor weights"
        },
        report
            .settings
            .percentile
            .map_or_else(|| "min/max ranges".to_owned(), |p| format!("{p} % ranges")),
        report.elapsed_s,
    ));
    let (f, q) = (&report.float_footprint, &report.int8_footprint);
    egui::Grid::new("quant_comparison")
        .striped(true)
        .num_columns(4)
        .spacing([24.0, 4.0])
        .show(ui, |ui| {
            for title in ["", "float32", "int8", "change"] {
                ui.strong(title);
            }
            ui.end_row();
            row(
                ui,
                "Test accuracy",
                format!("{:.1} %", report.float.accuracy * 100.0),
                format!("{:.1} %", report.int8.accuracy * 100.0),
                format!("{:+.1} points", report.accuracy_change_points()),
            );
            row(
                ui,
                "Predictions that change",
                String::new(),
                format!("{} of {}", report.changed, report.windows),
                format!("{:.1} %", report.changed_share() * 100.0),
            );
            row(
                ui,
                "Largest probability change",
                String::new(),
                format!("{:.3}", report.max_probability_change),
                String::new(),
            );
            let sizes = [
                ("Model file (.tflite)", f.file_bytes, q.file_bytes),
                (
                    "Weights and biases",
                    f.cost.weights_bytes,
                    q.cost.weights_bytes,
                ),
                ("Tensor arena (RAM)", f.cost.arena_bytes, q.cost.arena_bytes),
            ];
            for (name, a, b) in sizes {
                row(ui, name, bytes(a), bytes(b), ratio(a, b));
            }
            row(
                ui,
                "MACs per inference",
                thousands(f.cost.macs),
                thousands(q.cost.macs),
                String::new(),
            );
            row(
                ui,
                "Operators",
                f.cost.operators.to_string(),
                q.cost.operators.to_string(),
                String::new(),
            );
        });
}

fn row(ui: &mut egui::Ui, name: &str, a: String, b: String, change: String) {
    ui.label(name);
    ui.label(a);
    ui.label(b);
    ui.label(change);
    ui.end_row();
}

fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        return String::new();
    }
    format!("{:.1}× smaller", a as f64 / b as f64)
}

fn kits_ui(ui: &mut egui::Ui, report: &QuantReport) {
    ui.strong("Estimated on the book's kits");
    egui::Grid::new("quant_kits")
        .striped(true)
        .num_columns(6)
        .spacing([20.0, 4.0])
        .show(ui, |ui| {
            for title in [
                "Kit",
                "float32",
                "int8",
                "RAM (int8)",
                "Flash (int8)",
                "Fits",
            ] {
                ui.strong(title);
            }
            ui.end_row();
            for e in &report.estimates {
                ui.label(&e.name);
                ui.label(milliseconds(e.float_ms));
                ui.label(milliseconds(e.int8_ms));
                ui.label(bytes(e.ram_bytes));
                ui.label(bytes(e.flash_bytes));
                if e.fits {
                    ui.label("yes");
                } else {
                    ui.colored_label(ui.visuals().error_fg_color, "no");
                }
                ui.end_row();
            }
        });
    ui.weak(METHOD);
}

/// The run's C library export, counted exactly at generation, beside the estimate: what the
/// sketch's static RAM and constant flash will be. ELF sizes and instruction counts need an ARM
/// toolchain and an emulator the app does not run; README gives them for the lab demos.
fn c_library_ui(ui: &mut egui::Ui, report: &QuantReport) {
    ui.strong("C library export (tinylab export --format c-library), counted exactly");
    let Some(c) = &report.c_library else {
        ui.label(report.c_library_unsupported.as_deref().map_or_else(
            || "Quantize again to count the C library's RAM and flash.".to_owned(),
            |why| format!("No C library for this run: {why}"),
        ));
        return;
    };
    egui::Grid::new("c_library_figures")
        .striped(true)
        .num_columns(2)
        .spacing([20.0, 4.0])
        .show(ui, |ui| {
            let rows = [
                (
                    "C library: static RAM".to_owned(),
                    format!(
                        "{} (arena {}, model buffers {}, DSP buffers {}, one raw window {})",
                        bytes(c.ram_bytes()),
                        bytes(c.arena_bytes),
                        bytes(c.model_buffer_bytes),
                        bytes(c.dsp_buffer_bytes),
                        bytes(c.raw_window_bytes)
                    ),
                ),
                (
                    "C library: constants (flash)".to_owned(),
                    format!(
                        "{} (weights and model constants {}, DSP tables {})",
                        bytes(c.constant_bytes()),
                        bytes(c.model_constant_bytes),
                        bytes(c.dsp_table_bytes)
                    ),
                ),
                (
                    "C library: model code".to_owned(),
                    format!("about {} (estimate)", bytes(c.model_code_bytes_estimate)),
                ),
            ];
            for (name, value) in rows {
                ui.label(name);
                ui.label(value);
                ui.end_row();
            }
        });
    ui.weak(
        "Exact for a 32-bit board (Cortex-M, ESP32): the sizes of the arrays the generated C \
         declares. Measured on Cortex-M4F/M7 (QEMU) for the lab demos, the firmware's ELF \
         holds these buffers plus under 200 bytes, and code and libm add 10-20 KB of flash; \
         README gives those ELF sizes and the instructions per inference.",
    );
}

/// `1234567` as "1,234,567".
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in B, KB or MB (1024-based, as the boards' datasheets count).
pub fn bytes(value: u64) -> String {
    match value {
        v if v < 1024 => format!("{v} B"),
        v if v < 1024 * 1024 => format!("{:.1} KB", v as f64 / 1024.0),
        v => format!("{:.2} MB", v as f64 / (1024.0 * 1024.0)),
    }
}

/// Milliseconds with sensible precision.
pub fn milliseconds(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(4_676_964), "4,676,964");
        assert_eq!(thousands(999), "999");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(milliseconds(86.2), "86 ms");
        assert_eq!(milliseconds(1.234), "1.23 ms");
    }
}
