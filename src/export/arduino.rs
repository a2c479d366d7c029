//! The Arduino library export (`--format arduino`): the project's C library (the contract's
//! `tinylab_dsp.[ch]` and `tinylab_model.[ch]`) wrapped as an Arduino library folder, in the
//! layout of the Arduino library specification 1.5:
//!
//! ```text
//! <name>/library.properties       name, version, author, maintainer, sentence, paragraph,
//!                                 category=Data Processing, url, architectures, includes
//! <name>/src/<name>.h             includes both C headers inside extern "C"
//! <name>/src/tinylab_*.{h,c}      the C library, unchanged
//! <name>/examples/<kit>_<lab>/<kit>_<lab>.ino   one per kit with a sensor for the project
//! ```
//!
//! [`arduino_library`] builds the files in memory (pure); `zip::zip_bytes` makes the archive
//! and the engine writes either atomically.

use super::arduino_sketches::{ExampleSketch, Kit, Modality, SketchProject, sketch};
use crate::labs::SensorPreset;

/// The C library files the Arduino library must contain (the contract).
pub const C_LIBRARY_FILES: [&str; 4] = [
    "tinylab_dsp.h",
    "tinylab_dsp.c",
    "tinylab_model.h",
    "tinylab_model.c",
];

/// Why a project cannot become an Arduino library.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArduinoError {
    /// The C library export did not produce a file the contract names.
    #[error(
        "the C library has no {file}: export it again (`tinylab export DIR --format c-library`)"
    )]
    MissingCFile {
        /// The file.
        file: String,
    },
    /// A motion project with an axis count no kit's IMU sketch reads.
    #[error(
        "the Arduino examples read 3 axes (accelerometer) or 6 (accelerometer then gyroscope); \
         this project has {axes}: record with one of those layouts to use them"
    )]
    UnsupportedAxes {
        /// The project's axes.
        axes: usize,
    },
    /// Accelerometer values in a unit the sketches cannot produce.
    #[error(
        "the Arduino examples read accelerometers in m/s² or g; this project's unit is {units:?}: \
         set [sensor] units to one of those"
    )]
    UnsupportedUnits {
        /// The project's unit.
        units: String,
    },
}

/// What the library is made from.
#[derive(Debug, Clone, Copy)]
pub struct ArduinoProject<'a> {
    /// The project's display name.
    pub name: &'a str,
    /// The lab it was made from (`motion`, `kws`, ...).
    pub lab: &'a str,
    /// The run whose model it holds, e.g. `run-003`.
    pub run: &'a str,
    /// The project's sensor: kind, axes, units, rate.
    pub sensor: &'a SensorPreset,
}

/// The library: its name and every file with its path relative to the library folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArduinoLibrary {
    /// Library (and folder, and main header) name.
    pub name: String,
    /// `(relative path, contents)`, `library.properties` first.
    pub files: Vec<(String, String)>,
    /// The example sketches (also in `files`), for tools that compile one.
    pub examples: Vec<ExampleSketch>,
}

/// A valid Arduino library name for a project: letters, digits and `_` (the spec also allows
/// spaces, dots and dashes, which a header name cannot carry), starting with a letter or digit,
/// ending in `_tinylab`, at most 63 characters.
pub fn library_name(project_name: &str) -> String {
    let mut stem: String = project_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while stem.contains("__") {
        stem = stem.replace("__", "_");
    }
    let stem = stem.trim_matches('_');
    let stem = if stem.is_empty() { "project" } else { stem };
    let suffix = "_tinylab";
    let keep = 63 - suffix.len();
    let stem: String = stem.chars().take(keep).collect();
    format!("{}{suffix}", stem.trim_end_matches('_'))
}

/// The modality of a project's sensor.
pub fn modality(sensor: &SensorPreset) -> Result<Modality, ArduinoError> {
    match sensor.kind.as_str() {
        crate::project::MICROPHONE => Ok(Modality::Audio),
        crate::project::CAMERA => Ok(Modality::Image),
        _ => {
            let axes = sensor.axes.len();
            if axes != 3 && axes != 6 {
                return Err(ArduinoError::UnsupportedAxes { axes });
            }
            let units = sensor.units.trim();
            let accel_ms2 = match units {
                "m/s²" | "m/s2" | "m/s^2" => true,
                "g" => false,
                _ => {
                    return Err(ArduinoError::UnsupportedUnits {
                        units: sensor.units.clone(),
                    });
                }
            };
            Ok(Modality::Motion { axes, accel_ms2 })
        }
    }
}

/// `1.0.N` from a run id `run-N` (Arduino versions are semver); `1.0.0` for other ids.
pub fn library_version(run: &str) -> String {
    let number = run
        .rsplit('-')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    format!("1.0.{number}")
}

fn properties(name: &str, project: &ArduinoProject, modality: Modality) -> String {
    let what = match modality {
        Modality::Motion { .. } => "motion classification from the IMU",
        Modality::Audio => "keyword spotting from the microphone",
        Modality::Image => "image classification from the camera",
    };
    // One line per field: newlines in the project name would start a new field.
    let project_name: String = project
        .name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "name={name}\n\
         version={version}\n\
         author=TinyLab\n\
         maintainer=TinyLab\n\
         sentence=The TinyLab project \"{project_name}\" ({lab} lab, {run}): {what}, on the board.\n\
         paragraph=The project's DSP and int8 model as plain C99 (no dynamic memory, bit-exact \
         with TinyLab's int8 engine), with an example per kit that prints predictions in Edge \
         Impulse's format.\n\
         category=Data Processing\n\
         url=https://mlsysbook.ai\n\
         architectures=mbed,mbed_nicla,mbed_nano,esp32\n\
         includes={name}.h\n",
        version = library_version(project.run),
        lab = project.lab,
        run = project.run,
    )
}

fn main_header(name: &str) -> String {
    let guard = format!("{}_H", name.to_ascii_uppercase());
    format!(
        "/* {name}: the TinyLab C library for Arduino sketches (C headers inside extern \"C\"). */\n\
         #ifndef {guard}\n\
         #define {guard}\n\
         \n\
         #ifdef __cplusplus\n\
         extern \"C\" {{\n\
         #endif\n\
         \n\
         #include \"tinylab_dsp.h\"\n\
         #include \"tinylab_model.h\"\n\
         \n\
         #ifdef __cplusplus\n\
         }}\n\
         #endif\n\
         \n\
         #endif /* {guard} */\n"
    )
}

/// The Arduino library of `project` around `c_library` (the C library's files by name; the four
/// of [`C_LIBRARY_FILES`] are required, any other `.c`/`.h` is carried along).
pub fn arduino_library(
    project: &ArduinoProject,
    c_library: &[(String, String)],
) -> Result<ArduinoLibrary, ArduinoError> {
    for file in C_LIBRARY_FILES {
        if !c_library.iter().any(|(name, _)| name == file) {
            return Err(ArduinoError::MissingCFile {
                file: file.to_owned(),
            });
        }
    }
    let modality = modality(project.sensor)?;
    let name = library_name(project.name);
    let header = format!("{name}.h");
    let mut files = vec![
        (
            "library.properties".to_owned(),
            properties(&name, project, modality),
        ),
        (format!("src/{header}"), main_header(&name)),
    ];
    for (file, text) in c_library {
        if file.ends_with(".c") || file.ends_with(".h") {
            files.push((format!("src/{file}"), text.clone()));
        }
    }
    let sketch_project = SketchProject {
        project_name: project.name,
        header: &header,
        rate_hz: project.sensor.rate_hz,
    };
    let examples: Vec<ExampleSketch> = Kit::for_modality(modality)
        .iter()
        .map(|&kit| sketch(kit, modality, &sketch_project))
        .collect();
    for example in &examples {
        files.push((
            format!("examples/{0}/{0}.ino", example.folder),
            example.source.clone(),
        ));
    }
    Ok(ArduinoLibrary {
        name,
        files,
        examples,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn library_names_follow_the_arduino_rules() {
        assert_eq!(library_name("Motion demo"), "Motion_demo_tinylab");
        assert_eq!(library_name("  --ünïcode!! kws  "), "n_code_kws_tinylab");
        assert_eq!(library_name("///"), "project_tinylab");
        let long = library_name(&"x".repeat(200));
        assert_eq!(long.len(), 63);
        assert!(long.ends_with("_tinylab"));
    }

    #[test]
    fn versions_come_from_the_run_number() {
        assert_eq!(library_version("run-007"), "1.0.7");
        assert_eq!(library_version("imported"), "1.0.0");
    }

    #[test]
    fn odd_sensors_are_refused_with_what_to_do() {
        let mut sensor = SensorPreset {
            kind: "accelerometer".into(),
            axes: vec!["x".into(), "y".into()],
            units: "m/s²".into(),
            rate_hz: 50.0,
            baud: 115_200,
        };
        assert_eq!(
            modality(&sensor),
            Err(ArduinoError::UnsupportedAxes { axes: 2 })
        );
        sensor.axes.push("z".into());
        sensor.units = "furlongs".into();
        let err = modality(&sensor).unwrap_err();
        assert!(err.to_string().contains("set [sensor] units"), "{err}");
    }
}
