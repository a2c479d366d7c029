//! The Dataset panel's bounding-box editor for an image sample, as Edge Impulse's labeling
//! queue works: drag on the image to draw a box (it gets the chosen label), click a box to
//! select it, Delete or Backspace removes the selected box, the number keys 1–9 (or the label
//! chooser) relabel it, Escape deselects, and "Copy boxes from previous image" brings the boxes
//! of the image before this one in the list. Boxes are drawn over the picture at its display
//! scale, in one colour per label. Every edit sends the image's whole new box list as
//! `Command::SetBoxes` (file pixels), which the engine applies as one undo step; the boxes shown
//! are always the engine's (`View::samples`), never a local copy.

use super::app::TinyLabApp;
use super::detection_view::class_color;
use crate::project::sample::{BoundingBox, SampleId};
use crate::protocol::Command;

/// Smallest box a drag makes, in file pixels per side (shorter drags are clicks gone astray).
const MIN_SIDE_PX: u32 = 2;

/// The editor's state between frames (egui temp memory).
#[derive(Clone, Default)]
struct EditorState {
    /// The image the state belongs to.
    sample: Option<SampleId>,
    /// Index of the selected box.
    selected: Option<usize>,
    /// Where the drag began, in file pixels.
    drag_start: Option<egui::Pos2>,
    /// Label of new boxes.
    label: String,
    /// The boxes last seen from the engine, and whether an edit was sent since: until its
    /// answer comes, the selection may point past the old list and must be kept.
    seen: Vec<BoundingBox>,
    pending: bool,
}

fn state_id() -> egui::Id {
    egui::Id::unique("box_editor_state")
}

/// True while a box of the focused image is selected, so the Dataset panel's Delete key
/// removes the box, not the sample.
pub fn has_selection(ctx: &egui::Context, focused: Option<SampleId>) -> bool {
    ctx.data(|d| d.get_temp::<EditorState>(state_id()))
        .is_some_and(|s| s.selected.is_some() && s.sample.is_some() && s.sample == focused)
}

/// The labels boxes can have: the lab's capture labels and every box label in the dataset,
/// sorted, without `background` (class 0 is what no box is).
fn box_labels(app: &TinyLabApp) -> Vec<String> {
    let mut labels: Vec<String> = app
        .view
        .samples
        .iter()
        .flat_map(|s| s.boxes.iter().map(|b| b.label.clone()))
        .collect();
    if let Some(project) = &app.view.project {
        labels.extend(project.settings.capture.labels.iter().cloned());
    }
    labels.retain(|l| l != crate::engine::fomo::BACKGROUND);
    labels.sort();
    labels.dedup();
    labels
}

/// The image with its boxes, editable. `texture` is the picture at `[width, height]` file
/// pixels, shown `scale` times enlarged.
pub fn box_editor_ui(
    app: &mut TinyLabApp,
    ui: &mut egui::Ui,
    id: SampleId,
    [width, height]: [u32; 2],
    texture: &egui::TextureHandle,
    scale: f32,
    alt_text: String,
) {
    let boxes: Vec<BoundingBox> = app
        .view
        .samples
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.boxes.clone())
        .unwrap_or_default();
    let labels = box_labels(app);
    let mut state: EditorState = ui.data(|d| d.get_temp(state_id())).unwrap_or_default();
    if state.sample != Some(id) {
        state = EditorState {
            sample: Some(id),
            label: std::mem::take(&mut state.label),
            ..EditorState::default()
        };
    }
    if state.seen != boxes {
        state.seen.clone_from(&boxes);
        state.pending = false;
    }
    if !state.pending && state.selected.is_some_and(|i| i >= boxes.len()) {
        state.selected = None;
    }
    if !labels.contains(&state.label)
        && let Some(first) = labels.first()
    {
        state.label.clone_from(first);
    }
    let mut new_boxes: Option<Vec<BoundingBox>> = None;

    toolbar_ui(
        app,
        ui,
        id,
        [width, height],
        &boxes,
        &labels,
        &mut state,
        &mut new_boxes,
    );

    let shown = egui::vec2(width as f32 * scale, height as f32 * scale);
    let response = ui.add(
        egui::Image::new((texture.id(), shown))
            .alt_text(alt_text)
            .sense(egui::Sense::click_and_drag()),
    );
    let rect = response.rect;
    let to_file = |pos: egui::Pos2| -> egui::Pos2 {
        let p = (pos - rect.min) / scale;
        egui::pos2(p.x.clamp(0.0, width as f32), p.y.clamp(0.0, height as f32))
    };
    let to_screen = |x: f32, y: f32| rect.min + egui::vec2(x * scale, y * scale);

    // Where the button went down, not where the drag was recognised (a few pixels later).
    if response.drag_started()
        && let Some(pos) = ui
            .input(|i| i.pointer.press_origin())
            .or(response.interact_pointer_pos())
    {
        state.drag_start = Some(to_file(pos));
    }
    let pointer = response.interact_pointer_pos().map(to_file);
    if response.drag_stopped() {
        if let (Some(start), Some(end)) = (state.drag_start.take(), pointer)
            && let Some(drawn) = drawn_box(start, end, &state.label)
        {
            let mut all = boxes.clone();
            all.push(drawn);
            state.selected = Some(all.len() - 1);
            new_boxes = Some(all);
        }
    } else if response.clicked()
        && let Some(pos) = pointer
    {
        state.selected = box_at(&boxes, pos);
        if let Some(b) = state.selected.and_then(|i| boxes.get(i)) {
            state.label.clone_from(&b.label);
        }
    }

    let typing = ui.ctx().egui_wants_keyboard_input();
    if !typing && let Some(selected) = state.selected {
        let (delete, escape, number) = ui.input(|i| {
            let number =
                (0..9usize).find(|n| NUMBER_KEYS.get(*n).is_some_and(|k| i.key_pressed(*k)));
            (
                i.key_pressed(egui::Key::Delete) || i.key_pressed(egui::Key::Backspace),
                i.key_pressed(egui::Key::Escape),
                number,
            )
        });
        if delete {
            let mut all = boxes.clone();
            if selected < all.len() {
                all.remove(selected);
                new_boxes = Some(all);
            }
            state.selected = None;
        } else if escape {
            state.selected = None;
        } else if let Some(label) = number.and_then(|n| labels.get(n)) {
            new_boxes = relabelled(&boxes, selected, label);
            state.label.clone_from(label);
        }
    }

    // Draw: every box in its label's colour, the selected one thicker, the box being dragged
    // dashed-looking (thin, white).
    let painter = ui.painter_at(rect);
    for (index, b) in boxes.iter().enumerate() {
        let color = label_color(&labels, &b.label);
        let r = egui::Rect::from_min_max(
            to_screen(b.x as f32, b.y as f32),
            to_screen((b.x + b.width) as f32, (b.y + b.height) as f32),
        );
        let selected = state.selected == Some(index);
        painter.rect_stroke(
            r,
            0.0,
            egui::Stroke::new(if selected { 3.5 } else { 2.0 }, color),
            egui::StrokeKind::Middle,
        );
        // The label on a dark tag just above the box (inside it at the image's top edge), so it
        // reads on bright objects too.
        let galley =
            painter.layout_no_wrap(b.label.clone(), egui::FontId::proportional(12.0), color);
        let tag_height = galley.size().y + 2.0;
        let top = if r.top() - tag_height >= rect.top() {
            r.top() - tag_height
        } else {
            r.top()
        };
        let tag = egui::Rect::from_min_size(
            egui::pos2(r.left(), top),
            galley.size() + egui::vec2(4.0, 2.0),
        );
        painter.rect_filled(tag, 2.0, egui::Color32::from_black_alpha(180));
        painter.galley(tag.min + egui::vec2(2.0, 1.0), galley, color);
    }
    if let (Some(start), Some(now)) = (state.drag_start, pointer)
        && response.dragged()
    {
        let r = egui::Rect::from_two_pos(to_screen(start.x, start.y), to_screen(now.x, now.y));
        painter.rect_stroke(
            r,
            0.0,
            egui::Stroke::new(1.5, egui::Color32::WHITE),
            egui::StrokeKind::Middle,
        );
    }
    ui.weak(
        "Drag to draw a box · click a box to select it · Delete removes it · 1–9 relabel it · \
         Esc deselects · Ctrl+Z undoes",
    );
    if new_boxes.is_some() {
        state.pending = true;
    }
    ui.data_mut(|d| d.insert_temp(state_id(), state));
    if let Some(boxes) = new_boxes {
        app.send(Command::SetBoxes { id, boxes });
    }
}

const NUMBER_KEYS: [egui::Key; 9] = [
    egui::Key::Num1,
    egui::Key::Num2,
    egui::Key::Num3,
    egui::Key::Num4,
    egui::Key::Num5,
    egui::Key::Num6,
    egui::Key::Num7,
    egui::Key::Num8,
    egui::Key::Num9,
];

/// The label chooser, the box count and "Copy boxes from previous image".
#[allow(clippy::too_many_arguments)]
fn toolbar_ui(
    app: &TinyLabApp,
    ui: &mut egui::Ui,
    id: SampleId,
    [width, height]: [u32; 2],
    boxes: &[BoundingBox],
    labels: &[String],
    state: &mut EditorState,
    new_boxes: &mut Option<Vec<BoundingBox>>,
) {
    ui.horizontal_wrapped(|ui| {
        let name = ui.label(if state.selected.is_some() {
            "Box label"
        } else {
            "New boxes"
        });
        let before = state.label.clone();
        egui::ComboBox::from_id_salt("box_label")
            .selected_text(state.label.clone())
            .show_ui(ui, |ui| {
                for (n, label) in labels.iter().enumerate() {
                    let text = if n < 9 {
                        format!("{} {label}", n + 1)
                    } else {
                        label.clone()
                    };
                    ui.selectable_value(&mut state.label, label.clone(), text);
                }
            })
            .response
            .labelled_by(name.id);
        if state.label != before
            && let Some(selected) = state.selected
        {
            *new_boxes = relabelled(boxes, selected, &state.label);
        }
        ui.label(format!(
            "{} box{}",
            boxes.len(),
            if boxes.len() == 1 { "" } else { "es" }
        ));
        let previous = previous_image_boxes(app, id);
        let copy = ui
            .add_enabled(
                previous.as_ref().is_some_and(|b| !b.is_empty()),
                egui::Button::new("Copy boxes from previous image"),
            )
            .on_hover_text(
                "Add the boxes of the image above this one in the list (objects that did not \
                 move), clipped to this image",
            );
        if copy.clicked()
            && let Some(previous) = previous
        {
            let mut all = boxes.to_vec();
            all.extend(
                previous
                    .iter()
                    .filter_map(|b| crate::project::formats::boxes::clip_box(b, width, height))
                    .filter(|b| !boxes.contains(b)),
            );
            *new_boxes = Some(all);
        }
    });
}

/// The boxes of the image listed just before `id` (the list is in id order).
fn previous_image_boxes(app: &TinyLabApp, id: SampleId) -> Option<Vec<BoundingBox>> {
    app.view
        .samples
        .iter()
        .filter(|s| s.image.is_some() && s.id < id)
        .max_by_key(|s| s.id)
        .map(|s| s.boxes.clone())
}

/// The box a drag from `start` to `end` (file pixels) draws, rounded out to whole pixels; `None`
/// when it is too small to be meant.
fn drawn_box(start: egui::Pos2, end: egui::Pos2, label: &str) -> Option<BoundingBox> {
    let (x0, x1) = (start.x.min(end.x).floor(), start.x.max(end.x).ceil());
    let (y0, y1) = (start.y.min(end.y).floor(), start.y.max(end.y).ceil());
    let (width, height) = ((x1 - x0) as u32, (y1 - y0) as u32);
    (width >= MIN_SIDE_PX && height >= MIN_SIDE_PX && !label.is_empty()).then(|| BoundingBox {
        label: label.to_owned(),
        x: x0 as u32,
        y: y0 as u32,
        width,
        height,
    })
}

/// The smallest box containing `pos` (nested boxes: the inner one is meant).
fn box_at(boxes: &[BoundingBox], pos: egui::Pos2) -> Option<usize> {
    boxes
        .iter()
        .enumerate()
        .filter(|(_, b)| {
            pos.x >= b.x as f32
                && pos.y >= b.y as f32
                && pos.x <= (b.x + b.width) as f32
                && pos.y <= (b.y + b.height) as f32
        })
        .min_by_key(|(_, b)| u64::from(b.width) * u64::from(b.height))
        .map(|(i, _)| i)
}

fn relabelled(boxes: &[BoundingBox], index: usize, label: &str) -> Option<Vec<BoundingBox>> {
    let mut all = boxes.to_vec();
    let b = all.get_mut(index)?;
    if b.label == label {
        return None;
    }
    b.label = label.to_owned();
    Some(all)
}

/// A label's colour: its class colour as FOMO will number it (background 0, then sorted).
fn label_color(labels: &[String], label: &str) -> egui::Color32 {
    class_color(labels.iter().position(|l| l == label).map_or(0, |i| i + 1))
}
