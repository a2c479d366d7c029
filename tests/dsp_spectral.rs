//! The Spectral Analysis block against Edge Impulse's own: every fixture in
//! `tests/fixtures/dsp/spectral/` was written by `make_fixtures.py` beside it, which runs the
//! block's Python (`spectral_analysis/dsp.py`) on a small stored window. Each must give the same
//! feature names exactly and the same values to 1e-4. Then the windows and settings that must be
//! refused with an error rather than a panic or NaN.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tinylab::dsp::spectral::{self, SpectralSettings};
use tinylab::dsp::{DspError, Signal};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dsp/spectral/");

/// One fixture: settings with Edge Impulse's names, the window, the expected output.
#[derive(Deserialize)]
struct Fixture {
    about: String,
    settings: SpectralSettings,
    rate_hz: f64,
    axes: Vec<String>,
    input: Vec<f64>,
    names: Vec<String>,
    #[serde(default)]
    values: Vec<f64>,
    #[serde(default)]
    values_per_wavelet: BTreeMap<String, Vec<f64>>,
}

fn load(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

/// The pass rule: `|a - b| <= 1e-4·|b|`, or `|a - b| <= 1e-3` when `|b| < 1e-3`.
fn close(ours: f64, theirs: f64) -> bool {
    let error = (ours - theirs).abs();
    error <= 1e-4 * theirs.abs() || (theirs.abs() < 1e-3 && error <= 1e-3)
}

/// Runs the block on a fixture's window with `settings`; returns the largest relative error
/// (absolute below 1e-3) after checking names and every value.
fn check(label: &str, fixture: &Fixture, settings: &SpectralSettings, expected: &[f64]) -> f64 {
    let input: Vec<f32> = fixture.input.iter().map(|&v| v as f32).collect();
    let signal = Signal {
        axes: fixture.axes.len(),
        rate_hz: fixture.rate_hz,
        values: &input,
    };
    let out = spectral::features(settings, &signal, &fixture.axes)
        .unwrap_or_else(|e| panic!("{label} ({}): {e}", fixture.about));
    assert_eq!(out.names, fixture.names, "{label}: names");
    assert_eq!(out.shape, [expected.len()], "{label}: shape");
    let mut worst = 0.0_f64;
    for (i, (&ours, &theirs)) in out.values.iter().zip(expected).enumerate() {
        let ours = f64::from(ours);
        assert!(
            close(ours, theirs),
            "{label}: {} = {ours}, Edge Impulse {theirs}",
            out.names[i]
        );
        let error = (ours - theirs).abs() / theirs.abs().max(1e-3);
        worst = worst.max(error);
    }
    worst
}

#[test]
fn every_fixture_matches_edge_impulse() {
    let mut checked = 0;
    for path in fixture_paths() {
        let fixture = load(&path);
        let label = path.file_stem().unwrap().to_string_lossy().into_owned();
        if fixture.values_per_wavelet.is_empty() {
            let worst = check(&label, &fixture, &fixture.settings, &fixture.values);
            println!(
                "{label}: {} features, max error {worst:.2e}",
                fixture.values.len()
            );
        } else {
            for (wavelet, values) in &fixture.values_per_wavelet {
                let settings = SpectralSettings {
                    wavelet: wavelet.clone(),
                    ..fixture.settings.clone()
                };
                let worst = check(&format!("{label}/{wavelet}"), &fixture, &settings, values);
                println!("{label}/{wavelet}: max error {worst:.2e}");
            }
            assert_eq!(
                fixture.values_per_wavelet.len(),
                50,
                "every offered wavelet"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures found in {FIXTURES}");
}

fn axes(n: usize) -> Vec<String> {
    ["accX", "accY", "accZ"][..n]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// A 2 s, 50 Hz, 3-axis window of varied readings.
fn window() -> Vec<f32> {
    (0..300)
        .map(|i| ((i as f32) * 0.37).sin() * 2.0 + ((i * 7919 % 113) as f32) / 113.0)
        .collect()
}

fn run(settings: &SpectralSettings, values: &[f32]) -> Result<Vec<f32>, DspError> {
    let signal = Signal {
        axes: 3,
        rate_hz: 50.0,
        values,
    };
    spectral::features(settings, &signal, &axes(3)).map(|f| f.values)
}

fn with(change: impl FnOnce(&mut SpectralSettings)) -> SpectralSettings {
    let mut settings = SpectralSettings::motion_lab(false);
    change(&mut settings);
    settings
}

fn bad_setting(result: Result<Vec<f32>, DspError>, setting: &str) {
    match result {
        Err(DspError::BadSetting { name, .. }) => assert_eq!(name, setting),
        other => panic!("expected a bad {setting}, got {other:?}"),
    }
}

#[test]
fn the_motion_labs_settings_give_63_features() {
    for overlap in [false, true] {
        let out = run(&SpectralSettings::motion_lab(overlap), &window()).unwrap();
        assert_eq!(out.len(), 63);
        assert!(out.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn empty_and_nan_windows_are_errors() {
    let settings = SpectralSettings::motion_lab(false);
    assert_eq!(run(&settings, &[]), Err(DspError::EmptyWindow));
    let mut values = window();
    values[4] = f32::NAN;
    assert_eq!(
        run(&settings, &values),
        Err(DspError::NotFinite { index: 4 })
    );
    values[4] = f32::INFINITY;
    assert_eq!(
        run(&settings, &values),
        Err(DspError::NotFinite { index: 4 })
    );
    let signal = Signal {
        axes: 3,
        rate_hz: 50.0,
        values: &window(),
    };
    assert!(matches!(
        spectral::features(&settings, &signal, &axes(2)),
        Err(DspError::WrongInput { .. })
    ));
}

#[test]
fn a_window_shorter_than_the_fft_is_zero_padded_as_edge_impulse_does() {
    // 5 readings, FFT 32: one zero-padded frame (the short_window_fft64 fixture checks values).
    let out = run(&SpectralSettings::motion_lab(false), &window()[..15]).unwrap();
    assert_eq!(out.len(), 63);
    assert!(out.iter().all(|v| v.is_finite()));
    // A single reading still works: everything is zero after mean removal.
    let out = run(&SpectralSettings::motion_lab(false), &[1.0, 2.0, 3.0]).unwrap();
    assert!(out.iter().all(|v| v.is_finite()));
}

#[test]
fn an_all_zero_window_gives_the_blocks_floor_values() {
    // SciPy 1.7.3 (the block's) gives skewness 0 and kurtosis -3 for constant input; log10 of a
    // zero power is taken of 1e-10.
    let out = run(&SpectralSettings::motion_lab(false), &[0.0; 300]).unwrap();
    for axis in out.chunks(21) {
        assert_eq!(&axis[..5], &[0.0, 0.0, -3.0, 0.0, -3.0]);
        assert!(axis[5..].iter().all(|&v| v == -10.0));
    }
    // A constant, non-zero window: the block removes the mean in float32, whose rounding leaves
    // a tiny offset; its own output for this window (printed by dsp.py, except the time-domain
    // moments, which SciPy 1.7.3 gives as 0 and -3) is reproduced.
    let constant = run(&SpectralSettings::motion_lab(true), &[9.81; 300]).unwrap();
    let theirs = [
        9.53674316e-07,
        0.0,
        -3.0,
        3.70579968,
        11.8448261,
        -11.5977232,
        -12.4278513,
    ];
    for (&ours, theirs) in constant.iter().zip(theirs) {
        assert!(close(f64::from(ours), theirs), "{ours} vs {theirs}");
    }
    // Linear spectrum, wavelet and version 1 stay finite too.
    for settings in [
        with(|s| s.do_log = false),
        with(|s| s.analysis_type = "Wavelet".into()),
        with(|s| s.implementation_version = 1),
    ] {
        let out = run(&settings, &[0.0; 300]).unwrap();
        assert!(out.iter().all(|v| v.is_finite()), "{settings:?}: {out:?}");
    }
}

#[test]
fn bad_settings_are_errors_that_name_the_setting() {
    let values = window();
    // Filter cut-off at or above Nyquist (25 Hz), or not positive.
    for cutoff in [25.0, 30.0] {
        bad_setting(
            run(
                &with(|s| {
                    s.filter_type = "low".into();
                    s.filter_cutoff = cutoff;
                }),
                &values,
            ),
            "filter_cutoff",
        );
    }
    bad_setting(
        run(
            &with(|s| {
                s.filter_type = "high".into();
                s.filter_cutoff = 0.0;
            }),
            &values,
        ),
        "filter_cutoff",
    );
    // A low-pass so low it masks every bin.
    bad_setting(
        run(
            &with(|s| {
                s.filter_type = "low".into();
                s.filter_cutoff = 0.5;
            }),
            &values,
        ),
        "filter_cutoff",
    );
    // Odd and too-high filter orders.
    for order in [3, 10] {
        bad_setting(
            run(
                &with(|s| {
                    s.filter_type = "low".into();
                    s.filter_order = order;
                }),
                &values,
            ),
            "filter_order",
        );
    }
    // FFT lengths that are not powers of two (or 0, 1).
    for n in [0, 1, 24, 100] {
        bad_setting(run(&with(|s| s.fft_length = n), &values), "fft_length");
    }
    bad_setting(
        run(&with(|s| s.filter_type = "band".into()), &values),
        "filter_type",
    );
    bad_setting(
        run(&with(|s| s.analysis_type = "fft".into()), &values),
        "analysis_type",
    );
    bad_setting(
        run(
            &with(|s| {
                s.analysis_type = "Wavelet".into();
                s.wavelet = "mexh".into();
            }),
            &values,
        ),
        "wavelet",
    );
    bad_setting(
        run(
            &with(|s| {
                s.implementation_version = 1;
                s.spectral_power_edges = "0.1, fast".into();
            }),
            &values,
        ),
        "spectral_power_edges",
    );
    // Decimation: only in version 4, only the offered ratios, and not past the filter.
    bad_setting(
        run(&with(|s| s.input_decimation_ratio = 7), &values),
        "input_decimation_ratio",
    );
    bad_setting(
        run(
            &with(|s| {
                s.implementation_version = 3;
                s.input_decimation_ratio = 3;
            }),
            &values,
        ),
        "input_decimation_ratio",
    );
    bad_setting(
        run(
            &with(|s| {
                s.input_decimation_ratio = 3;
                s.filter_type = "low".into();
                s.filter_cutoff = 8.0;
            }),
            &values,
        ),
        "input_decimation_ratio",
    );
    bad_setting(
        run(&with(|s| s.scale_axes = f64::NAN), &values),
        "scale_axes",
    );
    bad_setting(run(&with(|s| s.scale_axes = 1e300), &values), "scale_axes");
}

#[test]
fn unsupported_versions_and_short_windows_are_errors() {
    let values = window();
    for version in [0, 5] {
        assert!(matches!(
            run(&with(|s| s.implementation_version = version), &values),
            Err(DspError::UnsupportedVersion { version: v, .. }) if v == version
        ));
    }
    // Wavelet level 2 needs 128 samples; the window has 100.
    let result = run(
        &with(|s| {
            s.analysis_type = "Wavelet".into();
            s.wavelet_level = 2;
        }),
        &values,
    );
    assert_eq!(
        result,
        Err(DspError::TooShort {
            needed: 128,
            got: 100
        })
    );
    // Extra low frequency with FFT 32 needs 16 samples after decimating by 10.
    let result = run(&with(|s| s.extra_low_freq = true), &values[..150]);
    assert_eq!(
        result,
        Err(DspError::TooShort {
            needed: 151,
            got: 50
        })
    );
}

#[test]
fn settings_parse_from_edge_impulse_names_and_reject_unknown_keys() {
    let settings: SpectralSettings =
        serde_json::from_str(r#"{"fft_length": 32, "do_fft_overlap": false}"#).unwrap();
    assert_eq!(settings, SpectralSettings::motion_lab(false));
    assert!(serde_json::from_str::<SpectralSettings>(r#"{"fft-length": 32}"#).is_err());
    // parameters.json gives the decimation ratio as a string.
    let settings: SpectralSettings =
        serde_json::from_str(r#"{"input_decimation_ratio": "10"}"#).unwrap();
    assert_eq!(settings.input_decimation_ratio, 10);
    let set = tinylab::dsp::set_param(
        spectral::BLOCK,
        &SpectralSettings::default(),
        "fft_length",
        "64",
    )
    .unwrap();
    assert_eq!(set.fft_length, 64);
    assert_eq!(SpectralSettings::default().implementation_version, 4);
}
