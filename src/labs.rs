//! Lab presets: one `labs/<id>/lab.toml` per book lab, compiled into the binary so a fresh install
//! can create any lab's project offline. A preset fills a new project's sensor, capture, impulse,
//! DSP and model settings with the book's numbers.

use crate::dsp::block::DspSettings;
use crate::dsp::windowing::WindowSettings;
use crate::lab_guide::Step;
use serde::{Deserialize, Serialize};

/// The sensor a lab records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorPreset {
    /// Sensor kind, e.g. `accelerometer`.
    pub kind: String,
    /// Axis names in the order the board prints them.
    pub axes: Vec<String>,
    /// Unit of the values, e.g. `m/s²`.
    pub units: String,
    /// Sampling rate the board is programmed for.
    pub rate_hz: f64,
    /// Serial baud rate the lab's capture sketch uses.
    pub baud: u32,
}

/// How samples are collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapturePreset {
    /// The lab's classes, in Edge Impulse's (alphabetical) order.
    pub labels: Vec<String>,
    /// Length of one recorded sample.
    pub sample_seconds: f64,
    /// How much data per class the book collects.
    pub target_seconds_per_class: f64,
}

/// A lab preset as stored in `labs/<id>/lab.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabPreset {
    /// Format of this file.
    pub format_version: u32,
    /// Short id used on the command line (`--lab motion`).
    pub id: String,
    /// Title shown in the Lab panel.
    pub title: String,
    /// The kit-independent lab this one starts from (a kit's own lab, or a shared lab); `None`
    /// for the kit-independent labs themselves.
    #[serde(default)]
    pub extends: Option<String>,
    /// Ids (in `labs/kits.toml`) of the kits the book runs this lab on; a kit's own lab names one.
    pub kits: Vec<String>,
    /// One paragraph on what the student builds.
    pub summary: String,
    /// Sensor settings.
    pub sensor: SensorPreset,
    /// Capture settings.
    pub capture: CapturePreset,
    /// How samples are cut into windows (Edge Impulse's "impulse").
    pub impulse: WindowSettings,
    /// Processing block and its parameters.
    pub dsp: DspSettings,
    /// Model preset, training settings and anomaly detection.
    pub model: crate::models::ModelSettings,
    /// The book's reported results, for comparison.
    pub book: toml::Table,
    /// The guided steps, in order, with their checks.
    pub steps: Vec<Step>,
}

impl LabPreset {
    /// Checks what the parser cannot: at least one step, and every check's thresholds.
    pub fn validate(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("the lab has no [[steps]]".into());
        }
        for (index, step) in self.steps.iter().enumerate() {
            if let Some(check) = &step.check {
                check
                    .validate()
                    .map_err(|why| format!("step {} ({:?}): {why}", index + 1, step.title))?;
            }
        }
        Ok(())
    }
}

/// The lab files shipped with TinyLab, as `(id, text)`: the four kit-independent labs first, then
/// one per kit and lab (each `extends` a kit-independent one), then the two shared labs.
const SHIPPED: &[(&str, &str)] = &[
    ("motion", include_str!("../labs/motion/lab.toml")),
    ("kws", include_str!("../labs/kws/lab.toml")),
    ("image", include_str!("../labs/image/lab.toml")),
    ("fomo", include_str!("../labs/fomo/lab.toml")),
    ("nicla-image", include_str!("../labs/nicla-image/lab.toml")),
    ("nicla-fomo", include_str!("../labs/nicla-fomo/lab.toml")),
    ("nicla-kws", include_str!("../labs/nicla-kws/lab.toml")),
    (
        "nicla-motion",
        include_str!("../labs/nicla-motion/lab.toml"),
    ),
    ("xiao-image", include_str!("../labs/xiao-image/lab.toml")),
    ("xiao-fomo", include_str!("../labs/xiao-fomo/lab.toml")),
    ("xiao-kws", include_str!("../labs/xiao-kws/lab.toml")),
    ("xiao-motion", include_str!("../labs/xiao-motion/lab.toml")),
    ("grove-image", include_str!("../labs/grove-image/lab.toml")),
    ("pi-image", include_str!("../labs/pi-image/lab.toml")),
    ("pi-fomo", include_str!("../labs/pi-fomo/lab.toml")),
    (
        "kws-features",
        include_str!("../labs/kws-features/lab.toml"),
    ),
    (
        "dsp-spectral",
        include_str!("../labs/dsp-spectral/lab.toml"),
    ),
];

/// The kit reference, `labs/kits.toml`.
const KITS: &str = include_str!("../labs/kits.toml");

/// Keys a lab that `extends` another may set at the top level; every other key is the base's.
const OVERRIDABLE: &[&str] = &[
    "format_version",
    "extends",
    "id",
    "title",
    "kits",
    "summary",
    "sensor",
    "capture",
    "impulse",
    "dsp",
    "model",
    "book",
    "steps",
];

/// Errors reading a lab preset.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// No shipped lab has this id.
    #[error("no lab called {id:?}; available labs: {available}")]
    Unknown {
        /// The id asked for.
        id: String,
        /// Comma-separated ids that exist.
        available: String,
    },
    /// A lab file does not parse.
    #[error("lab file labs/{id}/lab.toml is invalid: {why}")]
    Invalid {
        /// Lab id.
        id: String,
        /// What is wrong, with the line.
        why: String,
    },
    /// A lab file parses but a step's check or a kit makes no sense.
    #[error("lab file labs/{id}/lab.toml: {why}")]
    Check {
        /// Lab id.
        id: String,
        /// Which step and what is wrong.
        why: String,
    },
}

/// Ids of every shipped lab.
pub fn lab_ids() -> Vec<&'static str> {
    SHIPPED.iter().map(|(id, _)| *id).collect()
}

/// Loads the shipped lab preset `id`.
/// Each shipped file is parsed once per process (the Lab panel asks for every lab each frame).
pub fn lab(id: &str) -> Result<LabPreset, LabError> {
    static PARSED: std::sync::OnceLock<Vec<(&'static str, Result<LabPreset, String>)>> =
        std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|(known, text)| (*known, parse(known, text).map_err(|e| e.to_string())))
            .collect()
    });
    match parsed.iter().find(|(known, _)| *known == id) {
        Some((_, Ok(preset))) => Ok(preset.clone()),
        // A shipped file that does not parse: parse again for the typed error.
        Some((_, Err(_))) => parse(id, shipped_text(id)?),
        None => Err(LabError::Unknown {
            id: id.to_owned(),
            available: lab_ids().join(", "),
        }),
    }
}

fn shipped_text(id: &str) -> Result<&'static str, LabError> {
    SHIPPED
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, text)| *text)
        .ok_or_else(|| LabError::Unknown {
            id: id.to_owned(),
            available: lab_ids().join(", "),
        })
}

/// Parses and validates the text of a lab file (`id` names it in errors). A file with
/// `extends = "<lab id>"` starts from that shipped lab: each top-level table it gives is merged
/// key by key into the base's (so `[dsp] do_fft_overlap = true` changes one parameter), and each
/// other value it gives (`title`, `kits`, `[[steps]]`, …) replaces the base's.
pub fn parse(id: &str, text: &str) -> Result<LabPreset, LabError> {
    let invalid = |why: String| LabError::Invalid {
        id: id.to_owned(),
        why,
    };
    let own: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let preset: LabPreset = match own.get("extends") {
        None => toml::from_str(text).map_err(|e| invalid(e.to_string()))?,
        Some(toml::Value::String(base)) => {
            let base = base.clone();
            let table = extended(text, own, &base).map_err(invalid)?;
            // The merged table as text, so a wrong value's error has a span to find its key by.
            let merged = toml::to_string(&table).map_err(|e| invalid(e.to_string()))?;
            toml::from_str(&merged).map_err(|e| {
                let key = e.span().map_or("", |span| key_before(&merged, span.start));
                invalid(format!(
                    "{} (key {key:?}, line {} of this file, merged with labs/{base}/lab.toml)",
                    e.message(),
                    line_of(text, key)
                ))
            })?
        }
        Some(_) => {
            return Err(invalid(format!(
                "line {}: extends must be a lab id in quotes",
                line_of(text, "extends")
            )));
        }
    };
    let check = |why: String| LabError::Check {
        id: id.to_owned(),
        why,
    };
    preset.validate().map_err(check)?;
    if preset.id != id {
        return Err(check(format!(
            "line {}: id is {:?}, but the file is labs/{id}/lab.toml",
            line_of(text, "id"),
            preset.id
        )));
    }
    let known = kits();
    if let Some(kit) = preset
        .kits
        .iter()
        .find(|k| !known.iter().any(|known| &known.id == *k))
    {
        return Err(check(format!(
            "line {}: unknown kit {kit:?}; labs/kits.toml has {}",
            line_of(text, "kits"),
            known
                .iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(preset)
}

/// The base lab `base` with the top-level values of `own` (a lab file that extends it) merged in.
fn extended(text: &str, own: toml::Table, base: &str) -> Result<toml::Table, String> {
    if let Some(key) = own.keys().find(|k| !OVERRIDABLE.contains(&k.as_str())) {
        return Err(format!(
            "line {}: unknown key {key:?}; a lab that extends another may set {}",
            line_of(text, key),
            OVERRIDABLE.join(", ")
        ));
    }
    let base_text =
        shipped_text(base).map_err(|e| format!("line {}: {e}", line_of(text, "extends")))?;
    let mut table: toml::Table = toml::from_str(base_text).map_err(|e| format!("{base}: {e}"))?;
    if table.contains_key("extends") {
        return Err(format!(
            "line {}: {base:?} extends another lab itself; extend a kit-independent lab",
            line_of(text, "extends")
        ));
    }
    for (key, value) in own {
        // The book's results are the kit's own: they replace the base's whole table.
        if key == "book" {
            table.insert(key, value);
        } else {
            merge_value(&mut table, key, value);
        }
    }
    table.insert("extends".into(), toml::Value::String(base.to_owned()));
    Ok(table)
}

/// Sets `key` in `table` to `value`, merging tables key by key at every depth; any other value
/// (arrays such as `[[steps]]` or `kits` included) replaces the old one.
fn merge_value(table: &mut toml::Table, key: String, value: toml::Value) {
    match (table.get_mut(&key), value) {
        (Some(toml::Value::Table(old)), toml::Value::Table(new)) => {
            for (inner_key, inner) in new {
                merge_value(old, inner_key, inner);
            }
        }
        (_, value) => {
            table.insert(key, value);
        }
    }
}

/// The key of the `key = value` line (or the `[table]` header) at byte `at` of `text`: the last
/// part of a dotted one.
fn key_before(text: &str, at: usize) -> &str {
    let line_start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = text.get(line_start..).unwrap_or("");
    let line = line.lines().next().unwrap_or("").trim();
    // A wrong value inside a tagged table (`[dsp]`) is reported at the table's header.
    let key = match line.strip_prefix('[') {
        Some(header) => header.trim_matches(['[', ']']),
        None => line.split('=').next().unwrap_or("").trim(),
    };
    key.rsplit('.')
        .next()
        .unwrap_or(key)
        .trim()
        .trim_matches('"')
}

/// 1-based line of `text` where `key` is set (`key = …`) or opens a table (`[key]`, `[x.key]`);
/// 0 when the file does not set it (it comes from the base lab).
fn line_of(text: &str, key: &str) -> usize {
    if key.is_empty() {
        return 0;
    }
    text.lines()
        .position(|line| {
            let line = line.trim();
            let assigned = line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='));
            let table = line.starts_with('[')
                && line
                    .trim_matches(['[', ']'])
                    .rsplit('.')
                    .next()
                    .is_some_and(|name| name.trim() == key);
            assigned || table
        })
        .map_or(0, |index| index + 1)
}

/// One of the book's hardware kits (`labs/kits.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kit {
    /// Id that labs name in `kits`, e.g. `nicla-vision`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Processor(s) and clock.
    pub processor: String,
    /// Working memory.
    pub ram: String,
    /// Program and file storage.
    pub flash: String,
    /// Sensors on the board or in the kit.
    pub sensors: Vec<String>,
    /// The tools the book uses with it.
    pub toolchains: String,
    /// Anything else worth knowing.
    pub notes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KitsFile {
    format_version: u32,
    kits: Vec<Kit>,
}

/// Parses `labs/kits.toml`.
fn parse_kits(text: &str) -> Result<Vec<Kit>, String> {
    let file: KitsFile = toml::from_str(text).map_err(|e| format!("labs/kits.toml: {e}"))?;
    if file.format_version != 1 {
        return Err(format!(
            "labs/kits.toml: format_version {} is not 1",
            file.format_version
        ));
    }
    Ok(file.kits)
}

/// The book's kits, in the order the Lab panel offers them. The file is compiled in and checked
/// by a test, so a broken one never ships; should it fail anyway, the list is empty.
pub fn kits() -> Vec<Kit> {
    static PARSED: std::sync::OnceLock<Vec<Kit>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| parse_kits(KITS).unwrap_or_default())
        .clone()
}

/// The shipped labs that name the kit `kit_id`, in [`lab_ids`] order.
pub fn labs_for_kit(kit_id: &str) -> Vec<LabPreset> {
    lab_ids()
        .into_iter()
        .filter_map(|id| lab(id).ok())
        .filter(|lab| lab.kits.iter().any(|k| k == kit_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_lab_loads_with_its_own_id() {
        for id in lab_ids() {
            let preset = lab(id).unwrap();
            assert_eq!(preset.id, id);
            assert!(!preset.capture.labels.is_empty());
            assert!(preset.sensor.rate_hz > 0.0);
        }
    }

    #[test]
    fn a_broken_lab_file_names_the_line() {
        let (_, text) = SHIPPED[0];
        let broken = text.replacen("panel = \"capture\"", "panel = \"kitchen\"", 1);
        let err = parse("motion", &broken).unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
        assert!(err.contains("kitchen"), "{err}");
        let wrong = text.replacen("at_least = 0.9", "at_least = 90", 1);
        let err = parse("motion", &wrong).unwrap_err().to_string();
        assert!(err.contains("between 0 and 1"), "{err}");
    }

    #[test]
    fn the_kit_reference_loads_and_every_kit_has_a_lab() {
        let kits = parse_kits(KITS).unwrap();
        assert_eq!(kits.len(), 4);
        for kit in &kits {
            assert!(!kit.sensors.is_empty(), "{}", kit.id);
            assert!(!labs_for_kit(&kit.id).is_empty(), "{} has no lab", kit.id);
        }
    }

    #[test]
    fn a_kit_lab_changes_only_what_it_sets() {
        let base = lab("motion").unwrap();
        let xiao = lab("xiao-motion").unwrap();
        assert_eq!(xiao.kits, ["xiao-esp32s3"]);
        let (DspSettings::Spectral(b), DspSettings::Spectral(x)) = (&base.dsp, &xiao.dsp) else {
            panic!("motion labs use spectral analysis");
        };
        assert!(!b.do_fft_overlap && x.do_fft_overlap);
        assert_eq!(b.fft_length, x.fft_length);
        // A nested table merges key by key: the anomaly threshold changes, the clusters stay.
        assert_eq!(xiao.model.anomaly.threshold, 0.5);
        assert_eq!(xiao.model.anomaly.clusters, base.model.anomaly.clusters);
        assert_eq!(xiao.steps, base.steps);
        // The book's table is the kit's own.
        assert!(xiao.book.contains_key("measured_dsp_ms"));
        assert_eq!(xiao.book.len(), 6);
    }

    #[test]
    fn a_broken_kit_lab_names_its_line() {
        let text = "format_version = 1\nextends = \"motion\"\nid = \"x\"\nkits = [\"nicla-vision\"]\ncolour = 3\n";
        let err = parse("x", text).unwrap_err().to_string();
        assert!(err.contains("line 5") && err.contains("colour"), "{err}");
        let wrong_kit = text
            .replace("colour = 3\n", "")
            .replace("nicla-vision", "toaster");
        let err = parse("x", &wrong_kit).unwrap_err().to_string();
        assert!(err.contains("line 4") && err.contains("toaster"), "{err}");
        let wrong_type = text.replace("colour = 3", "[dsp]\nfft_length = \"big\"");
        let err = parse("x", &wrong_type).unwrap_err().to_string();
        assert!(err.contains("\"big\"") && err.contains("line 5"), "{err}");
        let no_base = text
            .replace("colour = 3\n", "")
            .replace("\"motion\"", "\"dancing\"");
        let err = parse("x", &no_base).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("dancing"), "{err}");
    }

    #[test]
    fn unknown_lab_lists_the_known_ones() {
        let err = lab("juggling").unwrap_err().to_string();
        assert!(err.contains("motion"), "{err}");
    }
}
