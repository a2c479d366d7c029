//! Editors for settings that are serde structs: one row per field, the widget chosen by the
//! value's JSON type (checkbox, number, text), nested tables flattened as `outer.inner`. The
//! Features panel edits block parameters this way and the Train panel the training settings and
//! layers, so a new setting appears in the UI without new UI code.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Draws `settings` as a two-column grid and returns the edited settings when a field changed
/// and the result is still valid; an invalid edit returns the parser's message.
pub fn settings_grid_ui<T: Serialize + DeserializeOwned>(
    ui: &mut egui::Ui,
    id: &str,
    settings: &T,
    skip: &[&str],
) -> Option<Result<T, String>> {
    let Ok(value) = serde_json::to_value(settings) else {
        return None;
    };
    let mut edit = None;
    egui::Grid::new(id)
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            fields_ui(ui, "", &value, skip, &mut edit);
        });
    let (path, text) = edit?;
    let new_value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => Value::String(text),
    };
    let mut changed = value;
    set_path(&mut changed, &path, new_value);
    Some(serde_json::from_value(changed).map_err(|e| format!("{path}: {e}")))
}

/// Rows for every scalar field of `value` (recursing into objects), recording the first edit.
fn fields_ui(
    ui: &mut egui::Ui,
    prefix: &str,
    value: &Value,
    skip: &[&str],
    edit: &mut Option<(String, String)>,
) {
    let Value::Object(fields) = value else { return };
    for (key, field) in fields {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if skip.contains(&path.as_str()) {
            continue;
        }
        if field.is_object() {
            fields_ui(ui, &path, field, skip, edit);
            continue;
        }
        let label = ui.label(key.replace('_', " "));
        let shown = match field {
            // Lists (kernel sizes, shapes) are edited as JSON text, e.g. `[3, 3]`.
            Value::Array(_) => Value::String(field.to_string()),
            other => other.clone(),
        };
        if let Some(text) = parameter_ui(ui, &path, &shown, label.id) {
            let text = match field {
                Value::Array(_) => serde_json::from_str::<String>(&text).unwrap_or(text),
                _ => text,
            };
            *edit = Some((path, text));
        }
        ui.end_row();
    }
}

/// Replaces the value at `a.b.c` in `root`.
fn set_path(root: &mut Value, path: &str, new_value: Value) {
    let mut target = root;
    for key in path.split('.') {
        let Some(next) = target.get_mut(key) else {
            return;
        };
        target = next;
    }
    *target = new_value;
}

/// One parameter's editor; returns the new value (as JSON text) when the user changed it.
pub fn parameter_ui(
    ui: &mut egui::Ui,
    key: &str,
    value: &serde_json::Value,
    label: egui::Id,
) -> Option<String> {
    match value {
        serde_json::Value::Bool(on) => {
            let mut on = *on;
            ui.checkbox(&mut on, "")
                .labelled_by(label)
                .changed()
                .then(|| on.to_string())
        }
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => {
            let mut v = n.as_i64().unwrap_or(0);
            let response = ui.add(egui::DragValue::new(&mut v)).labelled_by(label);
            (response.drag_stopped() || (response.changed() && !response.dragged()))
                .then(|| v.to_string())
        }
        serde_json::Value::Number(n) => {
            let mut v = n.as_f64().unwrap_or(0.0);
            let response = ui
                .add(egui::DragValue::new(&mut v).speed(0.01).max_decimals(4))
                .labelled_by(label);
            (response.drag_stopped() || (response.changed() && !response.dragged()))
                .then(|| v.to_string())
        }
        serde_json::Value::String(text) => {
            let id = ui.scope_id().with(("param", key));
            let mut edited = ui
                .data_mut(|d| d.get_temp::<String>(id))
                .unwrap_or_else(|| text.clone());
            let response = ui
                .add(egui::TextEdit::singleline(&mut edited).desired_width(110.0))
                .labelled_by(label);
            let commit = response.lost_focus() && edited != *text;
            if response.has_focus() {
                ui.data_mut(|d| d.insert_temp(id, edited.clone()));
            } else {
                ui.data_mut(|d| d.remove::<String>(id));
            }
            commit.then(|| serde_json::Value::String(edited).to_string())
        }
        other => {
            ui.label(other.to_string());
            None
        }
    }
}
