//! The Evaluate panel of a FOMO run: the detection F1 (precision and recall with FOMO's centroid
//! matching at the confidence threshold), a per-class table of precision, recall, F1 and the
//! true/false positive and false negative counts, and "predictions vs labels": one image of the
//! data set at a time with its labelled boxes outlined and the predicted centroids as circles
//! (filled when they matched a box of their class), with previous/next. The engine decodes and
//! matches; this file only draws what `DetectionEvaluation` holds.

use super::app::TinyLabApp;
use crate::engine::detection_eval::{DetectionEvaluation, ImageDetections};
use crate::project::sample::SampleId;
use crate::protocol::{Command, RunEvaluation};

/// A class's colour: Edge Impulse's and OpenMV's habit of one colour per class (background is
/// never drawn).
pub fn class_color(class: usize) -> egui::Color32 {
    const COLORS: [egui::Color32; 6] = [
        egui::Color32::from_rgb(255, 200, 0),
        egui::Color32::from_rgb(40, 200, 80),
        egui::Color32::from_rgb(230, 60, 60),
        egui::Color32::from_rgb(60, 140, 255),
        egui::Color32::from_rgb(200, 80, 220),
        egui::Color32::from_rgb(0, 200, 200),
    ];
    COLORS
        .get(class % COLORS.len())
        .copied()
        .unwrap_or(egui::Color32::WHITE)
}

/// F1 headline and the per-class table.
pub fn detection_summary_ui(
    ui: &mut egui::Ui,
    evaluation: &RunEvaluation,
    d: &DetectionEvaluation,
) {
    let m = &d.metrics;
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(format!("F1 {:.1} %", m.f1 * 100.0))
                .size(22.0)
                .strong(),
        );
        ui.add_space(16.0);
        ui.label(format!(
            "precision {:.2} · recall {:.2} · {} image{} · centroids at confidence ≥ {:.2}",
            m.precision,
            m.recall,
            m.images,
            if m.images == 1 { "" } else { "s" },
            evaluation.confidence_threshold
        ));
    });
    ui.weak(
        "A centroid counts when it falls inside a labelled box of its class that no other \
         centroid took (Edge Impulse's FOMO F1).",
    );
    egui::Grid::new("detection_per_class")
        .striped(true)
        .num_columns(7)
        .spacing([16.0, 3.0])
        .show(ui, |ui| {
            for title in ["Label", "Precision", "Recall", "F1", "TP", "FP", "FN"] {
                ui.strong(title);
            }
            ui.end_row();
            for (index, class) in m.per_class.iter().enumerate() {
                ui.colored_label(class_color(index + 1), &class.label);
                ui.label(format!("{:.2}", class.precision));
                ui.label(format!("{:.2}", class.recall));
                ui.label(format!("{:.2}", class.f1));
                ui.label(class.counts.true_positives.to_string());
                ui.label(class.counts.false_positives.to_string());
                ui.label(class.counts.false_negatives.to_string());
                ui.end_row();
            }
        });
}

/// Which image "predictions vs labels" shows, and what was last asked of the engine.
#[derive(Clone, Copy, Default)]
struct Viewer {
    index: usize,
    requested: Option<SampleId>,
    loaded_when_requested: Option<SampleId>,
}

/// One image with its boxes and centroids, previous/next.
pub fn predictions_vs_labels_ui(
    app: &mut TinyLabApp,
    ui: &mut egui::Ui,
    evaluation: &RunEvaluation,
    d: &DetectionEvaluation,
) {
    ui.strong("Predictions vs labels");
    if d.images.is_empty() {
        ui.label(format!(
            "The {} data has no images.",
            evaluation.set.title()
        ));
        return;
    }
    let key = egui::Id::unique("detection_viewer");
    let mut viewer: Viewer = ui.data(|m| m.get_temp(key)).unwrap_or_default();
    viewer.index = viewer.index.min(d.images.len() - 1);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(viewer.index > 0, egui::Button::new("Previous image"))
            .clicked()
        {
            viewer.index -= 1;
        }
        if ui
            .add_enabled(
                viewer.index + 1 < d.images.len(),
                egui::Button::new("Next image"),
            )
            .clicked()
        {
            viewer.index += 1;
        }
        ui.label(format!("{} of {}", viewer.index + 1, d.images.len()));
    });
    let Some(image) = d.images.get(viewer.index) else {
        return;
    };
    let loaded = app.view.loaded_image.as_ref().map(|l| l.0);
    if loaded != Some(image.sample)
        && (viewer.requested != Some(image.sample) || loaded != viewer.loaded_when_requested)
    {
        viewer.requested = Some(image.sample);
        viewer.loaded_when_requested = loaded;
        app.send(Command::LoadSample(image.sample));
    }
    ui.data_mut(|m| m.insert_temp(key, viewer));
    let c = image.counts;
    ui.label(format!(
        "{}: {} labelled, {} found — {} right, {} false, {} missed",
        image.sample,
        image.boxes.len(),
        image.centroids.len(),
        c.true_positives,
        c.false_positives,
        c.false_negatives
    ));
    let Some((id, width, height, rgb)) = app.view.loaded_image.clone() else {
        ui.spinner();
        return;
    };
    if id != image.sample {
        ui.spinner();
        return;
    }
    draw_image_ui(ui, image, id, [width, height], &rgb);
}

fn draw_image_ui(
    ui: &mut egui::Ui,
    image: &ImageDetections,
    id: SampleId,
    [width, height]: [u32; 2],
    rgb: &[u8],
) {
    let size = [width as usize, height as usize];
    if size[0] * size[1] * 3 != rgb.len() {
        return;
    }
    let key = egui::Id::unique("detection_texture");
    let cached: Option<(SampleId, egui::TextureHandle)> = ui.data(|d| d.get_temp(key));
    let texture = match cached {
        Some((shown, texture)) if shown == id => texture,
        _ => {
            let picture = egui::ColorImage::from_rgb(size, rgb);
            let texture = ui.ctx().load_texture(
                format!("detection {id}"),
                picture,
                egui::TextureOptions::NEAREST,
            );
            ui.data_mut(|d| d.insert_temp(key, (id, texture.clone())));
            texture
        }
    };
    let scale = (ui.available_width() / width.max(1) as f32)
        .clamp(0.1, 4.0)
        .min(360.0 / height.max(1) as f32);
    let shown = egui::vec2(width as f32 * scale, height as f32 * scale);
    let response = ui.add(
        egui::Image::new((texture.id(), shown))
            .alt_text(format!("{id} with its labels and predictions")),
    );
    let origin = response.rect.min;
    let at = |x: f32, y: f32| origin + egui::vec2(x * scale, y * scale);
    let painter = ui.painter_at(response.rect);
    for b in &image.boxes {
        let rect = egui::Rect::from_min_max(at(b.x, b.y), at(b.x + b.width, b.y + b.height));
        painter.rect_stroke(
            rect,
            0.0,
            egui::Stroke::new(2.0, class_color(b.class)),
            egui::StrokeKind::Middle,
        );
    }
    for c in &image.centroids {
        let centre = at(c.x, c.y);
        let color = class_color(c.class);
        let matched = image
            .boxes
            .iter()
            .any(|b| b.class == c.class && b.contains(c.x, c.y));
        if matched {
            painter.circle_filled(centre, 6.0, color);
        }
        painter.circle_stroke(centre, 6.0, egui::Stroke::new(2.0, color));
    }
    ui.weak(
        "Boxes: labels. Circles: predicted centroids (filled when inside a box of their class).",
    );
}
