//! Demo projects: any lab's project filled with synthetic data, so an instructor can run a lab with
//! no hardware. Motion labs get virtual-kit recordings (`sim::motion`); the others read data bundled
//! into the binary from `labs/demo/*.tar` (made by `labs/demo/make_demo_data.py`, see its doc):
//! keyword spotting builds one-second clips from spoken words over generated noise, image
//! classification takes drawn toys, FOMO takes drawn scenes with their boxes. Only the classes the
//! lab has are added, so a kit lab with other classes (XIAO's box/wheel, fruit/bug) gets its own.

use crate::labs::{self, LabPreset};
use crate::nn::model::Head;
use crate::project::formats::{boxes, image, wav};
use crate::project::sample::{Series, Split};
use crate::project::{NewSample, Project};
use crate::rng::Rng;
use crate::sim::motion::{Motion, synthesize};
use std::path::Path;

/// Spoken words, `<class>/<n>.wav` (16 kHz, trimmed to the word).
const KWS_TAR: &[u8] = include_bytes!("../../labs/demo/kws.tar");
/// Pictures, `<class>/<n>.jpg`.
const IMAGES_TAR: &[u8] = include_bytes!("../../labs/demo/images.tar");
/// Scenes, `<set>/<training|testing>/<n>.jpg` and `bounding_boxes.labels`.
const SCENES_TAR: &[u8] = include_bytes!("../../labs/demo/scenes.tar");

/// Samples per class of a motion demo: 3 train + 1 test of 10 s each.
const MOTION_SAMPLES_PER_CLASS: usize = 4;
/// One-second clips made from each spoken word (other positions in the clip, other noise).
const KWS_CLIPS_PER_WORD: usize = 4;
/// Every fifth word (and its clips, and every fifth picture) goes to the test split.
const TEST_EVERY: usize = 5;

/// Creates the demo project the window opens when there is no other: the motion lab, filled from
/// the virtual kit.
pub fn create_demo_project(dir: &Path) -> Result<Project, String> {
    create_lab_demo_project(dir, "motion")
}

/// Creates the project of lab `lab_id` in `dir` and fills it with the lab's demo data.
pub fn create_lab_demo_project(dir: &Path, lab_id: &str) -> Result<Project, String> {
    let lab = labs::lab(lab_id).map_err(|e| e.to_string())?;
    let samples = demo_samples(&lab)?;
    let mut project = Project::create(dir, &lab).map_err(|e| e.to_string())?;
    project.add_many(samples).map_err(|e| e.to_string())?;
    Ok(project)
}

/// The demo samples of `lab`, by its sensor (and, for cameras, its model's head).
pub fn demo_samples(lab: &LabPreset) -> Result<Vec<NewSample>, String> {
    let samples = match lab.sensor.kind.as_str() {
        crate::project::CAMERA => {
            let per_cell = crate::models::preset(&lab.model.preset)
                .is_ok_and(|preset| preset.head == Head::PerCell);
            if per_cell {
                scene_samples(lab)?
            } else {
                picture_samples(lab)?
            }
        }
        "microphone" => kws_samples(lab)?,
        _ => motion_samples(lab),
    };
    if samples.is_empty() {
        return Err(format!(
            "there is no demo data for the classes of lab {} ({})",
            lab.id,
            lab.capture.labels.join(", ")
        ));
    }
    Ok(samples)
}

fn split_of(index: usize) -> Split {
    if index % TEST_EVERY == TEST_EVERY - 1 {
        Split::Test
    } else {
        Split::Train
    }
}

/// Virtual-kit recordings of every motion class the lab has, at the lab's rate.
fn motion_samples(lab: &LabPreset) -> Vec<NewSample> {
    let rate_hz = lab.sensor.rate_hz;
    let mut samples = Vec::new();
    for (class, motion) in Motion::ALL.into_iter().enumerate() {
        if !lab.capture.labels.iter().any(|l| l == motion.label()) {
            continue;
        }
        for take in 0..MOTION_SAMPLES_PER_CLASS {
            let seed = (class * 100 + take) as u64 + 1;
            let values = synthesize(motion, rate_hz, lab.capture.sample_seconds, seed);
            samples.push(NewSample {
                series: Series {
                    axes: lab.sensor.axes.clone(),
                    rate_hz,
                    values,
                },
                label: motion.label().to_owned(),
                split: if take + 1 == MOTION_SAMPLES_PER_CLASS {
                    Split::Test
                } else {
                    Split::Train
                },
                source: "virtual-board".into(),
                image: None,
                boxes: Vec::new(),
            });
        }
    }
    samples
}

/// One-second clips: each bundled word at [`KWS_CLIPS_PER_WORD`] seeded positions over seeded
/// background noise, and as many clips of noise alone for the `noise` class.
fn kws_samples(lab: &LabPreset) -> Result<Vec<NewSample>, String> {
    let rate_hz = lab.sensor.rate_hz;
    let clip_len = (rate_hz * lab.capture.sample_seconds).round() as usize;
    let has = |label: &str| lab.capture.labels.iter().any(|l| l == label);
    let mut rng = Rng::new(0x006b_7773_6465_6d6f);
    let mut samples = Vec::new();
    let mut most_words = 0;
    for (name, bytes) in tar_entries(KWS_TAR)? {
        let Some((label, _)) = name.split_once('/') else {
            continue;
        };
        if !has(label) {
            continue;
        }
        let word = wav::parse_series(Path::new(&name), bytes).map_err(|e| e.to_string())?;
        if (word.rate_hz - rate_hz).abs() > 0.5 {
            return Err(format!(
                "{name}: {} Hz, the lab records at {rate_hz} Hz",
                word.rate_hz
            ));
        }
        let index = samples
            .iter()
            .filter(|s: &&NewSample| s.label == label)
            .count();
        let word_index = index / KWS_CLIPS_PER_WORD;
        most_words = most_words.max(word_index + 1);
        for _ in 0..KWS_CLIPS_PER_WORD {
            let mut clip = noise(&mut rng, clip_len);
            let room = clip_len.saturating_sub(word.values.len());
            let start = (rng.next_f64() * room as f64) as usize;
            let gain = 0.5 + 0.5 * rng.next_f64();
            for (out, v) in clip.iter_mut().skip(start).zip(&word.values) {
                *out += v * gain as f32;
            }
            samples.push(audio_sample(
                clip,
                rate_hz,
                label,
                split_of(word_index),
                &name,
            ));
        }
    }
    if has("noise") {
        for index in 0..most_words * KWS_CLIPS_PER_WORD {
            let clip = noise(&mut rng, clip_len);
            let split = split_of(index / KWS_CLIPS_PER_WORD);
            samples.push(audio_sample(
                clip,
                rate_hz,
                "noise",
                split,
                "generated noise",
            ));
        }
    }
    Ok(samples)
}

fn audio_sample(
    values: Vec<f32>,
    rate_hz: f64,
    label: &str,
    split: Split,
    source: &str,
) -> NewSample {
    NewSample {
        series: Series {
            axes: vec![wav::AUDIO_AXIS.to_owned()],
            rate_hz,
            values: values
                .into_iter()
                .map(|v| v.clamp(-32768.0, 32767.0).round())
                .collect(),
        },
        label: label.to_owned(),
        split,
        source: format!("demo:{source}"),
        image: None,
        boxes: Vec::new(),
    }
}

/// Room noise in int16 units: white noise through a one-pole low-pass (a seeded colour and
/// level, about −50 to −30 dBFS), sometimes with mains hum.
fn noise(rng: &mut Rng, len: usize) -> Vec<f32> {
    let level = 32768.0 * 10f64.powf(-(30.0 + 20.0 * rng.next_f64()) / 20.0);
    let smooth = 0.5 + 0.45 * rng.next_f64();
    let hum = if rng.next_f64() < 0.3 {
        level * 0.5
    } else {
        0.0
    };
    let mut state = 0.0;
    (0..len)
        .map(|i| {
            let white = (rng.next_f64() * 2.0 - 1.0) * level * 3.0;
            state = smooth * state + (1.0 - smooth) * white;
            let t = i as f64 / 16_000.0;
            (state + hum * (2.0 * std::f64::consts::PI * 50.0 * t).sin()) as f32
        })
        .collect()
}

/// The bundled pictures of the lab's classes; every fifth of a class is for test.
fn picture_samples(lab: &LabPreset) -> Result<Vec<NewSample>, String> {
    let mut samples = Vec::new();
    for (name, bytes) in tar_entries(IMAGES_TAR)? {
        let Some((label, _)) = name.split_once('/') else {
            continue;
        };
        if !lab.capture.labels.iter().any(|l| l == label) {
            continue;
        }
        let index = samples
            .iter()
            .filter(|s: &&NewSample| s.label == label)
            .count();
        let (encoded, _) =
            image::decode_bytes(Path::new(&name), bytes.to_vec()).map_err(|e| e.to_string())?;
        samples.push(NewSample::from_image(
            encoded,
            label.to_owned(),
            split_of(index),
            format!("demo:{name}"),
        ));
    }
    Ok(samples)
}

/// The bundled scene set whose object classes are all the lab's, with each scene's boxes.
fn scene_samples(lab: &LabPreset) -> Result<Vec<NewSample>, String> {
    let entries = tar_entries(SCENES_TAR)?;
    let fits = |set: &str| {
        set.split('-')
            .all(|c| lab.capture.labels.iter().any(|l| l == c))
    };
    let mut samples = Vec::new();
    for (name, bytes) in &entries {
        let Some(folder) = name.strip_suffix(boxes::EI_LABELS_FILE) else {
            continue;
        };
        let Some((set, split_name)) = folder.trim_end_matches('/').split_once('/') else {
            continue;
        };
        if !fits(set) {
            continue;
        }
        let text = std::str::from_utf8(bytes).map_err(|e| format!("{name}: {e}"))?;
        let labels = boxes::parse_ei_labels(Path::new(name), text).map_err(|e| e.to_string())?;
        let split = if split_name == "testing" {
            Split::Test
        } else {
            Split::Train
        };
        for (file, file_boxes) in labels {
            let path = format!("{folder}{file}");
            let Some((_, bytes)) = entries.iter().find(|(n, _)| *n == path) else {
                return Err(format!("{name} names {file}, which the demo data lacks"));
            };
            let (encoded, _) =
                image::decode_bytes(Path::new(&path), bytes.to_vec()).map_err(|e| e.to_string())?;
            let mut sample = NewSample::from_image(
                encoded,
                super::box_labels::sample_label_from_boxes(&file_boxes),
                split,
                format!("demo:{path}"),
            );
            sample.boxes = file_boxes;
            samples.push(sample);
        }
    }
    Ok(samples)
}

/// The regular files of a ustar archive, as `(path, contents)`, in archive order.
fn tar_entries(tar: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    const BLOCK: usize = 512;
    let mut entries = Vec::new();
    let mut at = 0;
    while let Some(header) = tar.get(at..at + BLOCK) {
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let text = |range: std::ops::Range<usize>| {
            let field = header.get(range).unwrap_or(&[]);
            let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
            String::from_utf8_lossy(field.get(..end).unwrap_or(&[])).into_owned()
        };
        let size = usize::from_str_radix(text(124..136).trim(), 8)
            .map_err(|_| format!("demo data: bad size in the header at byte {at}"))?;
        let (prefix, name) = (text(345..500), text(0..100));
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let data = tar
            .get(at + BLOCK..at + BLOCK + size)
            .ok_or_else(|| format!("demo data: {path} is cut short"))?;
        if matches!(header.get(156), Some(b'0') | Some(0)) {
            entries.push((path, data));
        }
        at += BLOCK + size.div_ceil(BLOCK) * BLOCK;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lab_has_demo_data_for_each_class() {
        for id in labs::lab_ids() {
            let lab = labs::lab(id).unwrap();
            let samples = demo_samples(&lab).unwrap();
            for label in &lab.capture.labels {
                let of = |split| {
                    samples
                        .iter()
                        .filter(|s| &s.label == label && s.split == split)
                        .count()
                };
                assert!(
                    of(Split::Train) >= 3,
                    "{id}: {label} has {} train samples",
                    of(Split::Train)
                );
                assert!(of(Split::Test) >= 1, "{id}: {label} has no test sample");
            }
        }
    }

    #[test]
    fn kws_clips_are_one_second_and_keep_words_out_of_both_splits() {
        let lab = labs::lab("kws").unwrap();
        let samples = kws_samples(&lab).unwrap();
        assert!(samples.iter().all(|s| s.series.values.len() == 16_000));
        for sample in samples.iter().filter(|s| s.label != "noise") {
            let mut same_word = samples.iter().filter(|o| o.source == sample.source);
            assert!(same_word.clone().count() == KWS_CLIPS_PER_WORD);
            assert!(
                same_word.all(|o| o.split == sample.split),
                "{}",
                sample.source
            );
        }
    }

    #[test]
    fn a_cut_archive_is_an_error() {
        let err = tar_entries(&IMAGES_TAR[..1000]).unwrap_err();
        assert!(err.contains("cut short"), "{err}");
    }
}
