//! Bounding-box label files, for object detection images: Edge Impulse's
//! `bounding_boxes.labels` (one JSON file per folder, boxes in pixels by file name) and YOLO txt
//! (one `<image stem>.txt` per image, `class cx cy w h` normalised to 0..1, with a class list in
//! `classes.txt` or `obj.names`). Parsing is strict: a malformed file is an error naming the file
//! (and line), so an import with one bad label file adds nothing.
//!
//! ```text
//! {"version": 1, "type": "bounding-box-labels",
//!  "boundingBoxes": {"a.jpg": [{"label": "box", "x": 10, "y": 20, "width": 30, "height": 40}]}}
//! ```

use super::FormatError;
use crate::project::sample::BoundingBox;
use std::collections::BTreeMap;
use std::path::Path;

/// The name Edge Impulse gives its label file, one per folder of images.
pub const EI_LABELS_FILE: &str = "bounding_boxes.labels";
/// Class-list file names a YOLO dataset may use, looked for in this order.
pub const YOLO_CLASS_FILES: [&str; 3] = ["classes.txt", "obj.names", "classes.names"];

/// Boxes by image file name, as a `bounding_boxes.labels` file holds them.
pub type BoxesByFile = BTreeMap<String, Vec<BoundingBox>>;

/// Checks that a box is not empty and lies inside a `width × height` image.
pub fn check_box(b: &BoundingBox, width: u32, height: u32) -> Result<(), String> {
    if b.width == 0 || b.height == 0 {
        return Err(format!(
            "the {} box at ({}, {}) is empty ({}×{} px)",
            b.label, b.x, b.y, b.width, b.height
        ));
    }
    let right = u64::from(b.x) + u64::from(b.width);
    let bottom = u64::from(b.y) + u64::from(b.height);
    if right > u64::from(width) || bottom > u64::from(height) {
        return Err(format!(
            "the {} box ({}, {}, {}×{}) reaches past the {width}×{height} image",
            b.label, b.x, b.y, b.width, b.height
        ));
    }
    Ok(())
}

/// A box clipped to a `width × height` image (label tools round a pixel over the edge), or
/// `None` when nothing of it is left inside.
pub fn clip_box(b: &BoundingBox, width: u32, height: u32) -> Option<BoundingBox> {
    let x = b.x.min(width);
    let y = b.y.min(height);
    let right = b.x.saturating_add(b.width).min(width);
    let bottom = b.y.saturating_add(b.height).min(height);
    (right > x && bottom > y).then(|| BoundingBox {
        label: b.label.clone(),
        x,
        y,
        width: right - x,
        height: bottom - y,
    })
}

/// Parses Edge Impulse's `bounding_boxes.labels`.
pub fn parse_ei_labels(path: &Path, text: &str) -> Result<BoxesByFile, FormatError> {
    let bad = |problem: String| FormatError::new(path, problem);
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "not JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    if value.get("version").and_then(serde_json::Value::as_u64) != Some(1) {
        return Err(bad("\"version\" must be 1".into()));
    }
    if value.get("type").and_then(serde_json::Value::as_str) != Some("bounding-box-labels") {
        return Err(bad("\"type\" must be \"bounding-box-labels\"".into()));
    }
    let Some(files) = value
        .get("boundingBoxes")
        .and_then(serde_json::Value::as_object)
    else {
        return Err(bad(
            "\"boundingBoxes\" must be an object of file name → boxes".into(),
        ));
    };
    let mut out = BoxesByFile::new();
    for (file, boxes) in files {
        let Some(boxes) = boxes.as_array() else {
            return Err(bad(format!("{file}: the boxes must be a list")));
        };
        let mut parsed = Vec::with_capacity(boxes.len());
        for (i, b) in boxes.iter().enumerate() {
            let field = |name: &str| -> Result<u32, FormatError> {
                let Some(v) = b.get(name).and_then(serde_json::Value::as_f64) else {
                    return Err(bad(format!("{file}: box {}: no number \"{name}\"", i + 1)));
                };
                if !(0.0..=f64::from(u32::MAX)).contains(&v) {
                    return Err(bad(format!("{file}: box {}: \"{name}\" is {v}", i + 1)));
                }
                Ok(v.round() as u32)
            };
            let Some(label) = b.get("label").and_then(serde_json::Value::as_str) else {
                return Err(bad(format!("{file}: box {}: no \"label\" string", i + 1)));
            };
            parsed.push(BoundingBox {
                label: label.to_owned(),
                x: field("x")?,
                y: field("y")?,
                width: field("width")?,
                height: field("height")?,
            });
        }
        out.insert(file.clone(), parsed);
    }
    Ok(out)
}

/// Writes boxes as Edge Impulse's `bounding_boxes.labels`.
pub fn write_ei_labels(boxes: &BoxesByFile) -> String {
    let files: serde_json::Map<String, serde_json::Value> = boxes
        .iter()
        .map(|(file, boxes)| {
            let list = boxes
                .iter()
                .map(|b| {
                    serde_json::json!({
                        "label": b.label, "x": b.x, "y": b.y, "width": b.width, "height": b.height,
                    })
                })
                .collect();
            (file.clone(), serde_json::Value::Array(list))
        })
        .collect();
    let value = serde_json::json!({
        "version": 1,
        "type": "bounding-box-labels",
        "boundingBoxes": files,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Parses a YOLO class list: one class name a line (blank lines at the end ignored).
pub fn parse_yolo_classes(path: &Path, text: &str) -> Result<Vec<String>, FormatError> {
    let mut classes: Vec<String> = text.lines().map(|l| l.trim().to_owned()).collect();
    while classes.last().is_some_and(String::is_empty) {
        classes.pop();
    }
    if let Some(line) = classes.iter().position(String::is_empty) {
        return Err(FormatError::new(
            path,
            format!("line {}: empty class name", line + 1),
        ));
    }
    if classes.is_empty() {
        return Err(FormatError::new(path, "no class names"));
    }
    Ok(classes)
}

/// Parses one image's YOLO txt (`class cx cy w h` a line, normalised to 0..1) into pixel boxes
/// of a `width × height` image, each clipped to the image.
pub fn parse_yolo(
    path: &Path,
    text: &str,
    classes: &[String],
    width: u32,
    height: u32,
) -> Result<Vec<BoundingBox>, FormatError> {
    let mut boxes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |problem: String| FormatError::new(path, format!("line {}: {problem}", n + 1));
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [class, cx, cy, w, h] = fields.as_slice() else {
            return Err(bad(format!(
                "expected `class cx cy w h`, found {} fields",
                fields.len()
            )));
        };
        let class: usize = class
            .parse()
            .map_err(|_| bad(format!("class {class:?} is not a whole number")))?;
        let Some(label) = classes.get(class) else {
            return Err(bad(format!(
                "class {class}, but the class list has {} names",
                classes.len()
            )));
        };
        let mut numbers = [0f64; 4];
        for (slot, text) in numbers.iter_mut().zip([cx, cy, w, h]) {
            let v: f64 = text
                .parse()
                .map_err(|_| bad(format!("{text:?} is not a number")))?;
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!(
                    "{v} is outside 0..1 (YOLO coordinates are normalised)"
                )));
            }
            *slot = v;
        }
        let [cx, cy, w, h] = numbers;
        let (iw, ih) = (f64::from(width), f64::from(height));
        let left = ((cx - w / 2.0) * iw).round().max(0.0);
        let top = ((cy - h / 2.0) * ih).round().max(0.0);
        let right = ((cx + w / 2.0) * iw).round().min(iw);
        let bottom = ((cy + h / 2.0) * ih).round().min(ih);
        if right <= left || bottom <= top {
            return Err(bad("the box is empty".into()));
        }
        boxes.push(BoundingBox {
            label: label.clone(),
            x: left as u32,
            y: top as u32,
            width: (right - left) as u32,
            height: (bottom - top) as u32,
        });
    }
    Ok(boxes)
}

/// One box as a YOLO line, for a `width × height` image.
pub fn yolo_line(b: &BoundingBox, class: usize, width: u32, height: u32) -> String {
    let (iw, ih) = (f64::from(width.max(1)), f64::from(height.max(1)));
    format!(
        "{class} {:.6} {:.6} {:.6} {:.6}",
        (f64::from(b.x) + f64::from(b.width) / 2.0) / iw,
        (f64::from(b.y) + f64::from(b.height) / 2.0) / ih,
        f64::from(b.width) / iw,
        f64::from(b.height) / ih
    )
}
