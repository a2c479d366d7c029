//! A folder of images played like a camera: its PNG/JPEG/BMP files in name order (subfolders
//! too, so a folder with one subfolder per label plays them all), one every `1 / fps` seconds,
//! starting over after the last. For demos, lessons without a kit, and tests.

use super::camera::{FrameSource, SourceError};
use crate::project::formats::MAX_FILE_BYTES;
use crate::project::formats::image::is_image_path;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Most images a folder source lists.
const MAX_IMAGES: usize = 100_000;

/// The images of a folder, played in order.
pub struct ImageFolder {
    files: Vec<PathBuf>,
    next: usize,
    interval: Duration,
    due: Option<Instant>,
    stop: Arc<AtomicBool>,
}

impl ImageFolder {
    /// Lists the images under `dir`; an error when there are none. `fps` is clamped to 0.1–60.
    pub fn open(dir: &Path, fps: f64, stop: Arc<AtomicBool>) -> Result<Self, String> {
        let mut files = Vec::new();
        collect(dir, &mut files, 0)?;
        files.sort();
        if files.is_empty() {
            return Err(format!(
                "{} has no PNG, JPEG or BMP images to play as a camera",
                dir.display()
            ));
        }
        let fps = if fps.is_finite() {
            fps.clamp(0.1, 60.0)
        } else {
            5.0
        };
        Ok(Self {
            files,
            next: 0,
            interval: Duration::from_secs_f64(1.0 / fps),
            due: None,
            stop,
        })
    }

    /// Images in the folder.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when it has no images (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>, depth: usize) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth < 2 {
            collect(&path, files, depth + 1)?;
        } else if is_image_path(&path) && files.len() < MAX_IMAGES {
            files.push(path);
        }
    }
    Ok(())
}

impl FrameSource for ImageFolder {
    fn next_image(&mut self) -> Result<Vec<u8>, SourceError> {
        if let Some(due) = self.due {
            while Instant::now() < due {
                if self.stop.load(Ordering::Relaxed) {
                    return Err(SourceError::Stopped);
                }
                let left = due.saturating_duration_since(Instant::now());
                std::thread::sleep(left.min(Duration::from_millis(50)));
            }
        }
        self.due = Some(Instant::now() + self.interval);
        let Some(path) = self.files.get(self.next) else {
            return Err(SourceError::Fatal("the folder has no images".into()));
        };
        self.next = (self.next + 1) % self.files.len();
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if size > MAX_FILE_BYTES {
            return Err(SourceError::Fatal(format!(
                "{} is over {MAX_FILE_BYTES} bytes",
                path.display()
            )));
        }
        std::fs::read(path)
            .map_err(|e| SourceError::Fatal(format!("cannot read {}: {e}", path.display())))
    }
}
