//! The Capture panel of camera projects: an address (an HTTP camera such as the XIAO ESP32S3's
//! CameraWebServer, or a folder of images played like a camera), Connect/Disconnect, the live
//! frame with the rectangle the model reads drawn on it, the model's input beside it at its
//! size, frames per second and dropped frames, and a label with a Capture button (or Space).
//! Live inference: Start/Stop, class bars (classifier) or centroid circles over the frame
//! (FOMO), DSP/NN milliseconds and results per second.

use super::app::TinyLabApp;
use crate::devices::camera::{CameraFrame, CameraSpec, RgbImage};
use crate::engine::camera_inference::FrameInference;
use crate::protocol::{Command, DeviceSpec, Event};
use std::sync::Arc;

/// What the UI knows of the camera, from `Event::CameraFrame` and `Event::CameraStatus`.
#[derive(Clone, Debug, Default)]
pub struct CameraView {
    /// The newest frame.
    pub frame: Option<Arc<CameraFrame>>,
    /// Frames per second.
    pub fps: f32,
    /// Frames dropped since the camera opened.
    pub dropped: u64,
    /// Connecting, reconnecting, a skipped frame.
    pub status: Option<String>,
    /// The newest live inference result, while live inference runs.
    pub inference: Option<Arc<FrameInference>>,
}

impl CameraView {
    /// Folds a camera event in.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::CameraFrame {
                frame,
                fps,
                dropped,
            } => {
                self.frame = Some(frame);
                self.fps = fps;
                self.dropped = dropped;
                self.status = None;
            }
            Event::CameraStatus(text) => self.status = Some(text),
            Event::CameraInference(result) => self.inference = Some(result),
            _ => {}
        }
    }
}

/// The camera form's fields.
#[derive(Clone, Debug, Default)]
pub struct CameraForms {
    /// Typed address or folder.
    pub address: String,
}

/// True when the open project takes images.
pub fn is_camera_project(app: &TinyLabApp) -> bool {
    app.view
        .project
        .as_ref()
        .is_some_and(|p| p.settings.sensor.kind == crate::project::CAMERA)
}

/// The left column: camera address, connect, label, capture.
pub fn camera_controls_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.heading("Camera");
    match app.view.device.name.clone() {
        Some(name) => {
            ui.label(format!("Connected: {name}"));
        }
        None => {
            ui.label(
                app.view
                    .camera
                    .status
                    .clone()
                    .unwrap_or_else(|| "No camera connected".into()),
            );
        }
    }
    ui.label("Camera address or image folder");
    let name = ui.label("Address");
    ui.add(
        egui::TextEdit::singleline(&mut app.forms.camera.address)
            .hint_text("http://192.168.1.42/capture")
            .desired_width(280.0),
    )
    .labelled_by(name.id);
    ui.small(
        "XIAO ESP32S3 CameraWebServer: http://HOST/capture (snapshots) or \
         http://HOST:81/stream (MJPEG). A USB webcam: webcam:0 (`tinylab cameras` lists them). \
         A folder plays its images in order.",
    );
    let open = app.view.device.name.is_some() || app.view.camera.status.is_some();
    ui.horizontal(|ui| {
        let address = app.forms.camera.address.trim().to_owned();
        if ui
            .add_enabled(!address.is_empty(), egui::Button::new("Connect"))
            .clicked()
        {
            app.send(Command::Connect(DeviceSpec::Camera(CameraSpec::parse(
                &address,
            ))));
        }
        if ui
            .add_enabled(open, egui::Button::new("Disconnect"))
            .clicked()
        {
            app.send(Command::Disconnect);
        }
    });
    ui.add_space(8.0);
    ui.heading("Label and capture");
    ui.horizontal(|ui| {
        let name = ui.label("Label");
        ui.add(
            egui::TextEdit::singleline(&mut app.state.record_label)
                .desired_width(140.0)
                .id_salt("camera_label"),
        )
        .labelled_by(name.id);
    });
    ui.horizontal(|ui| {
        ui.label("Split");
        ui.selectable_value(
            &mut app.state.record_split,
            crate::project::sample::Split::Train,
            "train",
        );
        ui.selectable_value(
            &mut app.state.record_split,
            crate::project::sample::Split::Test,
            "test",
        );
    });
    let ready = app.view.camera.frame.is_some();
    let button = ui
        .add_enabled(ready, egui::Button::new("Capture image"))
        .on_disabled_hover_text("connect a camera and wait for its picture");
    // Space captures unless a text field has the keyboard.
    let typing = ui.ctx().egui_wants_keyboard_input();
    let key = ready
        && !typing
        && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Space));
    if button.clicked() || key {
        app.send(Command::CaptureFrame {
            label: app.state.record_label.trim().to_owned(),
            split: app.state.record_split,
        });
    }
    ui.small("Space captures the frame shown.");
}

/// The centre: the frame with the model's crop, and the model's input.
pub fn camera_live_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let camera = &app.view.camera;
    let Some(frame) = camera.frame.clone() else {
        ui.label(
            "Connect a camera (or an image folder) to see its picture and the part the model sees.",
        );
        return;
    };
    ui.horizontal(|ui| {
        ui.strong("Live camera");
        ui.label(format!(
            "{} × {} · {:.1} frames/s · frame {}",
            frame.encoded.width,
            frame.encoded.height,
            camera.fps,
            frame.index + 1
        ));
        if camera.dropped > 0 {
            ui.colored_label(
                egui::Color32::YELLOW,
                format!("{} frames dropped (too slow to show)", camera.dropped),
            );
        }
    });
    if let Some(status) = &camera.status {
        ui.colored_label(egui::Color32::YELLOW, status);
    }
    let inference = camera.inference.clone();
    live_inference_controls_ui(app, ui, inference.as_deref());
    let preview = texture(ui, "camera_preview", frame.index, &frame.preview);
    let avail = ui.available_width().max(100.0) * 0.6;
    let scale = (avail / frame.preview.width.max(1) as f32).min(3.0);
    let size = egui::vec2(
        frame.preview.width as f32 * scale,
        frame.preview.height as f32 * scale,
    );
    ui.horizontal_top(|ui| {
        let response = ui.add(egui::Image::new((preview.id(), size)).alt_text("camera frame"));
        if let Some(model) = &frame.model {
            let r = response.rect;
            let [x0, y0, x1, y1] = model.crop;
            let crop = egui::Rect::from_min_max(
                egui::pos2(r.left() + x0 * r.width(), r.top() + y0 * r.height()),
                egui::pos2(r.left() + x1 * r.width(), r.top() + y1 * r.height()),
            );
            ui.painter().rect_stroke(
                crop,
                0.0,
                egui::Stroke::new(2.0, egui::Color32::from_rgb(255, 200, 0)),
                egui::StrokeKind::Inside,
            );
            if let Some(result) = &inference {
                overlay_ui(ui, r, result);
            }
            ui.vertical(|ui| {
                ui.label(format!(
                    "The model sees {} × {} ({}):",
                    model.input.width, model.input.height, model.resize_mode
                ));
                let input = texture(ui, "camera_model_input", frame.index, &model.input);
                let side = 2.0;
                ui.add(
                    egui::Image::new((
                        input.id(),
                        egui::vec2(
                            model.input.width as f32 * side,
                            model.input.height as f32 * side,
                        ),
                    ))
                    .alt_text("model input"),
                );
                ui.small("The yellow rectangle is the part of the frame it reads.");
            });
        }
    });
}

/// Start/Stop of live inference and its figures.
fn live_inference_controls_ui(
    app: &mut TinyLabApp,
    ui: &mut egui::Ui,
    result: Option<&FrameInference>,
) {
    let running = app.view.live_classification.running.is_some();
    ui.horizontal_wrapped(|ui| {
        if running {
            if ui.button("Stop live inference").clicked() {
                app.send(Command::StopLive);
            }
        } else if ui
            .button("Start live inference")
            .on_hover_text("Run the shown training run on every frame (the newest when behind)")
            .clicked()
        {
            app.send(Command::StartLive);
        }
        if let (true, Some(r)) = (running, result) {
            ui.label(format!(
                "{} · {:.1} results/s · DSP {:.1} ms · NN {:.1} ms",
                r.run, r.fps, r.dsp_ms, r.nn_ms
            ));
        }
    });
    let Some(r) = result.filter(|_| running) else {
        return;
    };
    if r.is_detection {
        ui.label(format!(
            "{} object{} found at confidence ≥ {:.2}",
            r.centroids.len(),
            if r.centroids.len() == 1 { "" } else { "s" },
            r.threshold
        ));
        return;
    }
    // One bar per class; the detected one strong.
    egui::Grid::new("camera_class_bars")
        .num_columns(2)
        .show(ui, |ui| {
            for (index, (label, p)) in r.labels.iter().zip(&r.probabilities).enumerate() {
                let detected = r.detected.is_some_and(|(i, _)| i == index);
                if detected {
                    ui.strong(label);
                } else {
                    ui.label(label);
                }
                ui.add(
                    egui::ProgressBar::new(*p)
                        .desired_width(200.0)
                        .text(format!("{:.2}", p)),
                );
                ui.end_row();
            }
        });
}

/// FOMO centroids as circles over the frame (radius 12 px of the shown frame, as OpenMV draws
/// them), in their class's colour with the label.
fn overlay_ui(ui: &egui::Ui, frame_rect: egui::Rect, result: &FrameInference) {
    let painter = ui.painter_at(frame_rect);
    for c in &result.centroids {
        let centre = egui::pos2(
            frame_rect.left() + c.x * frame_rect.width(),
            frame_rect.top() + c.y * frame_rect.height(),
        );
        let color = super::detection_view::class_color(c.class);
        painter.circle_stroke(centre, 12.0, egui::Stroke::new(3.0, color));
        let label = result.labels.get(c.class).cloned().unwrap_or_default();
        painter.text(
            centre + egui::vec2(14.0, -14.0),
            egui::Align2::LEFT_BOTTOM,
            format!("{label} {:.2}", c.score),
            egui::FontId::proportional(13.0),
            color,
        );
    }
}

/// The texture of `image`, uploaded once per frame and kept in egui's memory under `name`.
fn texture(ui: &egui::Ui, name: &str, index: u64, image: &RgbImage) -> egui::TextureHandle {
    let key = egui::Id::unique(name);
    let cached: Option<(u64, egui::TextureHandle)> = ui.data(|d| d.get_temp(key));
    if let Some((shown, texture)) = cached
        && shown == index
    {
        return texture;
    }
    let color = egui::ColorImage::from_rgb(
        [image.width as usize, image.height as usize],
        image.rgb.as_slice(),
    );
    let texture = ui
        .ctx()
        .load_texture(name, color, egui::TextureOptions::LINEAR);
    ui.data_mut(|d| d.insert_temp(key, (index, texture.clone())));
    texture
}
