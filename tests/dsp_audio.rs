#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The audio blocks (MFCC, MFE, spectrogram) against Edge Impulse's own Python blocks, every
//! implementation version, and against python_speech_features as a second reference.
//!
//! Fixtures in `tests/fixtures/dsp/audio/` hold expected outputs only, made by the scripts beside
//! them. The synthetic test audio is a formula evaluated here as in `make_fixtures.py` (a
//! checksum proves it); the speech clips are read from `../shared/reference/tflm-models/`, and
//! their cases are skipped with a note when that folder is absent. Every value must agree to
//! 1e-4 relative (1e-3 absolute where the expected value is under 1e-3); shapes exactly.

use serde::Deserialize;
use std::collections::HashMap;
use tinylab::dsp::mfcc::{self, MfccSettings};
use tinylab::dsp::mfe::{self, MfeSettings};
use tinylab::dsp::spectrogram::{self, SpectrogramSettings};
use tinylab::dsp::{DspError, Features, Signal};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dsp/audio/");
const SPEECH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/tflm-models/"
);

#[derive(Deserialize)]
struct Fixture {
    checksums: HashMap<String, i64>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    input: String,
    settings: serde_json::Value,
    shape: Vec<usize>,
    values: Vec<f64>,
    /// Values are stored as multiples of this (quantised MFE).
    #[serde(default)]
    scale: Option<f64>,
}

fn load<T: for<'de> Deserialize<'de>>(file: &str) -> T {
    let text = std::fs::read_to_string(format!("{FIXTURES}{file}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The test audio of make_fixtures.py: tones, a chirp, hash noise, an envelope and 60 ms of
/// silence, rounded to 16-bit integers.
fn test_audio(rate_hz: f64) -> Vec<i32> {
    use std::f64::consts::PI;
    let count = rate_hz as usize;
    let silence = (0.6 * rate_hz) as usize..(0.66 * rate_hz) as usize;
    (0..count)
        .map(|i| {
            let t = i as f64 / rate_hz;
            let tones = 0.25 * (2.0 * PI * 440.0 * t).sin()
                + 0.15 * (2.0 * PI * 1250.0 * t + 0.3).sin()
                + 0.1 * (2.0 * PI * 3100.0 * t).sin();
            let chirp = 0.2 * (2.0 * PI * (100.0 * t + 1950.0 * t * t)).sin();
            let noise = 0.2 * (((12.9898 * i as f64).sin() * 43758.5453).rem_euclid(1.0) - 0.5);
            let envelope = 0.55 + 0.45 * (2.0 * PI * 2.5 * t).sin();
            if silence.contains(&i) {
                0
            } else {
                ((14000.0 * envelope * (tones + chirp + noise)).round_ties_even() as i32)
                    .clamp(-32768, 32767)
            }
        })
        .collect()
}

/// make_fixtures.py's loud tone: 4.4 kHz at 30000, loud enough to reach the top of MFE's scale.
fn loud_tone(rate_hz: f64) -> Vec<i32> {
    (0..rate_hz as usize)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * 4400.0 * (i as f64 / rate_hz);
            (30000.0 * phase.sin()).round_ties_even() as i32
        })
        .collect()
}

fn checksum(samples: &[i32]) -> i64 {
    samples
        .iter()
        .enumerate()
        .map(|(i, &x)| i64::from(x) * (i as i64 % 97 + 1))
        .sum()
}

/// A speech clip as 16-bit values, or `None` (with a note) when the shared folder is absent.
fn read_wav(name: &str) -> Option<(f64, Vec<f32>)> {
    let path = format!("{SPEECH}{name}");
    let Ok(mut reader) = hound::WavReader::open(&path) else {
        println!("note: {path} is absent; skipping its cases");
        return None;
    };
    let rate = f64::from(reader.spec().sample_rate);
    let samples = reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()))
        .collect();
    Some((rate, samples))
}

/// The input a fixture case names, as (rate, samples).
fn input(name: &str, checksums: &HashMap<String, i64>) -> Option<(f64, Vec<f32>)> {
    let synthetic = |rate: f64, key: &str| {
        let audio = if key == "loud_tone_16k" {
            loud_tone(rate)
        } else {
            test_audio(rate)
        };
        assert_eq!(
            checksum(&audio),
            checksums[key],
            "the test audio differs from make_fixtures.py's"
        );
        audio
    };
    match name {
        "synthetic_16k" => Some((
            16000.0,
            synthetic(16000.0, "synthetic_16k")
                .into_iter()
                .map(|x| x as f32)
                .collect(),
        )),
        "synthetic_8k" => Some((
            8000.0,
            synthetic(8000.0, "synthetic_8k")
                .into_iter()
                .map(|x| x as f32)
                .collect(),
        )),
        "synthetic_16k_unit" => Some((
            16000.0,
            synthetic(16000.0, "synthetic_16k")
                .into_iter()
                .map(|x| x as f32 / 32768.0)
                .collect(),
        )),
        "loud_tone_16k" => Some((
            16000.0,
            synthetic(16000.0, "loud_tone_16k")
                .into_iter()
                .map(|x| x as f32)
                .collect(),
        )),
        wav => read_wav(wav),
    }
}

fn close(actual: f64, expected: f64) -> bool {
    let error = (actual - expected).abs();
    error <= 1e-4 * expected.abs() || (expected.abs() < 1e-3 && error <= 1e-3)
}

/// Compares a block's output with a fixture case: shape exactly, every value within tolerance.
fn check(case: &Case, features: &Features) {
    assert_eq!(features.shape, case.shape, "{}: shape", case.name);
    assert!(features.names.is_empty(), "{}", case.name);
    assert_eq!(features.values.len(), case.values.len(), "{}", case.name);
    let scale = case.scale.unwrap_or(1.0);
    let mut failures = Vec::new();
    let mut worst = 0.0_f64;
    for (i, (&actual, &stored)) in features.values.iter().zip(&case.values).enumerate() {
        let expected = stored * scale;
        worst = worst.max((f64::from(actual) - expected).abs() / expected.abs().max(1e-3));
        if !close(f64::from(actual), expected) {
            failures.push(format!(
                "[{}, {}] {actual} vs {expected}",
                i / case.shape[1],
                i % case.shape[1]
            ));
        }
    }
    println!(
        "{}: {:?}, worst |error| / max(|expected|, 1e-3) = {worst:.1e}",
        case.name, case.shape
    );
    assert!(
        failures.is_empty(),
        "{}: {} of {} values differ, e.g. {:?}",
        case.name,
        failures.len(),
        case.values.len(),
        &failures[..failures.len().min(8)]
    );
}

/// Runs every case of a fixture file through `run`, returning how many ran.
fn run_fixture(file: &str, run: impl Fn(&Case, &Signal) -> Features) -> usize {
    let fixture: Fixture = load(file);
    let mut ran = 0;
    for case in &fixture.cases {
        let Some((rate_hz, samples)) = input(&case.input, &fixture.checksums) else {
            continue;
        };
        let signal = Signal {
            axes: 1,
            rate_hz,
            values: &samples,
        };
        check(case, &run(case, &signal));
        ran += 1;
    }
    ran
}

#[test]
fn mfcc_matches_edge_impulse_for_every_version() {
    let ran = run_fixture("mfcc.json", |case, signal| {
        let settings: MfccSettings = serde_json::from_value(case.settings.clone()).unwrap();
        let features = mfcc::features(&settings, signal).unwrap();
        assert_eq!(mfcc::steps(&settings, signal).unwrap().features, features);
        features
    });
    assert!(ran >= 7);
}

#[test]
fn mfe_matches_edge_impulse_for_every_version() {
    let ran = run_fixture("mfe.json", |case, signal| {
        let settings: MfeSettings = serde_json::from_value(case.settings.clone()).unwrap();
        let features = mfe::features(&settings, signal).unwrap();
        assert_eq!(mfe::steps(&settings, signal).unwrap().features, features);
        features
    });
    assert!(ran >= 4);
}

#[test]
fn spectrogram_matches_edge_impulse_for_every_version() {
    let ran = run_fixture("spectrogram.json", |case, signal| {
        let settings: SpectrogramSettings = serde_json::from_value(case.settings.clone()).unwrap();
        let features = spectrogram::features(&settings, signal).unwrap();
        assert_eq!(
            spectrogram::steps(&settings, signal).unwrap().features,
            features
        );
        features
    });
    assert!(ran >= 5);
}

#[test]
fn lab_settings_are_the_fixture_settings_and_give_637_features() {
    let fixture: Fixture = load("mfcc.json");
    let case = fixture
        .cases
        .iter()
        .find(|c| c.name == "kws_lab_v4")
        .unwrap();
    let settings: MfccSettings = serde_json::from_value(case.settings.clone()).unwrap();
    assert_eq!(settings, MfccSettings::kws_lab());
    assert_eq!(case.shape, [49, 13]);
    let defaults = fixture
        .cases
        .iter()
        .find(|c| c.name == "defaults_v4")
        .unwrap();
    let settings: MfccSettings = serde_json::from_value(defaults.settings.clone()).unwrap();
    assert_eq!(settings, MfccSettings::default());
}

/// python_speech_features' outputs at matching settings (see make_psf_fixtures.py).
#[derive(Deserialize)]
struct PsfFixture {
    checksums: HashMap<String, i64>,
    cases: Vec<PsfCase>,
}

#[derive(Deserialize)]
struct PsfCase {
    name: String,
    input: String,
    /// `mfcc` (compared with our cepstra before CMVN) or `logfbank` (with ln of our MFE mel
    /// energies).
    kind: String,
    settings: serde_json::Value,
    /// Ten times the relative error the script measured between psf and Edge Impulse.
    tolerance: f64,
    /// The frames to compare: psf pads one more frame at the end, and does not wrap the
    /// pre-emphasis round into frame 0.
    frames: Vec<usize>,
    shape: Vec<usize>,
    values: Vec<f64>,
}

#[test]
fn version_4_matches_python_speech_features() {
    let fixture: PsfFixture = load("psf.json");
    for case in &fixture.cases {
        let Some((rate_hz, samples)) = input(&case.input, &fixture.checksums) else {
            continue;
        };
        let signal = Signal {
            axes: 1,
            rate_hz,
            values: &samples,
        };
        let ours: Vec<Vec<f64>> = match case.kind.as_str() {
            "mfcc" => {
                let settings: MfccSettings = serde_json::from_value(case.settings.clone()).unwrap();
                mfcc::steps(&settings, &signal).unwrap().cepstra
            }
            "logfbank" => {
                let settings: MfeSettings = serde_json::from_value(case.settings.clone()).unwrap();
                let steps = mfe::steps(&settings, &signal).unwrap();
                steps
                    .mel_energies
                    .iter()
                    .map(|row| row.iter().map(|e| e.ln()).collect())
                    .collect()
            }
            other => panic!("unknown kind {other}"),
        };
        let width = case.shape[1];
        let mut worst = 0.0_f64;
        for &frame in &case.frames {
            for (k, &theirs) in case.values[frame * width..(frame + 1) * width]
                .iter()
                .enumerate()
            {
                let mine = ours[frame][k];
                let error = (mine - theirs).abs() / theirs.abs().max(1.0);
                worst = worst.max(error);
            }
        }
        println!("{}: worst error vs psf {worst:e}", case.name);
        assert!(case.tolerance <= 1e-5, "{}: {}", case.name, case.tolerance);
        assert!(
            worst <= case.tolerance,
            "{}: {worst} > {}",
            case.name,
            case.tolerance
        );
    }
}

fn mono(values: &[f32]) -> Signal<'_> {
    Signal {
        axes: 1,
        rate_hz: 16000.0,
        values,
    }
}

/// Runs the three blocks at their defaults (version 4) on a signal.
fn all_blocks(signal: &Signal) -> [Result<Features, DspError>; 3] {
    [
        mfcc::features(&MfccSettings::default(), signal),
        mfe::features(&MfeSettings::default(), signal),
        spectrogram::features(&SpectrogramSettings::default(), signal),
    ]
}

#[test]
fn empty_short_multi_axis_and_nan_windows_are_errors() {
    for result in all_blocks(&mono(&[])) {
        assert_eq!(result, Err(DspError::EmptyWindow));
    }
    // 300 samples: MFCC frames are 320, MFE and spectrogram frames too.
    let short = vec![100.0_f32; 300];
    for result in all_blocks(&mono(&short)) {
        assert_eq!(
            result,
            Err(DspError::TooShort {
                needed: 320,
                got: 300
            })
        );
    }
    // Version 1 needs a frame and a stride.
    let v1 = MfccSettings {
        implementation_version: 1,
        ..MfccSettings::kws_lab()
    };
    assert_eq!(
        mfcc::features(&v1, &mono(&[1.0; 700])),
        Err(DspError::TooShort {
            needed: 720,
            got: 700
        })
    );
    let stereo = vec![1.0_f32; 32000];
    let two_axes = Signal {
        axes: 2,
        rate_hz: 16000.0,
        values: &stereo,
    };
    for result in all_blocks(&two_axes) {
        assert!(
            matches!(result, Err(DspError::WrongInput { .. })),
            "{result:?}"
        );
    }
    let mut nan = vec![1.0_f32; 16000];
    nan[123] = f32::NAN;
    for result in all_blocks(&mono(&nan)) {
        assert_eq!(result, Err(DspError::NotFinite { index: 123 }));
    }
    let zero_rate = Signal {
        axes: 1,
        rate_hz: 0.0,
        values: &stereo,
    };
    for result in all_blocks(&zero_rate) {
        assert_eq!(result, Err(DspError::BadRate(0.0)));
    }
}

#[test]
fn silence_gives_what_edge_impulse_gives_and_no_nan() {
    // Edge Impulse floors zero energies at 1e-10 (MFCC, MFE 1-2) or 1e-30 (decibels): MFE and
    // the spectrogram give all zeros in every version; MFCC gives values under 3e-4 (CMVN of a
    // constant; exactly 0 except rounding).
    let silence = vec![0.0_f32; 16000];
    let signal = mono(&silence);
    for version in 1..=4 {
        let mfe = MfeSettings {
            implementation_version: version,
            frame_stride: 0.02,
            num_filters: 32,
            fft_length: 512,
            low_frequency: 100.0,
            ..MfeSettings::default()
        };
        let features = mfe::features(&mfe, &signal).unwrap();
        assert!(features.values.iter().all(|&v| v == 0.0), "mfe v{version}");
        let spectrogram = SpectrogramSettings {
            implementation_version: version,
            ..SpectrogramSettings::default()
        };
        let features = spectrogram::features(&spectrogram, &signal).unwrap();
        assert!(
            features.values.iter().all(|&v| v == 0.0),
            "spectrogram v{version}"
        );
        let mfcc = MfccSettings {
            implementation_version: version,
            ..MfccSettings::kws_lab()
        };
        let features = mfcc::features(&mfcc, &signal).unwrap();
        assert!(
            features.values.iter().all(|&v| v.abs() < 1e-3),
            "mfcc v{version}: {:?}",
            &features.values[..13]
        );
    }
}

fn bad_setting_name(result: Result<Features, DspError>) -> String {
    match result {
        Err(DspError::BadSetting { name, .. }) => name,
        other => panic!("expected a bad setting, got {other:?}"),
    }
}

#[test]
fn bad_settings_are_errors_that_name_the_setting() {
    let audio: Vec<f32> = test_audio(16000.0).into_iter().map(|x| x as f32).collect();
    let signal = mono(&audio);
    let lab = MfccSettings::kws_lab();
    let mfcc_error = |settings: MfccSettings| bad_setting_name(mfcc::features(&settings, &signal));
    assert_eq!(
        mfcc_error(MfccSettings {
            num_cepstral: 33,
            ..lab.clone()
        }),
        "num_cepstral"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            num_cepstral: 0,
            ..lab.clone()
        }),
        "num_cepstral"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            low_frequency: 4000.0,
            high_frequency: 3000.0,
            ..lab.clone()
        }),
        "low_frequency"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            high_frequency: 9000.0,
            ..lab.clone()
        }),
        "high_frequency"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            fft_length: 500,
            ..lab.clone()
        }),
        "fft_length"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            win_size: 100,
            ..lab.clone()
        }),
        "win_size"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            num_filters: 1,
            num_cepstral: 1,
            ..lab.clone()
        }),
        "num_filters"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            pre_shift: 0,
            ..lab.clone()
        }),
        "pre_shift"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            frame_length: -0.02,
            ..lab.clone()
        }),
        "frame_length"
    );
    assert_eq!(
        mfcc_error(MfccSettings {
            frame_stride: f64::NAN,
            ..lab.clone()
        }),
        "frame_stride"
    );
    // More than 500 frames.
    assert_eq!(
        mfcc_error(MfccSettings {
            frame_length: 0.001,
            frame_stride: 0.001,
            fft_length: 16,
            num_filters: 2,
            num_cepstral: 2,
            ..lab.clone()
        }),
        "frame_stride"
    );
    // Too many filters for the FFT: Edge Impulse's "mel filterbank contains all zeros".
    let err = mfcc::features(
        &MfccSettings {
            num_filters: 128,
            fft_length: 128,
            ..lab.clone()
        },
        &signal,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("num_filters") && err.contains("at most"),
        "{err}"
    );
    for version in [0, 5] {
        let unsupported = mfcc::features(
            &MfccSettings {
                implementation_version: version,
                ..lab.clone()
            },
            &signal,
        );
        assert!(
            matches!(unsupported, Err(DspError::UnsupportedVersion { version: v, .. }) if v == version)
        );
        let unsupported = mfe::features(
            &MfeSettings {
                implementation_version: version,
                ..MfeSettings::default()
            },
            &signal,
        );
        assert!(matches!(
            unsupported,
            Err(DspError::UnsupportedVersion { .. })
        ));
        let unsupported = spectrogram::features(
            &SpectrogramSettings {
                implementation_version: version,
                ..SpectrogramSettings::default()
            },
            &signal,
        );
        assert!(matches!(
            unsupported,
            Err(DspError::UnsupportedVersion { .. })
        ));
    }
    assert_eq!(
        bad_setting_name(mfe::features(
            &MfeSettings {
                implementation_version: 2,
                win_size: 0,
                fft_length: 512,
                ..MfeSettings::default()
            },
            &signal
        )),
        "win_size"
    );
    assert_eq!(
        bad_setting_name(mfe::features(
            &MfeSettings {
                noise_floor_db: 12.0,
                ..MfeSettings::default()
            },
            &signal
        )),
        "noise_floor_db"
    );
    assert_eq!(
        bad_setting_name(spectrogram::features(
            &SpectrogramSettings {
                frame_stride: 0.0001,
                ..SpectrogramSettings::default()
            },
            &signal
        )),
        "frame_stride"
    );
    assert_eq!(
        bad_setting_name(spectrogram::features(
            &SpectrogramSettings {
                fft_length: 0,
                ..SpectrogramSettings::default()
            },
            &signal
        )),
        "fft_length"
    );
}
