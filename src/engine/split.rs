//! The engine's side of splitting a long recording into one clip per word: propose the clips
//! ([`crate::dsp::split::split_words`] on the sample's audio) and apply the accepted ones as new
//! samples with the sample's split, in one undo step that can also delete the original.

use super::EngineLoop;
use super::undo::{self, UndoStep};
use crate::dsp::split::{SplitSettings, split_words};
use crate::project::NewSample;
use crate::project::sample::{SampleId, Series};
use crate::protocol::{Event, Level};
use std::ops::Range;

impl EngineLoop {
    /// Finds the words of `sample` and sends the proposed clips.
    pub(super) fn propose_split(&mut self, sample: SampleId, settings: &SplitSettings) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "no project is open");
        };
        let series = match project.load_series(sample) {
            Ok(series) => series,
            Err(e) => return self.notice(Level::Error, e.to_string()),
        };
        if series.axes.len() != 1 {
            return self.notice(
                Level::Error,
                "splitting into words works on audio (one axis); this sample has several",
            );
        }
        let clips = split_words(&series.values, series.rate_hz, settings);
        self.emit(Event::SplitProposed {
            sample,
            series,
            clips,
        });
    }

    /// Adds `clips` of `sample` as new samples labelled `label`; deletes the original unless
    /// `keep_original`. One undo step reverts all of it.
    pub(super) fn apply_split(
        &mut self,
        sample: SampleId,
        clips: &[Range<usize>],
        label: &str,
        keep_original: bool,
    ) {
        let Some(project) = &mut self.project else {
            return self.notice(Level::Error, "no project is open");
        };
        if clips.is_empty() {
            return self.notice(Level::Error, "accept at least one clip first");
        }
        let (meta, series) = match (project.sample(sample).cloned(), project.load_series(sample)) {
            (Ok(meta), Ok(series)) => (meta, series),
            (Err(e), _) | (_, Err(e)) => return self.notice(Level::Error, e.to_string()),
        };
        let width = series.axes.len().max(1);
        let mut new = Vec::with_capacity(clips.len());
        for clip in clips {
            let Some(values) = series.values.get(clip.start * width..clip.end * width) else {
                return self.notice(
                    Level::Error,
                    format!(
                        "clip {}..{} lies outside sample {sample} ({} readings)",
                        clip.start,
                        clip.end,
                        series.readings()
                    ),
                );
            };
            new.push(NewSample {
                series: Series {
                    axes: series.axes.clone(),
                    rate_hz: series.rate_hz,
                    values: values.to_vec(),
                },
                label: label.to_owned(),
                split: meta.split,
                source: format!("split:{sample}"),
                image: None,
                boxes: Vec::new(),
            });
        }
        let added = match project.add_many(new) {
            Ok(added) => added.iter().map(|m| m.id).collect::<Vec<_>>(),
            Err(e) => return self.notice(Level::Error, format!("nothing was split: {e}")),
        };
        let original = if keep_original {
            None
        } else {
            match project.delete(sample) {
                Ok(deleted) => Some(deleted),
                Err(e) => {
                    self.notice(
                        Level::Error,
                        format!("the clips were added but {sample} could not be removed: {e}"),
                    );
                    None
                }
            }
        };
        let count = added.len();
        undo::push(
            &mut self.undo,
            UndoStep::Split {
                added,
                original: original.map(Box::new),
            },
        );
        self.notice(
            Level::Info,
            format!("split {sample} into {count} clip(s) labelled {label}"),
        );
        self.emit_dataset();
    }
}
