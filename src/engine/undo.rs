//! Undo for dataset edits. Each edit applied to the project returns the step that reverts it,
//! so undo never has to guess what the state was. Deleted files wait in the project's `.trash/`.

use crate::project::sample::{BoundingBox, SampleId, Split};
use crate::project::{DeletedSample, Project, ProjectError};

/// How many steps are kept.
const UNDO_DEPTH: usize = 100;

/// An edit about to be applied.
pub enum Edit {
    /// Give samples a new label.
    Relabel(Vec<SampleId>, String),
    /// Move samples to a split.
    SetSplit(Vec<SampleId>, Split),
    /// Delete samples.
    Delete(Vec<SampleId>),
    /// Replace an image's bounding boxes.
    SetBoxes(SampleId, Vec<BoundingBox>),
}

/// What reverts an applied edit.
pub enum UndoStep {
    /// Old labels.
    Relabel(Vec<(SampleId, String)>),
    /// Old splits.
    SetSplit(Vec<(SampleId, Split)>),
    /// Deleted samples, in deletion order.
    Delete(Vec<DeletedSample>),
    /// An image's boxes before the edit.
    SetBoxes(SampleId, Vec<BoundingBox>),
    /// Samples that were added (recorded or imported); undo deletes them.
    Added(Vec<SampleId>),
    /// A recording split into clips: undo deletes the clips and restores the original.
    Split {
        /// The clips added.
        added: Vec<SampleId>,
        /// The original, when it was deleted.
        original: Option<Box<DeletedSample>>,
    },
}

/// A relabel edit; refuses an empty selection.
pub fn relabel(ids: Vec<SampleId>, label: String) -> Result<Edit, String> {
    non_empty(&ids)?;
    Ok(Edit::Relabel(ids, label))
}

/// A move edit; refuses an empty selection.
pub fn set_split(ids: Vec<SampleId>, split: Split) -> Result<Edit, String> {
    non_empty(&ids)?;
    Ok(Edit::SetSplit(ids, split))
}

/// A box edit of one image (drawn, moved, relabelled, deleted or copied forward).
pub fn set_boxes(id: SampleId, boxes: Vec<BoundingBox>) -> Result<Edit, String> {
    Ok(Edit::SetBoxes(id, boxes))
}

/// A delete edit; refuses an empty selection.
pub fn delete(ids: Vec<SampleId>) -> Result<Edit, String> {
    non_empty(&ids)?;
    Ok(Edit::Delete(ids))
}

fn non_empty(ids: &[SampleId]) -> Result<(), String> {
    if ids.is_empty() {
        Err("select one or more samples first".into())
    } else {
        Ok(())
    }
}

/// Pushes a step, forgetting the oldest beyond the depth.
pub fn push(stack: &mut Vec<UndoStep>, step: UndoStep) {
    stack.push(step);
    if stack.len() > UNDO_DEPTH {
        stack.remove(0);
    }
}

impl Edit {
    /// Applies the edit. On an error part-way, what was done is reverted first.
    pub fn apply(self, project: &mut Project) -> Result<UndoStep, ProjectError> {
        let mut step = match &self {
            Self::Relabel(..) => UndoStep::Relabel(Vec::new()),
            Self::SetSplit(..) => UndoStep::SetSplit(Vec::new()),
            Self::Delete(..) => UndoStep::Delete(Vec::new()),
            Self::SetBoxes(id, _) => UndoStep::SetBoxes(*id, project.sample(*id)?.boxes.clone()),
        };
        let result = (|| {
            match (self, &mut step) {
                (Self::Relabel(ids, label), UndoStep::Relabel(old)) => {
                    for id in ids {
                        old.push((id, project.relabel(id, &label)?));
                    }
                }
                (Self::SetSplit(ids, split), UndoStep::SetSplit(old)) => {
                    for id in ids {
                        old.push((id, project.set_split(id, split)?));
                    }
                }
                (Self::Delete(ids), UndoStep::Delete(deleted)) => {
                    for id in ids {
                        deleted.push(project.delete(id)?);
                    }
                }
                (Self::SetBoxes(id, boxes), UndoStep::SetBoxes(..)) => {
                    project.set_boxes(id, boxes)?;
                }
                _ => {}
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(step),
            Err(e) => {
                let _ = step.revert(project);
                Err(e)
            }
        }
    }
}

impl UndoStep {
    /// What undoing this step does, for the Undo button's tooltip: "relabel 2 samples".
    pub fn describe(&self) -> String {
        let (verb, n) = match self {
            Self::Relabel(v) => ("relabel", v.len()),
            Self::SetSplit(v) => ("move", v.len()),
            Self::Delete(v) => ("delete", v.len()),
            Self::SetBoxes(..) => ("change the boxes of", 1),
            Self::Added(v) => ("add", v.len()),
            Self::Split { added, .. } => ("split into", added.len()),
        };
        format!("{verb} {n} sample{}", if n == 1 { "" } else { "s" })
    }

    /// Reverts the step, newest change first.
    pub fn revert(self, project: &mut Project) -> Result<(), ProjectError> {
        match self {
            Self::Relabel(old) => {
                for (id, label) in old.into_iter().rev() {
                    project.relabel(id, &label)?;
                }
            }
            Self::SetSplit(old) => {
                for (id, split) in old.into_iter().rev() {
                    project.set_split(id, split)?;
                }
            }
            Self::Delete(deleted) => {
                for sample in deleted.into_iter().rev() {
                    project.restore(sample)?;
                }
            }
            Self::SetBoxes(id, boxes) => {
                project.set_boxes(id, boxes)?;
            }
            Self::Added(ids) => {
                for id in ids.into_iter().rev() {
                    project.delete(id)?;
                }
            }
            Self::Split { added, original } => {
                for id in added.into_iter().rev() {
                    project.delete(id)?;
                }
                if let Some(original) = original {
                    project.restore(*original)?;
                }
            }
        }
        Ok(())
    }
}
