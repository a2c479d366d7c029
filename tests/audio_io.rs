//! Audio input and output: the resampler against the analytic signal, the capture pipeline's
//! no-drop/no-duplicate count over ten minutes of audio, overflow accounting, WAV import of every
//! format (resampled to the project's rate) and of bad files, folder import with labels, and
//! playback without a sound card.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)] // tests fail by panicking

mod common;

use crossbeam_channel::bounded;
use std::f64::consts::PI;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tinylab::devices::audio_in::{AudioMsg, PipelineConfig, start_pipeline};
use tinylab::dsp::resample::resample;
use tinylab::engine::Engine;
use tinylab::labs;
use tinylab::project::sample::{SampleId, SampleMeta};
use tinylab::project::{DATASET_FILE, Project};
use tinylab::protocol::{Command, Event, JobOutcome, SplitChoice};

// ---- resampling -------------------------------------------------------------------------------

fn sine(freq_hz: f64, amplitude: f64, rate_hz: u32, len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| (amplitude * (2.0 * PI * freq_hz * i as f64 / f64::from(rate_hz)).sin()) as f32)
        .collect()
}

/// Largest difference from the analytic sine at the output rate, away from the clip's edges
/// (where the filter sees the silence before and after).
fn max_error_vs_analytic(out: &[f32], freq_hz: f64, amplitude: f64, rate_hz: u32) -> f64 {
    let edge = out.len() / 20;
    out.iter()
        .enumerate()
        .skip(edge)
        .take(out.len() - 2 * edge)
        .map(|(k, &v)| {
            let truth = amplitude * (2.0 * PI * freq_hz * k as f64 / f64::from(rate_hz)).sin();
            (f64::from(v) - truth).abs()
        })
        .fold(0.0, f64::max)
}

/// Frequency from the count of upward zero crossings over the interior.
fn frequency_by_crossings(out: &[f32], rate_hz: u32) -> f64 {
    let edge = out.len() / 20;
    let inner = &out[edge..out.len() - edge];
    let ups: Vec<usize> = inner
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, _)| i)
        .collect();
    let span = (ups[ups.len() - 1] - ups[0]) as f64 / f64::from(rate_hz);
    (ups.len() - 1) as f64 / span
}

#[test]
fn a_sine_keeps_its_frequency_amplitude_and_phase_from_44k1_and_48k_to_16k() {
    for from in [44_100, 48_000, 22_050, 8_000] {
        for freq in [440.0, 1000.0, 3000.0, 3900.0] {
            let input = sine(freq, 0.5, from, from as usize * 2);
            let out = resample(&input, from, 16_000).unwrap();
            assert_eq!(out.len(), 32_000, "{from} Hz: 2 s give 32,000 samples");
            let error = max_error_vs_analytic(&out, freq, 0.5, 16_000);
            assert!(error < 2e-3, "{from} Hz, {freq} Hz: max error {error}");
            let measured = frequency_by_crossings(&out, 16_000);
            assert!(
                (measured - freq).abs() < 0.5,
                "{from} Hz, {freq} Hz: measured {measured}"
            );
            let edge = out.len() / 20;
            let rms = (out[edge..out.len() - edge]
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                / (out.len() - 2 * edge) as f64)
                .sqrt();
            assert!(
                (rms - 0.5 / 2f64.sqrt()).abs() < 1e-3,
                "{from}, {freq}: rms {rms}"
            );
        }
    }
}

#[test]
fn tones_above_the_new_nyquist_are_filtered_out_not_folded() {
    // 10 kHz at 48 kHz would alias to 6 kHz at 16 kHz without the anti-aliasing filter.
    let input = sine(10_000.0, 0.5, 48_000, 96_000);
    let out = resample(&input, 48_000, 16_000).unwrap();
    let edge = out.len() / 20;
    let peak = out[edge..out.len() - edge]
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak < 0.5e-3, "aliased energy left: peak {peak}");
}

// ---- the capture pipeline ---------------------------------------------------------------------

/// Feeds `seconds` of a stereo 440 Hz sine at `rate_hz` through the pipeline in 10 ms callbacks,
/// as fast as the ring takes them (the synthetic callback waits for room, which a real one
/// never does: this test is about the thread losing or repeating nothing), and checks every
/// output sample against the analytic sine at 16 kHz.
fn run_pipeline_faster_than_real_time(rate_hz: u32, seconds: usize, encode_index: bool) {
    let config = PipelineConfig::new(rate_hz, 2, 16_000);
    let (tx, rx) = bounded(64);
    let (mut writer, pipeline) = start_pipeline(config, tx).unwrap();
    let stats = std::sync::Arc::clone(pipeline.stats());
    let total_frames = rate_hz as usize * seconds;
    let checker = std::thread::Builder::new()
        .name("test-checker".into())
        .spawn(move || {
            let mut k: u64 = 0;
            let mut worst: f64 = 0.0;
            while let Ok(msg) = rx.recv() {
                let AudioMsg::Chunk { samples, .. } = msg else {
                    panic!("unexpected {msg:?}");
                };
                for v in samples {
                    if encode_index {
                        // Pass-through: every sample is its own index, exactly.
                        let expected = (k % 65_536) as f32 - 32_768.0;
                        assert_eq!(v, expected, "sample {k}");
                    } else if k > 400 && k + 400 < total_frames as u64 / 3 {
                        let truth = 0.5 * 32_768.0 * (2.0 * PI * 440.0 * k as f64 / 16_000.0).sin();
                        worst = worst.max((f64::from(v) - truth).abs());
                    }
                    k += 1;
                }
            }
            (k, worst)
        })
        .unwrap();
    let callback_frames = rate_hz as usize / 100;
    let mut frame = 0usize;
    let mut buffer = vec![0.0f32; callback_frames * 2];
    let mut waits = 0u64;
    while frame < total_frames {
        let frames = callback_frames.min(total_frames - frame);
        for (i, pair) in buffer.chunks_exact_mut(2).take(frames).enumerate() {
            let n = frame + i;
            let v = if encode_index {
                ((n % 65_536) as f32 - 32_768.0) / 32_768.0
            } else {
                (0.5 * (2.0 * PI * 440.0 * n as f64 / f64::from(rate_hz)).sin()) as f32
            };
            pair[0] = v;
            pair[1] = v;
        }
        let before = stats.frames_overflowed.load(Ordering::Relaxed);
        assert!(before == 0, "overflow before frame {frame}");
        // Wait for room: the real callback would drop here; the count below proves none was lost.
        while writer_room(&stats, config) < frames {
            waits += 1;
            std::thread::sleep(Duration::from_micros(200));
        }
        writer.push_with(&buffer[..frames * 2], |s| s);
        frame += frames;
    }
    drop(writer);
    pipeline.stop();
    let (received, worst) = checker.join().unwrap();
    let expected = (total_frames as u64 * 16_000).div_ceil(u64::from(rate_hz));
    assert_eq!(
        stats.frames_pushed.load(Ordering::Relaxed),
        total_frames as u64
    );
    assert_eq!(stats.frames_overflowed.load(Ordering::Relaxed), 0);
    assert_eq!(
        stats.frames_popped.load(Ordering::Relaxed),
        total_frames as u64
    );
    assert_eq!(stats.samples_sent.load(Ordering::Relaxed), expected);
    assert_eq!(received, expected, "every output sample arrived once");
    if !encode_index {
        // One dropped or repeated input frame would shift the phase by 2π·440/48000 ≈ 0.058 rad:
        // an error near 950 int16 units.
        assert!(
            worst < 40.0,
            "largest error against the analytic sine: {worst}"
        );
    }
    eprintln!("{seconds} s at {rate_hz} Hz: {received} samples out, producer waited {waits} times");
}

/// Free frames in the ring, from the counters (pushed − popped).
fn writer_room(stats: &tinylab::devices::audio_in::CaptureStats, config: PipelineConfig) -> usize {
    let pushed = stats.frames_pushed.load(Ordering::Relaxed);
    let popped = stats.frames_popped.load(Ordering::Relaxed);
    config.ring_frames - (pushed - popped) as usize
}

#[test]
fn ten_minutes_at_48k_stereo_arrive_as_exactly_9_600_000_samples_in_phase() {
    run_pipeline_faster_than_real_time(48_000, 600, false);
}

#[test]
fn ten_minutes_at_16k_pass_through_every_sample_once_in_order() {
    run_pipeline_faster_than_real_time(16_000, 600, true);
}

/// A thread that counts the samples arriving on `rx` until the pipeline ends.
fn count_samples(rx: crossbeam_channel::Receiver<AudioMsg>) -> std::thread::JoinHandle<u64> {
    std::thread::Builder::new()
        .name("test-drain".into())
        .spawn(move || {
            let mut n = 0u64;
            while let Ok(AudioMsg::Chunk { samples, .. }) = rx.recv() {
                n += samples.len() as u64;
            }
            n
        })
        .unwrap()
}

#[test]
fn a_real_time_paced_callback_loses_nothing() {
    // 3 s of 44.1 kHz stereo in 10 ms callbacks at the sound card's pace; the callback never
    // waits, as a real one.
    let config = PipelineConfig::new(44_100, 2, 16_000);
    let (tx, rx) = bounded(64);
    let (mut writer, pipeline) = start_pipeline(config, tx).unwrap();
    let stats = std::sync::Arc::clone(pipeline.stats());
    let drain = count_samples(rx);
    let buffer = vec![0.25f32; 441 * 2];
    let start = Instant::now();
    for i in 0..300u32 {
        let due = start + Duration::from_millis(10) * i;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        writer.push_with(&buffer, |s| s);
    }
    drop(writer);
    pipeline.stop();
    let received = drain.join().unwrap();
    assert_eq!(stats.frames_overflowed.load(Ordering::Relaxed), 0);
    assert_eq!(stats.frames_popped.load(Ordering::Relaxed), 132_300);
    assert_eq!(received, 48_000);
}

#[test]
fn a_stalled_consumer_loses_frames_in_the_ring_and_counts_each_one() {
    let config = PipelineConfig {
        input_rate_hz: 16_000,
        channels: 1,
        output_rate_hz: 16_000,
        ring_frames: 1024,
    };
    // The engine side takes nothing until the end: the thread blocks, the ring fills.
    let (tx, rx) = bounded(1);
    let (mut writer, pipeline) = start_pipeline(config, tx).unwrap();
    let stats = std::sync::Arc::clone(pipeline.stats());
    let buffer = vec![0.1f32; 160];
    for _ in 0..200 {
        writer.push_with(&buffer, |s| s);
        std::thread::sleep(Duration::from_micros(300));
    }
    let pushed = stats.frames_pushed.load(Ordering::Relaxed);
    let overflowed = stats.frames_overflowed.load(Ordering::Relaxed);
    assert_eq!(pushed, 32_000);
    assert!(overflowed > 0, "the ring should have overflowed");
    let drain = count_samples(rx);
    drop(writer);
    pipeline.stop();
    let received = drain.join().unwrap();
    assert_eq!(
        received + overflowed,
        pushed,
        "every frame was either delivered or counted as lost"
    );
    assert_eq!(stats.lost(), overflowed);
}

// ---- WAV import -------------------------------------------------------------------------------

fn kws_project(dir: &Path) -> PathBuf {
    let lab = labs::lab("kws").unwrap();
    Project::create(dir, &lab).unwrap();
    dir.to_owned()
}

/// A 0.5 s, 440 Hz sine at half scale on the first channel (the others silent).
fn write_wav(path: &Path, rate_hz: u32, channels: u16, bits: u16, float: bool) {
    common::write_tone_wav(path, rate_hz, channels, bits, float, 0.5);
}

/// Imports `files` into the project in `dir` and returns how the job ended.
fn import(dir: &Path, files: Vec<PathBuf>, label: Option<&str>) -> JobOutcome {
    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(Command::OpenProject {
            dir: dir.to_owned(),
        })
        .unwrap();
    engine
        .send(Command::Import {
            files,
            label: label.map(str::to_owned),
            split: SplitChoice::Auto,
        })
        .unwrap();
    let deadline = Instant::now() + common::WAIT;
    while Instant::now() < deadline {
        if let Some(Event::JobFinished { outcome, .. }) =
            engine.recv_timeout(Duration::from_millis(200))
        {
            return outcome;
        }
    }
    panic!("the import did not finish");
}

fn samples_of(dir: &Path) -> Vec<SampleMeta> {
    Project::open(dir).unwrap().samples().to_vec()
}

#[test]
fn every_wav_format_imports_resampled_to_16k_with_its_amplitude() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = kws_project(&tmp.path().join("kws"));
    let files_dir = tmp.path().join("wavs");
    fs::create_dir_all(&files_dir).unwrap();
    let mut cases = Vec::new();
    for (bits, float) in [
        (8, false),
        (16, false),
        (24, false),
        (32, false),
        (32, true),
    ] {
        for channels in [1u16, 2] {
            for rate in [16_000u32, 44_100, 48_000, 8_000] {
                let name = format!(
                    "yes.{}{bits}-{channels}ch-{rate}.wav",
                    if float { "f" } else { "i" }
                );
                let path = files_dir.join(&name);
                write_wav(&path, rate, channels, bits, float);
                cases.push((name, bits, channels));
            }
        }
    }
    let outcome = import(&dir, vec![files_dir], None);
    assert!(matches!(outcome, JobOutcome::Done(_)), "{outcome:?}");
    let project = Project::open(&dir).unwrap();
    assert_eq!(project.samples().len(), cases.len());
    for meta in project.samples() {
        let name = meta.source.trim_start_matches("import:");
        let (_, bits, channels) = cases.iter().find(|(n, ..)| n == name).unwrap();
        assert_eq!(meta.rate_hz, 16_000.0, "{name}");
        assert_eq!(meta.readings, 8_000, "{name}: 0.5 s at 16 kHz");
        assert_eq!(meta.label, "yes");
        let series = project.load_series(meta.id).unwrap();
        // Half scale (16384 int16 units), halved again by the mono mix of a silent channel.
        let amplitude = 16_384.0 / f64::from(*channels);
        let edge = 400;
        let rms = (series.values[edge..8_000 - edge]
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
            / (8_000 - 2 * edge) as f64)
            .sqrt();
        let want = amplitude / 2f64.sqrt();
        // 8-bit audio has a quantisation step of 256 int16 units.
        let tolerance = if *bits == 8 { 0.01 } else { 0.002 };
        assert!(
            (rms - want).abs() < tolerance * want,
            "{name}: rms {rms}, want {want}"
        );
    }
}

/// Import of `bytes` saved as `name` (next to a good file) must fail naming the file and saying
/// `expected`, with nothing added.
fn check_bad_wav(name: &str, bytes: &[u8], expected: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = kws_project(&tmp.path().join("kws"));
    let good = tmp.path().join("yes.good.wav");
    write_wav(&good, 16_000, 1, 16, false);
    let bad = tmp.path().join(name);
    fs::write(&bad, bytes).unwrap();
    let index_before = fs::read(dir.join(DATASET_FILE)).unwrap();
    let outcome = import(&dir, vec![good, bad], None);
    let JobOutcome::Failed(why) = outcome else {
        panic!("{name}: import should fail, got {outcome:?}")
    };
    assert!(
        why.contains(name),
        "{name}: the error names the file: {why}"
    );
    assert!(
        why.to_lowercase().contains(expected),
        "{name}: the error says {expected:?}: {why}"
    );
    assert_eq!(fs::read(dir.join(DATASET_FILE)).unwrap(), index_before);
    assert!(samples_of(&dir).is_empty());
    let stored = fs::read_dir(dir.join("samples")).map_or(0, Iterator::count);
    assert_eq!(stored, 0, "{name}: no sample file left behind");
}

fn good_wav_bytes() -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("a.wav");
    write_wav(&path, 16_000, 1, 16, false);
    fs::read(path).unwrap()
}

#[test]
fn a_truncated_header_changes_nothing() {
    let bytes = good_wav_bytes();
    check_bad_wav("yes.trunc.wav", &bytes[..30], "wav");
}

#[test]
fn a_data_chunk_longer_than_the_file_changes_nothing() {
    let mut bytes = good_wav_bytes();
    // Cut the audio short but leave the data chunk's size saying 16,000 bytes.
    bytes.truncate(44 + 1000);
    check_bad_wav("yes.short.wav", &bytes, "damaged");
}

#[test]
fn a_wrong_fmt_chunk_size_changes_nothing() {
    let mut bytes = good_wav_bytes();
    // The fmt chunk claims 10 bytes: too short for a PCM format description.
    bytes[16..20].copy_from_slice(&10u32.to_le_bytes());
    check_bad_wav("yes.fmt.wav", &bytes, "wav");
}

#[test]
fn a_wav_with_no_samples_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("empty.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::create(&path, spec)
        .unwrap()
        .finalize()
        .unwrap();
    check_bad_wav("yes.empty.wav", &fs::read(path).unwrap(), "no audio");
}

#[test]
fn a_text_file_renamed_wav_changes_nothing() {
    check_bad_wav(
        "yes.notes.wav",
        b"timestamp,accX\n0,1\n20,2\n",
        "not a readable wav",
    );
}

#[test]
fn a_folder_of_label_subfolders_imports_with_those_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = kws_project(&tmp.path().join("kws"));
    let root = tmp.path().join("speech_commands");
    for (label, count) in [("yes", 3), ("no", 2), ("unknown", 1)] {
        fs::create_dir_all(root.join(label)).unwrap();
        for i in 0..count {
            // Speech Commands names files by speaker: no label in the name.
            write_wav(
                &root.join(label).join(format!("0a7c2a8d_nohash_{i}.wav")),
                16_000,
                1,
                16,
                false,
            );
        }
    }
    // A file beside the folders keeps the label in its name.
    write_wav(&root.join("noise.1.wav"), 48_000, 1, 16, false);
    let outcome = import(&dir, vec![root], None);
    assert!(matches!(outcome, JobOutcome::Done(_)), "{outcome:?}");
    let mut labels: Vec<String> = samples_of(&dir).into_iter().map(|m| m.label).collect();
    labels.sort();
    assert_eq!(
        labels,
        ["no", "no", "noise", "unknown", "yes", "yes", "yes"]
    );
}

// ---- playback ---------------------------------------------------------------------------------

/// A KWS project in `root` with one imported 0.5 s clip, open in an engine.
fn engine_with_one_clip(root: &Path) -> (Engine, SampleId) {
    let dir = kws_project(&root.join("kws"));
    let wav = root.join("yes.1.wav");
    write_wav(&wav, 16_000, 1, 16, false);
    assert!(matches!(import(&dir, vec![wav], None), JobOutcome::Done(_)));
    let id = samples_of(&dir)[0].id;
    let engine = Engine::start(|| {}).unwrap();
    engine.send(Command::OpenProject { dir }).unwrap();
    (engine, id)
}

#[test]
fn playing_a_sample_either_reports_its_position_or_says_why_it_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let (engine, id) = engine_with_one_clip(tmp.path());
    engine.send(Command::PlaySample(id)).unwrap();
    let answer = common::expect(&engine, "playback or an error", |event| match event {
        Event::Playback(Some(position)) => Some(Ok(position)),
        Event::Notice { text, .. } if text.contains("play") => Some(Err(text)),
        _ => None,
    });
    match answer {
        Ok(position) => {
            assert_eq!(position.id, id);
            assert!((position.duration_s - 0.5).abs() < 1e-9);
            // It ends by itself.
            common::expect(&engine, "the end of playback", |event| {
                matches!(event, Event::Playback(None)).then_some(())
            });
        }
        Err(text) => {
            // No sound card and no sound server: the message says so in words.
            assert!(
                text.contains("no sound output") || text.contains("could not use"),
                "{text}"
            );
        }
    }
}

#[test]
fn playing_a_clip_starts_at_the_clip_or_says_why_it_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let (engine, id) = engine_with_one_clip(tmp.path());
    // Outside the sample: refused in words.
    engine
        .send(Command::PlayClip {
            sample: id,
            range: 9_000..9_100,
        })
        .unwrap();
    let refusal = common::expect(&engine, "a refusal", |event| match event {
        Event::Notice { text, .. } if text.contains("to play") => Some(text),
        _ => None,
    });
    assert!(refusal.contains("9000..9100"), "{refusal}");
    // The second half (readings 4000..8000 of 0.5 s at 16 kHz): the cursor starts at 0.25 s.
    engine
        .send(Command::PlayClip {
            sample: id,
            range: 4_000..8_000,
        })
        .unwrap();
    let answer = common::expect(&engine, "playback or an error", |event| match event {
        Event::Playback(Some(position)) => Some(Ok(position)),
        Event::Notice { text, .. } if text.contains("play") => Some(Err(text)),
        _ => None,
    });
    match answer {
        Ok(position) => assert!((position.position_s - 0.25).abs() < 1e-9, "{position:?}"),
        Err(text) => assert!(
            text.contains("no sound output") || text.contains("could not use"),
            "{text}"
        ),
    }
}
