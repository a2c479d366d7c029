//! The Capture panel: choose a device (a serial board, or the built-in virtual board), see the
//! stream's detected axes and rate, watch the live scrolling plot, and record labelled samples.

use super::app::TinyLabApp;
use super::audio_ui;
use super::plot::{Trace, stacked_plots_ui};
use crate::devices::forwarder::StreamFormat;
use crate::project::sample::Split;
use crate::protocol::{Command, DeviceSpec, RecordRequest};
use crate::sim::motion::Motion;

/// Baud rates offered; the book's sketches use 115200 (the Nicla's 9600 is nominal over USB).
const BAUD_RATES: [u32; 6] = [9600, 19_200, 38_400, 57_600, 115_200, 230_400];
/// Rates the virtual board offers.
const VIRTUAL_RATES_HZ: [f64; 4] = [50.0, 62.5, 100.0, 200.0];

/// Draws the Capture panel.
pub fn capture_panel_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    if super::camera_ui::is_camera_project(app) {
        egui::Panel::left("camera_controls")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| super::camera_ui::camera_controls_ui(app, ui));
        egui::CentralPanel::default().show(ui, |ui| super::camera_ui::camera_live_ui(app, ui));
        return;
    }
    egui::Panel::left("capture_controls")
        .resizable(true)
        .default_size(330.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                device_ui(app, ui);
                ui.add_space(8.0);
                if !audio_ui::is_audio_project(app) {
                    format_ui(app, ui);
                    ui.add_space(8.0);
                }
                record_ui(app, ui);
            });
        });
    egui::CentralPanel::default().show(ui, |ui| live_ui(app, ui));
}

fn device_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.heading("Device");
    let connected = app.view.device.name.clone();
    match &connected {
        Some(name) => {
            ui.horizontal(|ui| {
                status_dot(ui, egui::Color32::from_rgb(80, 200, 120));
                ui.label(format!("Connected: {name}"));
            });
            if ui.button("Disconnect").clicked() {
                app.send(Command::Disconnect);
            }
        }
        None => {
            ui.horizontal(|ui| {
                status_dot(ui, egui::Color32::GRAY);
                ui.label("No device connected");
            });
        }
    }
    ui.separator();
    if audio_ui::is_audio_project(app) {
        audio_ui::microphone_ui(app, ui);
        return;
    }

    ui.label("Serial board");
    ui.horizontal(|ui| {
        let selected = app
            .forms
            .port
            .clone()
            .unwrap_or_else(|| "choose a port".into());
        let name = ui.label("Port");
        egui::ComboBox::from_id_salt("port")
            .selected_text(selected)
            .width(200.0)
            .show_ui(ui, |ui| {
                if app.view.ports.is_empty() {
                    ui.label("no serial ports found");
                }
                for port in &app.view.ports {
                    ui.selectable_value(
                        &mut app.forms.port,
                        Some(port.path.clone()),
                        port.describe(),
                    );
                }
            })
            .response
            .labelled_by(name.id);
        if ui
            .button("Refresh")
            .on_hover_text("List serial ports again")
            .clicked()
        {
            app.send(Command::RefreshPorts);
        }
    });
    ui.horizontal(|ui| {
        let name = ui.label("Speed");
        egui::ComboBox::from_id_salt("baud")
            .selected_text(format!("{} baud", app.state.baud))
            .show_ui(ui, |ui| {
                for baud in BAUD_RATES {
                    ui.selectable_value(&mut app.state.baud, baud, baud.to_string());
                }
            })
            .response
            .labelled_by(name.id);
        let port = app.forms.port.clone();
        if ui
            .add_enabled(port.is_some(), egui::Button::new("Connect"))
            .clicked()
            && let Some(path) = port
        {
            app.send(Command::Connect(DeviceSpec::Serial {
                path,
                baud: app.state.baud,
            }));
        }
    });
    ui.separator();

    ui.label("Virtual board (no hardware needed)");
    ui.horizontal(|ui| {
        let name = ui.label("Rate");
        egui::ComboBox::from_id_salt("virtual_rate")
            .selected_text(format!("{} Hz", app.forms.virtual_rate_hz))
            .show_ui(ui, |ui| {
                for rate in VIRTUAL_RATES_HZ {
                    ui.selectable_value(&mut app.forms.virtual_rate_hz, rate, format!("{rate} Hz"));
                }
            })
            .response
            .labelled_by(name.id);
        if ui.button("Start virtual board").clicked() {
            app.send(Command::Connect(DeviceSpec::VirtualBoard {
                rate_hz: app.forms.virtual_rate_hz,
                motion: app.forms.virtual_motion,
            }));
        }
    });
    if app.view.device.is_virtual {
        ui.label("Motion the board simulates:");
        ui.horizontal_wrapped(|ui| {
            for motion in Motion::ALL {
                if ui
                    .selectable_value(&mut app.forms.virtual_motion, motion, motion.label())
                    .clicked()
                {
                    app.send(Command::SetVirtualMotion(motion));
                }
            }
        });
        if ui
            .button("Unplug virtual board")
            .on_hover_text("Stop the board as if its cable were pulled")
            .clicked()
        {
            app.send(Command::UnplugVirtualBoard);
        }
    }
}

fn format_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.heading("Stream format");
    match &app.view.device.format {
        Some(StreamFormat { axes, rate_hz }) => {
            ui.label(format!("{} axes: {}", axes.len(), axes.join(", ")));
            ui.label(format!("{rate_hz} Hz"));
        }
        None if app.view.device.name.is_some() => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("detecting axes and rate…");
            });
        }
        None => {
            ui.label("detected when a device is connected");
        }
    }
    let before = app.forms.manual_format;
    ui.checkbox(&mut app.forms.manual_format, "Set axes and rate by hand");
    if app.forms.manual_format {
        ui.horizontal(|ui| {
            let name = ui.label("Axes");
            ui.text_edit_singleline(&mut app.forms.manual_axes)
                .labelled_by(name.id);
        });
        ui.horizontal(|ui| {
            let name = ui.label("Rate");
            ui.add(
                egui::DragValue::new(&mut app.forms.manual_rate_hz)
                    .range(1.0..=20_000.0)
                    .suffix(" Hz"),
            )
            .labelled_by(name.id);
            if ui.button("Apply").clicked() {
                let axes: Vec<String> = app
                    .forms
                    .manual_axes
                    .split(',')
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect();
                app.send(Command::SetStreamFormat(Some(StreamFormat {
                    axes,
                    rate_hz: app.forms.manual_rate_hz,
                })));
            }
        });
    } else if before {
        app.send(Command::SetStreamFormat(None));
    }
}

fn record_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.heading("Record");
    let labels = app.view.known_labels();
    ui.horizontal(|ui| {
        let name = ui.label("Label");
        egui::ComboBox::from_id_salt("record_label_choice")
            .selected_text("pick")
            .width(24.0)
            .show_ui(ui, |ui| {
                for label in &labels {
                    ui.selectable_value(&mut app.state.record_label, label.clone(), label);
                }
            })
            .response
            .on_hover_text("The lab's classes and the labels already used")
            .labelled_by(name.id);
        ui.add(
            egui::TextEdit::singleline(&mut app.state.record_label)
                .desired_width(140.0)
                .id_salt("record_label"),
        )
        .labelled_by(name.id);
    });
    ui.horizontal(|ui| {
        let name = ui.label("Length");
        ui.add(
            egui::DragValue::new(&mut app.state.record_seconds)
                .range(0.5..=600.0)
                .speed(0.5)
                .suffix(" s"),
        )
        .labelled_by(name.id);
    });
    ui.horizontal(|ui| {
        ui.label("Split");
        ui.selectable_value(&mut app.state.record_split, Split::Train, "train");
        ui.selectable_value(&mut app.state.record_split, Split::Test, "test");
    });
    if let Some(recording) = &app.view.recording {
        let fraction = recording.readings as f32 / recording.target.max(1) as f32;
        let text = if recording.target == 0 {
            "waiting for the stream format…".to_owned()
        } else {
            format!(
                "recording \"{}\": {} / {} readings",
                recording.label, recording.readings, recording.target
            )
        };
        ui.add(egui::ProgressBar::new(fraction).text(text));
        if ui.button("Cancel recording").clicked() {
            app.send(Command::CancelRecording);
            app.view.recording = None;
        }
    } else if audio_ui::countdown_ui(app, ui) {
        // Counting down: the recording starts when it ends.
    } else {
        let ready = app.view.device.name.is_some() && app.view.project.is_some();
        let record = ui
            .add_enabled(ready, egui::Button::new("Start recording"))
            .on_disabled_hover_text("open a project and connect a device first");
        let key = ready
            && ui
                .ctx()
                .input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::R));
        if record.clicked() || key {
            let request = RecordRequest {
                label: app.state.record_label.trim().to_owned(),
                seconds: app.state.record_seconds,
                split: app.state.record_split,
            };
            audio_ui::request_recording(app, request);
        }
        ui.small("Ctrl+R records with these settings.");
    }
}

fn live_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("Live signal");
        let name = ui.label("window");
        ui.add(
            egui::DragValue::new(&mut app.state.live_window_s)
                .range(1.0..=60.0)
                .suffix(" s"),
        )
        .labelled_by(name.id);
        if app.view.device.dropped > 0 {
            ui.colored_label(
                egui::Color32::YELLOW,
                format!("{} readings dropped (UI too slow)", app.view.device.dropped),
            );
        }
    });
    let Some(format) = app.view.device.format.clone() else {
        ui.label(if app.view.device.name.is_some() {
            "Waiting for readings…"
        } else if audio_ui::is_audio_project(app) {
            "Connect the microphone to see and hear its signal here."
        } else {
            "Connect a board or start the virtual board to see its signal here."
        });
        return;
    };
    let rate_hz = format.rate_hz.max(1.0);
    if audio_ui::is_audio_project(app) {
        return audio_ui::live_audio_ui(app, ui, app.state.live_window_s, rate_hz);
    }
    let count = (app.state.live_window_s * rate_hz) as usize;
    let traces = format
        .axes
        .iter()
        .enumerate()
        .map(|(axis, name)| Trace::new(name, app.view.live.tail(axis, count), rate_hz))
        .collect();
    let newest_s = app.view.live.total as f64 / rate_hz;
    let units = app.view.sensor_units();
    stacked_plots_ui(
        ui,
        "live_plot",
        traces,
        Some((
            (newest_s - app.state.live_window_s).max(0.0),
            newest_s.max(app.state.live_window_s),
        )),
        "time (s)",
        &units,
        ui.available_height(),
    );
}

/// Asks whether to keep a recording that the device cut short.
pub fn interrupted_modal_ui(app: &mut TinyLabApp, ctx: &egui::Context) {
    let Some(interrupted) = app.view.interrupted.clone() else {
        return;
    };
    let mut answer = None;
    egui::Modal::new(egui::Id::unique("recording_interrupted")).show(ctx, |ui| {
        ui.heading("Recording interrupted");
        ui.label(&interrupted.reason);
        ui.label(format!(
            "{} readings ({:.1} s) were recorded before it stopped. Keep them as a shorter sample?",
            interrupted.readings, interrupted.seconds
        ));
        ui.horizontal(|ui| {
            if ui.button("Keep partial sample").clicked() {
                answer = Some(true);
            }
            if ui.button("Discard").clicked() {
                answer = Some(false);
            }
        });
    });
    if let Some(keep) = answer {
        app.send(Command::KeepPartial(keep));
        app.view.interrupted = None;
    }
}

/// A small filled circle: green when a device is connected, grey when not.
fn status_dot(ui: &mut egui::Ui, color: egui::Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 5.0, color);
}
