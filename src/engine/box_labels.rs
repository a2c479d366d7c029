//! Finding an imported image's bounding boxes: Edge Impulse's `bounding_boxes.labels` in the
//! image's folder, or a YOLO `<stem>.txt` beside the image (or in a sibling `labels/` folder when
//! the image is in `images/`) with the class list (`classes.txt`, `obj.names`) in that folder or
//! its parent. Each label file is read once per import; a malformed one fails the import.

use crate::project::formats::boxes::{self, BoxesByFile};
use crate::project::formats::{self, FormatError};
use crate::project::sample::BoundingBox;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Label files read so far, by folder.
#[derive(Default)]
pub struct BoxLabels {
    edge_impulse: BTreeMap<PathBuf, Option<BoxesByFile>>,
    yolo_classes: BTreeMap<PathBuf, Option<Vec<String>>>,
}

impl BoxLabels {
    /// The boxes of the image at `path` (`width × height` px), clipped to it, or `None` when
    /// no label file covers it. An image listed with no boxes, or with an empty YOLO file, has
    /// `Some(empty)`: it is labelled, with no objects.
    pub fn boxes_for(
        &mut self,
        path: &Path,
        width: u32,
        height: u32,
    ) -> Result<Option<Vec<BoundingBox>>, FormatError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(labels) = self.edge_impulse_in(dir)? {
            let found = labels.get(&name).map(|list| {
                list.iter()
                    .filter_map(|b| boxes::clip_box(b, width, height))
                    .collect()
            });
            return Ok(found.or(Some(Vec::new())));
        }
        let Some(stem) = path.file_stem() else {
            return Ok(None);
        };
        let mut candidates = vec![dir.join(stem).with_extension("txt")];
        if dir.file_name().is_some_and(|n| n == "images")
            && let Some(parent) = dir.parent()
        {
            candidates.push(parent.join("labels").join(stem).with_extension("txt"));
        }
        let Some(txt) = candidates.into_iter().find(|c| c.is_file()) else {
            return Ok(None);
        };
        let classes = self.yolo_classes_for(&txt)?;
        // An empty YOLO file is an image with no objects (the text reader refuses empty files).
        if std::fs::metadata(&txt).is_ok_and(|m| m.len() == 0) {
            return Ok(Some(Vec::new()));
        }
        let text = formats::read_text(&txt)?;
        boxes::parse_yolo(&txt, &text, &classes, width, height).map(Some)
    }

    fn edge_impulse_in(&mut self, dir: &Path) -> Result<Option<&BoxesByFile>, FormatError> {
        if !self.edge_impulse.contains_key(dir) {
            let file = dir.join(boxes::EI_LABELS_FILE);
            let parsed = if file.is_file() {
                Some(boxes::parse_ei_labels(&file, &formats::read_text(&file)?)?)
            } else {
                None
            };
            self.edge_impulse.insert(dir.to_owned(), parsed);
        }
        Ok(self.edge_impulse.get(dir).and_then(Option::as_ref))
    }

    /// The class list for a YOLO txt: in its folder or the folder above.
    fn yolo_classes_for(&mut self, txt: &Path) -> Result<Vec<String>, FormatError> {
        let dir = txt.parent().unwrap_or(Path::new("."));
        for folder in [Some(dir), dir.parent()].into_iter().flatten() {
            if !self.yolo_classes.contains_key(folder) {
                let file = boxes::YOLO_CLASS_FILES
                    .iter()
                    .map(|n| folder.join(n))
                    .find(|f| f.is_file());
                let parsed = match file {
                    Some(file) => Some(boxes::parse_yolo_classes(
                        &file,
                        &formats::read_text(&file)?,
                    )?),
                    None => None,
                };
                self.yolo_classes.insert(folder.to_owned(), parsed);
            }
            if let Some(Some(classes)) = self.yolo_classes.get(folder) {
                return Ok(classes.clone());
            }
        }
        Err(FormatError::new(
            txt,
            "a YOLO label file, but no class list (classes.txt or obj.names) beside it or in the \
             folder above",
        ))
    }
}

/// The label an image sample with these boxes gets when nothing else names one: its most
/// frequent box label (the first in name order on a tie), or `background` with no boxes.
pub fn sample_label_from_boxes(boxes: &[BoundingBox]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for b in boxes {
        *counts.entry(b.label.as_str()).or_default() += 1;
    }
    let mut best: Option<(&str, usize)> = None;
    for (label, count) in counts {
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((label, count));
        }
    }
    best.map_or_else(|| "background".to_owned(), |(l, _)| l.to_owned())
}
