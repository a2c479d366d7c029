//! The keyword-spotting lab end to end, headless, on speech synthesised in the test: espeak-ng
//! speaks "yes", "no" and other words with several voices, speeds and pitches, sox resamples its
//! 22.05 kHz output to the lab's 16 kHz, and a seeded generator adds background noise and makes
//! the noise class. The clips are imported with `tinylab import` (labels from file names),
//! featurised with the lab's MFCC, the Conv1D preset is trained with `tinylab train`, the test
//! split evaluated with `tinylab eval`, and `tinylab classify` must find "yes" in a longer
//! recording. Splitting must find each word of a sentence of words separated by silence and noise.
//! Finally the trained model classifies the four real recordings of TensorFlow Lite Micro's
//! micro_speech example, when the shared reference folder is present (printed, not asserted).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

use std::path::{Path, PathBuf};
use std::process::Command;
mod common;

use common::{expect, ok};
use tinylab::dsp::split::{SplitSettings, split_words};
use tinylab::engine::Engine;
use tinylab::protocol::{Command as EngineCommand, Event};
use tinylab::rng::Rng;

const RATE: u32 = 16_000;
/// espeak-ng voices: British, American, Scottish, Caribbean, Lancaster, West Midlands and New York
/// English, with female, male and Klatt-synthesiser variants.
const VOICES: [&str; 16] = [
    "en",
    "en-us",
    "en-gb-scotland",
    "en-029",
    "en+f3",
    "en-us+f2",
    "en+m3",
    "en-gb-x-rp+f4",
    "en-gb-x-gbclan",
    "en-us+m1",
    "en-gb-x-gbcwmd+f1",
    "en-us-nyc",
    "en+klatt",
    "en-us+f5",
    "en+m7",
    "en-029+f2",
];
const UNKNOWN_WORDS: [&str; 12] = [
    "left", "right", "stop", "go", "house", "seven", "bird", "cat", "happy", "down", "tree", "wow",
];

/// `word` spoken by espeak-ng at 16 kHz (sox resamples espeak's 22.05 kHz), leading and trailing
/// silence trimmed, as floats in int16 units.
fn speak(word: &str, voice: &str, speed: u32, pitch: u32, scratch: &Path) -> Vec<f32> {
    let raw = scratch.join("espeak.wav");
    let resampled = scratch.join("espeak16k.wav");
    let status = Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
        ])
        .arg("-w")
        .arg(&raw)
        .arg(word)
        .status()
        .expect("espeak-ng is missing: run scripts/install-deps.sh");
    assert!(status.success(), "espeak-ng failed for {word} / {voice}");
    // -D: no dither, so the same words give the same samples on every run.
    let status = Command::new("sox")
        .arg("-D")
        .arg(&raw)
        .args(["-r", "16000", "-b", "16", "-c", "1"])
        .arg(&resampled)
        .status()
        .expect("sox is missing: run scripts/install-deps.sh");
    assert!(status.success(), "sox failed");
    let mut reader = hound::WavReader::open(&resampled).unwrap();
    assert_eq!(reader.spec().sample_rate, RATE);
    let samples: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()))
        .collect();
    let loud = |v: &f32| v.abs() > 300.0;
    let first = samples.iter().position(loud).unwrap_or(0);
    let last = samples.iter().rposition(loud).unwrap_or(samples.len());
    samples[first..=last.max(first)].to_vec()
}

/// Background noise: white noise through a one-pole low-pass (a hum of a room), amplitude `amp`.
fn noise(n: usize, amp: f32, rng: &mut Rng) -> Vec<f32> {
    let mut state = 0.0_f32;
    let a = 0.3 + 0.6 * rng.next_f64() as f32;
    (0..n)
        .map(|_| {
            let white = (rng.next_f64() as f32 - 0.5) * 2.0;
            state = a * state + (1.0 - a) * white;
            amp * (0.5 * white + state)
        })
        .collect()
}

fn write_wav(path: &Path, values: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for v in values {
        writer
            .write_sample(v.round().clamp(-32768.0, 32767.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// A one-second clip: `word` (if any) at a random offset and gain over background noise.
fn clip(word: Option<&[f32]>, rng: &mut Rng) -> Vec<f32> {
    let amp = 50.0 + 400.0 * rng.next_f64() as f32;
    let mut out = noise(RATE as usize, amp, rng);
    if let Some(word) = word {
        let word = &word[..word.len().min(RATE as usize)];
        let room = RATE as usize - word.len();
        let offset = rng.below(room + 1);
        let gain = 0.5 + rng.next_f64() as f32;
        for (o, w) in out[offset..].iter_mut().zip(word) {
            *o += gain * w;
        }
    }
    out
}

/// Writes the dataset: `per_class` clips of yes, no, unknown and noise, named `label.NNN.wav`.
fn make_dataset(dir: &Path, scratch: &Path, per_class: usize) {
    let mut rng = Rng::new(2024);
    let mut n = 0;
    for i in 0..per_class {
        let voice = VOICES[i % VOICES.len()];
        let speed = 110 + rng.below(90) as u32;
        let pitch = 25 + rng.below(50) as u32;
        for (label, word) in [
            ("yes", "yes"),
            ("no", "no"),
            ("unknown", UNKNOWN_WORDS[i % UNKNOWN_WORDS.len()]),
        ] {
            let spoken = speak(word, voice, speed, pitch, scratch);
            write_wav(
                &dir.join(format!("{label}.{n:03}.wav")),
                &clip(Some(&spoken), &mut rng),
            );
            n += 1;
        }
        write_wav(
            &dir.join(format!("noise.{n:03}.wav")),
            &clip(None, &mut rng),
        );
        n += 1;
    }
}

/// A long recording: `words` spoken with gaps of silence plus noise; returns the samples and the
/// centre of each word in seconds.
fn sentence(words: &[(&str, &str)], scratch: &Path, seed: u64) -> (Vec<f32>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let mut out = noise(RATE as usize / 2, 80.0, &mut rng);
    let mut centres = Vec::new();
    for (word, voice) in words {
        let spoken = speak(word, voice, 150, 50, scratch);
        centres.push((out.len() + spoken.len() / 2) as f64 / f64::from(RATE));
        let background = noise(spoken.len(), 80.0, &mut rng);
        out.extend(spoken.iter().zip(background).map(|(s, b)| s + b));
        let gap = RATE as usize * 8 / 10 + rng.below(RATE as usize / 2);
        out.extend(noise(gap, 80.0, &mut rng));
    }
    (out, centres)
}

#[test]
fn splitting_finds_each_spoken_word() {
    let scratch = tempfile::tempdir().unwrap();
    let words = [
        ("yes", "en"),
        ("no", "en-us+f2"),
        ("seven", "en-gb-scotland"),
        ("house", "en+m3"),
        ("yes", "en-029"),
    ];
    let (recording, centres) = sentence(&words, scratch.path(), 5);
    let clips = split_words(&recording, f64::from(RATE), &SplitSettings::default());
    let found: Vec<f64> = clips
        .iter()
        .map(|c| c.centre() as f64 / f64::from(RATE))
        .collect();
    println!("spoken at {centres:.2?} s, found at {found:.2?} s");
    assert_eq!(
        clips.len(),
        centres.len(),
        "found {found:?}, spoken {centres:?}"
    );
    for (clip, centre) in clips.iter().zip(&centres) {
        let at = clip.centre() as f64 / f64::from(RATE);
        assert!(
            (at - centre).abs() < 0.15,
            "word at {centre} s found at {at} s"
        );
        assert_eq!(clip.clip.len(), RATE as usize);
    }
}

/// Classifies one file and returns the `--json` output.
fn classify(project: &Path, file: &Path) -> serde_json::Value {
    let out = ok(&[
        "classify",
        project.to_str().unwrap(),
        file.to_str().unwrap(),
        "--json",
    ]);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn keyword_spotting_end_to_end() {
    let started = std::time::Instant::now();
    let root = tempfile::tempdir().unwrap();
    let (data, project, scratch) = (
        root.path().join("data"),
        root.path().join("kws"),
        root.path().join("scratch"),
    );
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&scratch).unwrap();
    make_dataset(&data, &scratch, 160);
    let made = started.elapsed().as_secs_f64();
    let p = project.to_str().unwrap();
    ok(&["new", p, "--lab", "kws"]);
    ok(&["import", p, data.to_str().unwrap(), "--split", "auto"]);
    // Time shift (up to 15 of the 49 frames either way, 300 ms) so that a word cut by a window's
    // edge, as the stream's windows cut it, is still recognised.
    let settings = project.join("tinylab.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    // The lab itself sets the book's augmentation: input noise (0.2) and SpecAugment (one time
    // mask of up to 5 frames, one frequency mask of up to 2 coefficients).
    assert!(text.contains("\ntime_masks = 1\n") && text.contains("\nnoise_std = 0.2\n"));
    let default = "\ntime_shift_max = 0\n";
    assert!(text.contains(default), "time_shift_max in {text}");
    let text = text.replace(default, "\ntime_shift_max = 15\n");
    std::fs::write(&settings, text).unwrap();
    let trained = std::time::Instant::now();
    let log = ok(&["train", p, "--epochs", "50", "--seed", "1"]);
    let train_s = trained.elapsed().as_secs_f64();
    println!("{}", log.lines().last().unwrap_or_default());
    let eval: serde_json::Value = serde_json::from_str(&ok(&["eval", p, "--json"])).unwrap();
    let accuracy = eval["accuracy"].as_f64().unwrap();
    println!(
        "synthesised the dataset in {made:.1} s, trained in {train_s:.1} s; test accuracy {:.1} %",
        accuracy * 100.0
    );
    assert!(accuracy >= 0.85, "test accuracy {accuracy}: {eval}");
    // int8 (TinyLab's PTQ, run with TFLite's reference kernels) within 2 points of float32.
    let report: serde_json::Value = serde_json::from_str(&ok(&["quantize", p, "--json"])).unwrap();
    let (float, int8) = (
        report["float"]["accuracy"].as_f64().unwrap(),
        report["int8"]["accuracy"].as_f64().unwrap(),
    );
    println!(
        "KWS int8: float32 {:.1} %, int8 {:.1} %, {} of {} predictions changed",
        float * 100.0,
        int8 * 100.0,
        report["changed"],
        report["windows"]
    );
    assert!((float - int8).abs() <= 0.02, "{report}");

    // A longer recording: "no", an unknown word, "yes" and "go", with pauses and noise.
    let (recording, centres) = sentence(
        &[
            ("no", "en-us"),
            ("house", "en+m3"),
            ("yes", "en"),
            ("go", "en-029"),
        ],
        &scratch,
        11,
    );
    let long = scratch.join("long.wav");
    write_wav(&long, &recording);
    let result = classify(&project, &long);
    let detections = result["detections"].as_array().unwrap();
    println!("spoken at {centres:.2?} s (no, house, yes, go); detected {detections:?}");
    let yes: Vec<_> = detections.iter().filter(|d| d["label"] == "yes").collect();
    assert_eq!(yes.len(), 1, "{result}");
    let (start, end) = (
        yes[0]["start_s"].as_f64().unwrap(),
        yes[0]["end_s"].as_f64().unwrap(),
    );
    assert!(
        start <= centres[2] && centres[2] <= end,
        "yes at {} s: {result}",
        centres[2]
    );
    let windows = result["windows"].as_array().unwrap();
    for w in windows {
        println!(
            "{:.2} s {} {:.2?}",
            w["start_s"], w["detected"], w["probabilities"]
        );
    }
    let expected = (recording.len() - RATE as usize) / (RATE as usize / 2) + 1;
    assert_eq!(windows.len(), expected);

    engine_live_and_split(&project, &long, &result);
    tflm_clips(&project);
    println!("whole test: {:.1} s", started.elapsed().as_secs_f64());
}

/// The four real one-second recordings of TensorFlow Lite Micro's micro_speech example, read from
/// the shared reference folder when it exists (the result goes in the README; no assertion, as
/// the model never heard a human voice).
fn tflm_clips(project: &Path) {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/tflm-models");
    if !folder.is_dir() {
        println!("{} is absent: TFLM clips skipped", folder.display());
        return;
    }
    for name in ["yes", "no", "silence", "noise"] {
        let file = folder.join(format!("{name}_1000ms.wav"));
        if !file.is_file() {
            continue;
        }
        let result = classify(project, &file);
        let labels: Vec<&str> = result["labels"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l.as_str())
            .collect();
        let window = &result["windows"][0];
        let probabilities: Vec<String> = window["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&labels)
            .map(|(p, l)| format!("{l} {:.2}", p.as_f64().unwrap()))
            .collect();
        println!(
            "TFLM {name}_1000ms.wav: {} ({})",
            window["detected"].as_str().unwrap_or("uncertain"),
            probabilities.join(", ")
        );
    }
}

/// The long recording played as a stream through the engine, classified live, gives the same
/// windows as `tinylab classify`; then the recording, imported, is split into its four words
/// through the engine, and one undo takes the split back.
fn engine_live_and_split(project: &Path, long: &Path, classified: &serde_json::Value) {
    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(EngineCommand::OpenProject {
            dir: project.to_owned(),
        })
        .unwrap();
    let samples = expect(&engine, "the engine", |e| match e {
        Event::DatasetChanged { samples, .. } => Some(samples.len()),
        _ => None,
    });
    expect(&engine, "the engine", |e| {
        matches!(e, Event::RunLoaded(_)).then_some(())
    });
    engine.send(EngineCommand::StartLive).unwrap();
    engine
        .send(EngineCommand::StreamFile {
            path: long.to_owned(),
        })
        .unwrap();
    let mut windows = Vec::new();
    let mut labels = Vec::new();
    expect(&engine, "the engine", |e| match e {
        Event::LiveStarted { labels: l, .. } => {
            labels = l;
            None
        }
        Event::LiveWindow(w) => {
            windows.push(w);
            None
        }
        Event::DeviceClosed { .. } => Some(()),
        _ => None,
    });
    let expected = classified["windows"].as_array().unwrap();
    assert_eq!(windows.len(), expected.len());
    for (live, file) in windows.iter().zip(expected) {
        let from_file: Vec<f32> = file["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(live.probabilities, from_file);
        assert!(live.dsp_ms > 0.0 && live.nn_ms > 0.0);
    }
    let yes = labels.iter().position(|l| l == "yes").unwrap();
    assert!(windows.iter().any(|w| w.detected.map(|d| d.0) == Some(yes)));

    // Splitting through the engine: import the recording, propose, apply, undo.
    ok(&[
        "import",
        project.to_str().unwrap(),
        long.to_str().unwrap(),
        "--label",
        "sentence",
        "--split",
        "train",
    ]);
    engine
        .send(EngineCommand::OpenProject {
            dir: project.to_owned(),
        })
        .unwrap();
    let sample = expect(&engine, "the engine", |e| match e {
        Event::DatasetChanged { samples: s, .. } => s.last().map(|m| m.id),
        _ => None,
    });
    engine
        .send(EngineCommand::ProposeSplit {
            sample,
            settings: SplitSettings::default(),
        })
        .unwrap();
    let clips = expect(&engine, "the engine", |e| match e {
        Event::SplitProposed { clips, .. } => Some(clips),
        _ => None,
    });
    assert_eq!(clips.len(), 4, "{clips:?}");
    engine
        .send(EngineCommand::ApplySplit {
            sample,
            clips: clips.iter().map(|c| c.clip.clone()).collect(),
            label: "word".into(),
            keep_original: false,
        })
        .unwrap();
    let after = expect(&engine, "the engine", |e| match e {
        Event::DatasetChanged { samples, undo } => Some((samples, undo)),
        _ => None,
    });
    assert_eq!(
        after.0.len(),
        samples + 4,
        "the recording went, four clips came"
    );
    assert!(after.0.iter().all(|m| m.id != sample));
    assert_eq!(
        after
            .0
            .iter()
            .filter(|m| m.label == "word" && m.readings == RATE as usize)
            .count(),
        4
    );
    assert_eq!(after.1.as_deref(), Some("split into 4 samples"));
    engine.send(EngineCommand::Undo).unwrap();
    let undone = expect(&engine, "the engine", |e| match e {
        Event::DatasetChanged { samples, .. } => Some(samples),
        _ => None,
    });
    assert_eq!(undone.len(), samples + 1);
    assert!(undone.iter().any(|m| m.id == sample));
}
