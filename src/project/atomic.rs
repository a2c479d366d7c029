//! Crash-safe file writes: write a sibling temp file, flush it to disk, then rename it over the
//! target. A rename within one directory is atomic on POSIX and NTFS, so a reader (or the next
//! start after a crash or a pulled cable) sees either the old file or the new one, never half.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `path` atomically with whatever `write_body` writes.
///
/// If `write_body` fails (or the process dies while it runs) the old file is untouched; the temp
/// file is removed on error and ignored by the project loader if a crash leaves it behind.
pub fn write_atomic(
    path: &Path,
    write_body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut file = io::BufWriter::new(File::create(&tmp)?);
        write_body(&mut file)?;
        let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_parent_dir(path);
        Ok(())
    })();
    if result.is_err() {
        // Best effort: the temp file is garbage either way, and the original error matters more.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// Writes the folder `path` with exactly `files` (`(name, bytes)`, plain names), replacing any
/// folder there: every file is written and flushed in a sibling temp folder, then the old folder
/// is renamed aside, the new one renamed into place and the old one removed. A reader sees the
/// old folder or the new one whole, never a mix; a crash between the two renames leaves the old
/// folder beside the target as `.<name>.<pid>.old`.
pub fn write_dir_atomic(path: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
    if let Some(bad) = files
        .iter()
        .find(|(name, _)| name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.'))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{:?} is not a plain file name", bad.0),
        ));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = temp_path_for(path);
    let result = (|| {
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir(&tmp)?;
        for (name, bytes) in files {
            let mut file = File::create(tmp.join(name))?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        sync_parent_dir(&tmp.join("x"));
        if path.exists() {
            let old = path.with_file_name(format!(
                ".{}.{}.old",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                std::process::id()
            ));
            fs::rename(path, &old)?;
            if let Err(e) = fs::rename(&tmp, path) {
                // Put the old folder back; the new one stays in the temp folder to be removed.
                let _ = fs::rename(&old, path);
                return Err(e);
            }
            let _ = fs::remove_dir_all(&old);
        } else {
            fs::rename(&tmp, path)?;
        }
        sync_parent_dir(path);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// The temp file used while `path` is being written: hidden, same directory, unique per process.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Makes the rename itself durable on POSIX; a failure here only weakens durability, not atomicity.
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let dir = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
}
