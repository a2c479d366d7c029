//! Finding the OpenMV board's USB drive. A board running OpenMV firmware shows its internal
//! file system as a USB mass-storage drive (the book: it appears as "NO NAME" and runs `main.py`
//! at reset). OpenMV formats it with `main.py`, `README.txt` and a hidden `.openmv_disk` marker,
//! so a mounted volume holding `.openmv_disk`, or both `main.py` and `README.txt`, is taken for
//! one.
//!
//! Where volumes are mounted: on Linux under `/media/$USER`, `/run/media/$USER` (udisks) and
//! `/media`; on macOS under `/Volumes`; on Windows the drive letters `D:`–`Z:`.

use std::path::{Path, PathBuf};

/// The marker file OpenMV's firmware writes on a freshly formatted drive.
pub const OPENMV_MARKER: &str = ".openmv_disk";

/// Whether `dir` looks like an OpenMV drive.
pub fn is_openmv_drive(dir: &Path) -> bool {
    dir.join(OPENMV_MARKER).is_file()
        || (dir.join("main.py").is_file() && dir.join("README.txt").is_file())
}

/// The folders whose children are mounted volumes, for this system and user.
pub fn mount_roots() -> Vec<PathBuf> {
    if cfg!(target_os = "macos") {
        return vec![PathBuf::from("/Volumes")];
    }
    if cfg!(windows) {
        return Vec::new();
    }
    let mut roots = Vec::new();
    if let Some(user) = std::env::var_os("USER").filter(|u| !u.is_empty()) {
        roots.push(Path::new("/media").join(&user));
        roots.push(Path::new("/run/media").join(&user));
    }
    roots.push(PathBuf::from("/media"));
    roots.push(PathBuf::from("/mnt"));
    roots
}

/// Candidate volumes: the children of `roots`, and on Windows the drive letters.
fn volumes(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if cfg!(windows) {
        found.extend(('D'..='Z').map(|letter| PathBuf::from(format!("{letter}:\\"))));
    }
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut children: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_dir())
            .collect();
        children.sort();
        found.extend(children);
    }
    found
}

/// The OpenMV drives mounted under `roots` (see [`mount_roots`]), without duplicates.
pub fn find_openmv_drives(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut drives: Vec<PathBuf> = Vec::new();
    for volume in volumes(roots) {
        if is_openmv_drive(&volume) && !drives.contains(&volume) {
            drives.push(volume);
        }
    }
    drives
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_drives_by_their_files() {
        let root = tempfile::tempdir().unwrap();
        let marked = root.path().join("NO NAME");
        let classic = root.path().join("OPENMV");
        let other = root.path().join("USB STICK");
        for dir in [&marked, &classic, &other] {
            std::fs::create_dir(dir).unwrap();
        }
        std::fs::write(marked.join(OPENMV_MARKER), "").unwrap();
        std::fs::write(classic.join("main.py"), "").unwrap();
        std::fs::write(classic.join("README.txt"), "").unwrap();
        std::fs::write(other.join("main.py"), "").unwrap();
        let found = find_openmv_drives(&[root.path().to_owned(), root.path().join("missing")]);
        assert_eq!(found, vec![marked, classic]);
    }
}
