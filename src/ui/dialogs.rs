//! Native file dialogs without freezing the window: each dialog runs on its own named thread
//! (rfd's blocking API), and the answer comes back through a channel the app polls every frame.
//! Where no dialog service exists (no XDG portal, no zenity) rfd answers "cancelled" at once;
//! every place that offers a dialog therefore also has a path field.

use crossbeam_channel::{Receiver, Sender, bounded};
use std::path::PathBuf;

/// What a dialog was opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Choose a folder for a new project.
    NewProjectFolder,
    /// Choose a project folder to open.
    OpenProject,
    /// Choose sample files to import.
    ImportFiles,
    /// Choose where to export the dataset.
    ExportFolder,
    /// Choose a folder of samples, one subfolder per label.
    ImportFolder,
    /// Choose the `.tflite` file a model is exported to.
    ExportModelFile,
    /// Choose the folder the C array files are written to.
    ExportModelFolder,
}

/// Dialogs in flight and their answers.
pub struct Dialogs {
    tx: Sender<(DialogPurpose, Vec<PathBuf>)>,
    rx: Receiver<(DialogPurpose, Vec<PathBuf>)>,
}

impl Default for Dialogs {
    fn default() -> Self {
        let (tx, rx) = bounded(8);
        Self { tx, rx }
    }
}

impl Dialogs {
    /// Opens a dialog for `purpose`; `wake` repaints the window when it is answered.
    pub fn open(
        &self,
        purpose: DialogPurpose,
        wake: impl Fn() + Send + 'static,
    ) -> std::io::Result<()> {
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let dialog = rfd::FileDialog::new();
                let paths = match purpose {
                    DialogPurpose::NewProjectFolder
                    | DialogPurpose::OpenProject
                    | DialogPurpose::ExportFolder
                    | DialogPurpose::ImportFolder
                    | DialogPurpose::ExportModelFolder => {
                        dialog.pick_folder().into_iter().collect()
                    }
                    DialogPurpose::ExportModelFile => dialog
                        .add_filter("TensorFlow Lite model", &["tflite"])
                        .save_file()
                        .into_iter()
                        .collect(),
                    DialogPurpose::ImportFiles => dialog
                        .add_filter(
                            "Samples (CSV, Edge Impulse JSON, WAV)",
                            &["csv", "json", "wav"],
                        )
                        .pick_files()
                        .unwrap_or_default(),
                };
                if !paths.is_empty() {
                    let _ = tx.send((purpose, paths));
                    wake();
                }
            })?;
        Ok(())
    }

    /// An answered dialog, if any.
    pub fn poll(&self) -> Option<(DialogPurpose, Vec<PathBuf>)> {
        self.rx.try_recv().ok()
    }
}
