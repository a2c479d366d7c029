//! Writing an [`ArduinoLibrary`] to disk: as a folder (what `arduino-cli compile --library`
//! takes, and what the deploy helper compiles a sketch against) or as a `.zip` (what the Arduino
//! IDE's "Add .ZIP Library…" installs). Both are all or nothing: the folder is written beside
//! its final place under a temporary name and renamed into place, the zip through
//! `project::atomic`.

use crate::export::arduino::ArduinoLibrary;
use crate::export::zip::{ZipEntry, zip_bytes};
use crate::project::atomic::{temp_path_for, write_bytes_atomic};
use std::io;
use std::path::{Path, PathBuf};

/// An error writing the library, naming the path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A filesystem error at a path.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: io::Error,
    },
    /// The destination folder exists and is not empty (it is never overwritten).
    #[error(
        "{path} already exists and is not empty: choose a new folder, or delete it first \
         (TinyLab does not overwrite a folder)"
    )]
    NotEmpty {
        /// The folder.
        path: PathBuf,
    },
    /// The files could not be zipped.
    #[error(transparent)]
    Zip(#[from] crate::export::zip::ZipError),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes the library's files under `folder` (which must not exist, or be empty). Returns the
/// number of files written.
pub fn write_library_folder(library: &ArduinoLibrary, folder: &Path) -> Result<usize, WriteError> {
    if let Ok(mut entries) = std::fs::read_dir(folder)
        && entries.next().is_some()
    {
        return Err(WriteError::NotEmpty {
            path: folder.to_owned(),
        });
    }
    if let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    let staging = temp_path_for(folder);
    let result = (|| {
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io_at(&staging))?;
        }
        for (name, text) in &library.files {
            let path = staging.join(name);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io_at(dir))?;
            }
            write_bytes_atomic(&path, text.as_bytes()).map_err(io_at(&path))?;
        }
        // An empty destination folder is replaced; rename does not replace a directory.
        if folder.exists() {
            std::fs::remove_dir(folder).map_err(io_at(folder))?;
        }
        std::fs::rename(&staging, folder).map_err(io_at(folder))
    })();
    if result.is_err() {
        // Best effort: the staging folder is garbage either way; the first error matters.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result.map(|()| library.files.len())
}

/// The library as a zip with everything under `<name>/`, as the Arduino IDE expects.
pub fn library_zip(library: &ArduinoLibrary) -> Result<Vec<u8>, WriteError> {
    let names: Vec<String> = library
        .files
        .iter()
        .map(|(name, _)| format!("{}/{name}", library.name))
        .collect();
    let entries: Vec<ZipEntry> = names
        .iter()
        .zip(&library.files)
        .map(|(name, (_, text))| ZipEntry {
            name,
            data: text.as_bytes(),
        })
        .collect();
    Ok(zip_bytes(&entries)?)
}

/// Writes [`library_zip`] to `path` atomically; returns its size in bytes.
pub fn write_library_zip(library: &ArduinoLibrary, path: &Path) -> Result<usize, WriteError> {
    let bytes = library_zip(library)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    write_bytes_atomic(path, &bytes).map_err(io_at(path))?;
    Ok(bytes.len())
}

/// `ModelFormat::Arduino`: the C library of `stored` (its int8 model `int8_tflite`, the bytes
/// the quantization kept) in an Arduino library zip at `path`, for the project in
/// `project_dir`. Returns the sentence the Deploy panel and the CLI print.
pub fn export_arduino_zip(
    project_dir: &Path,
    stored: &crate::project::runs::StoredRun,
    int8_tflite: &[u8],
    path: &Path,
) -> Result<String, String> {
    let (library, summary) = build_library(project_dir, stored, int8_tflite)?;
    let bytes = write_library_zip(&library, path).map_err(|e| e.to_string())?;
    let examples: Vec<&str> = library.examples.iter().map(|e| e.folder.as_str()).collect();
    Ok(format!(
        "wrote {} ({bytes} bytes): the Arduino library {} with the examples {}; {summary}",
        path.display(),
        library.name,
        examples.join(", "),
    ))
}

/// The Arduino library of `stored` (its int8 model `int8_tflite`) for the project in
/// `project_dir`, and the C library's RAM/flash sentence.
pub fn build_library(
    project_dir: &Path,
    stored: &crate::project::runs::StoredRun,
    int8_tflite: &[u8],
) -> Result<(ArduinoLibrary, String), String> {
    use crate::export::arduino::{ArduinoProject, arduino_library};
    use crate::export::c_library::{library_files, utc_date};
    let project = crate::project::Project::open(project_dir).map_err(|e| e.to_string())?;
    let settings = project.settings();
    let int8 = crate::export::tflite::read(int8_tflite)
        .map_err(|e| format!("{}'s int8 model: {e}", stored.record.id))?;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let c = library_files(
        stored,
        &int8,
        &settings.name,
        &settings.sensor,
        &utc_date(now_s),
    )
    .map_err(|e| e.to_string())?;
    let library = arduino_library(
        &ArduinoProject {
            name: &settings.name,
            lab: &settings.lab,
            run: &stored.record.id,
            sensor: &settings.sensor,
        },
        &c.files,
    )
    .map_err(|e| e.to_string())?;
    Ok((library, c.summary()))
}
