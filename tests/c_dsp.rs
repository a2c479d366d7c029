//! The generated C DSP (`export::c_dsp`) against the Rust DSP, which is itself checked against
//! Edge Impulse's Python blocks: for each block and a range of settings, the C is compiled with
//! `gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2` (and clang when installed), a harness
//! (`tests/fixtures/c_dsp/harness.c`) runs it on windows from a file, and every feature must
//! satisfy `|c − rust| ≤ 1e-5 · max(1, |rust|)`. The worst error of each case is printed
//! (`cargo test --test c_dsp -- --nocapture`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    dead_code
)] // tests fail by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use tinylab::dsp::Signal;
use tinylab::dsp::block::{BlockInput, DspSettings};
use tinylab::dsp::image::ImageInput;
use tinylab::export::c_dsp::{CDsp, CExportError, DspCInput, dsp_sources};
use tinylab::rng::Rng;
use tinylab::sim::motion::{Motion, synthesize};

/// The tolerance of the issue: relative above 1, absolute below.
const TOLERANCE: f64 = 1e-5;

/// A compiled harness for one generated library.
struct Built {
    dir: tempfile::TempDir,
    exes: Vec<PathBuf>,
    c: CDsp,
}

fn compilers() -> Vec<&'static str> {
    ["gcc", "clang"]
        .into_iter()
        .filter(|cc| {
            Command::new(cc)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect()
}

fn build(settings: &DspSettings, input: &DspCInput) -> Built {
    let c = dsp_sources(settings, input).unwrap();
    check_text(&c);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tinylab_dsp.h"), &c.header).unwrap();
    std::fs::write(dir.path().join("tinylab_dsp.c"), &c.source).unwrap();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/c_dsp/harness.c");
    let compilers = compilers();
    assert!(
        compilers.contains(&"gcc"),
        "gcc is needed (scripts/install-deps.sh)"
    );
    let exes = compilers
        .iter()
        .map(|cc| {
            let exe = dir.path().join(format!("harness-{cc}"));
            let out = Command::new(cc)
                .args([
                    "-std=c99",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-pedantic",
                    "-O2",
                ])
                .arg("-I")
                .arg(dir.path())
                .arg(&harness)
                .arg(dir.path().join("tinylab_dsp.c"))
                .arg("-lm")
                .arg("-o")
                .arg(&exe)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{cc} failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stderr),
                c.source.lines().take(80).collect::<Vec<_>>().join("\n")
            );
            exe
        })
        .collect();
    Built { dir, exes, c }
}

/// The generated text uses no heap and no recursion (direct or mutual), and the header has the
/// contract's names.
fn check_text(c: &CDsp) {
    for banned in ["malloc", "calloc", "realloc", "free("] {
        assert!(!c.source.contains(banned), "{banned} in the generated C");
    }
    for name in [
        "TINYLAB_RAW_LEN",
        "TINYLAB_FEATURES_LEN",
        "TINYLAB_DSP_IMAGE",
        "TINYLAB_ERR_LEN (-1)",
        "int tinylab_dsp(const float *raw, size_t len, float *features);",
    ] {
        assert!(c.header.contains(name), "{name} missing from the header");
    }
    assert!(
        c.header
            .contains(&format!("#define TINYLAB_RAW_LEN {}\n", c.raw_len))
    );
    assert!(c.header.contains(&format!(
        "#define TINYLAB_FEATURES_LEN {}\n",
        c.features_len
    )));
    // Functions: a line at column 0 ending in `)` (the definition's signature), body to the next
    // line that is `}`.
    let lines: Vec<&str> = c.source.lines().collect();
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let starts = !line.starts_with([' ', '#', '/', '}', '{', '*'])
            && line.contains('(')
            && !line.trim_end().ends_with(';')
            && !line.contains('=');
        if starts {
            let name = line
                .split('(')
                .next()
                .unwrap()
                .split_whitespace()
                .last()
                .unwrap();
            let name = name.trim_start_matches('*').to_owned();
            let mut body = String::new();
            i += 1;
            while i < lines.len() && lines[i] != "}" {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            bodies.insert(name, body);
        }
        i += 1;
    }
    assert!(bodies.contains_key("tinylab_dsp"), "{:?}", bodies.keys());
    let calls: BTreeMap<&str, BTreeSet<&str>> = bodies
        .iter()
        .map(|(name, body)| {
            let called = bodies
                .keys()
                .filter(|other| body.contains(&format!("{other}(")))
                .map(String::as_str)
                .collect();
            (name.as_str(), called)
        })
        .collect();
    // Depth-first search for a cycle.
    fn visit<'a>(
        f: &'a str,
        calls: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        assert!(
            !path.contains(&f),
            "recursion in the generated C: {path:?} → {f}"
        );
        if done.contains(f) {
            return;
        }
        path.push(f);
        for g in &calls[f] {
            visit(g, calls, path, done);
        }
        path.pop();
        done.insert(f);
    }
    let mut done = BTreeSet::new();
    for f in calls.keys() {
        visit(f, &calls, &mut Vec::new(), &mut done);
    }
}

/// Runs every harness on `input_bytes`, returns each harness's (code, features) per input.
fn run(built: &Built, mode: &str, input_bytes: &[u8]) -> Vec<Vec<(i32, Vec<f32>)>> {
    let input = built.dir.path().join("in.bin");
    std::fs::write(&input, input_bytes).unwrap();
    built
        .exes
        .iter()
        .map(|exe| {
            let output = built.dir.path().join("out.bin");
            let status = Command::new(exe)
                .arg(mode)
                .arg(&input)
                .arg(&output)
                .status()
                .unwrap();
            assert!(status.success(), "{} {mode} failed", exe.display());
            let bytes = std::fs::read(&output).unwrap();
            let record = 4 + 4 * built.c.features_len;
            assert_eq!(bytes.len() % record, 0);
            bytes
                .chunks_exact(record)
                .map(|r| {
                    let code = i32::from_le_bytes(r[..4].try_into().unwrap());
                    let values = r[4..]
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                        .collect();
                    (code, values)
                })
                .collect()
        })
        .collect()
}

fn floats_to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Worst `|c − rust| / max(1, |rust|)`; panics past the tolerance.
fn compare(case: &str, window: usize, rust: &[f32], c: &[f32]) -> f64 {
    assert_eq!(rust.len(), c.len(), "{case}: feature count");
    let mut worst = 0.0_f64;
    for (k, (&r, &v)) in rust.iter().zip(c).enumerate() {
        let error = (f64::from(v) - f64::from(r)).abs() / f64::from(r).abs().max(1.0);
        assert!(
            error <= TOLERANCE,
            "{case}: window {window} feature {k}: C {v} vs Rust {r} (error {error:e})"
        );
        worst = worst.max(error);
    }
    worst
}

/// Generates the C for `settings` on windows of `axes × readings` at `rate_hz`, runs it on
/// `windows`, and compares with the Rust block. Returns the worst error.
fn check_series(
    case: &str,
    settings: &DspSettings,
    axes: usize,
    rate_hz: f64,
    windows: &[Vec<f32>],
) -> f64 {
    let readings = windows[0].len() / axes;
    let input = DspCInput::Series {
        axes,
        readings,
        rate_hz,
    };
    let built = build(settings, &input);
    assert_eq!(built.c.raw_len, axes * readings);
    let bytes: Vec<u8> = windows.iter().flat_map(|w| floats_to_bytes(w)).collect();
    let names: Vec<String> = (0..axes).map(|a| format!("axis{a}")).collect();
    let mut worst = 0.0_f64;
    for outputs in run(&built, "series", &bytes) {
        for (index, (window, (code, c))) in windows.iter().zip(outputs).enumerate() {
            assert_eq!(
                code, 0,
                "{case}: window {index}: tinylab_dsp returned {code}"
            );
            let signal = Signal {
                axes,
                rate_hz,
                values: window,
            };
            let rust = settings
                .features(&BlockInput::Signal {
                    signal,
                    axis_names: &names,
                })
                .unwrap();
            worst = worst.max(compare(case, index, &rust.values, &c));
        }
    }
    println!(
        "{case}: worst error {worst:.2e} over {} windows",
        windows.len()
    );
    worst
}

fn settings(block: &str, params: &[(&str, &str)]) -> DspSettings {
    let mut settings = DspSettings::default_for(block).unwrap();
    for (key, value) in params {
        settings.set(key, value).unwrap();
    }
    settings
}

/// Windows of the simulated motion classes, `seconds` long at `rate_hz`.
fn motion_windows(rate_hz: f64, seconds: f64) -> Vec<Vec<f32>> {
    let mut windows: Vec<Vec<f32>> = [
        Motion::Idle,
        Motion::Lift,
        Motion::Maritime,
        Motion::Terrestrial,
    ]
    .into_iter()
    .enumerate()
    .map(|(seed, motion)| synthesize(motion, rate_hz, seconds, 11 + seed as u64))
    .collect();
    let len = windows[0].len();
    windows.push(vec![0.0; len]);
    windows
}

// ---------------------------------------------------------------- raw

#[test]
fn raw_block_copies_or_scales_every_value() {
    let windows = motion_windows(50.0, 2.0);
    check_series("raw", &settings("raw", &[]), 3, 50.0, &windows);
    check_series(
        "raw scale 0.1",
        &settings("raw", &[("scale_axes", "0.1")]),
        3,
        50.0,
        &windows,
    );
}

#[test]
fn wrong_length_and_non_finite_input_are_refused_with_their_codes() {
    let windows = vec![vec![1.0_f32, f32::NAN, 2.0, 3.0]];
    let built = build(
        &settings("raw", &[]),
        &DspCInput::Series {
            axes: 2,
            readings: 2,
            rate_hz: 10.0,
        },
    );
    let out = run(&built, "series", &floats_to_bytes(&windows[0]));
    assert_eq!(out[0][0].0, -2, "NaN gives TINYLAB_ERR_INPUT");
    let source = &built.c.source;
    assert!(source.contains("if (len != TINYLAB_RAW_LEN) {\n        return TINYLAB_ERR_LEN;"));
}

// ---------------------------------------------------------------- image

/// A test picture: gradients, a checkerboard and noise, so every filter tap matters.
fn picture(width: usize, height: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let checker = if (x / 3 + y / 5) % 2 == 0 { 60.0 } else { 0.0 };
            let r = 255.0 * x as f64 / width.max(2) as f64;
            let g = 255.0 * y as f64 / height.max(2) as f64;
            let b = checker + 150.0 * rng.next_f64();
            for v in [r, g, b] {
                rgb.push(v.clamp(0.0, 255.0) as u8);
            }
        }
    }
    rgb
}

/// Checks `tinylab_dsp_image` on frames of each size and `tinylab_dsp` on the Rust resize of
/// each frame, packed `0xRRGGBB`.
fn check_image(case: &str, params: &[(&str, &str)], frames: &[(usize, usize, Vec<u8>)]) -> f64 {
    let settings = settings("image", params);
    let DspSettings::Image(image) = &settings else {
        unreachable!()
    };
    let (w, h) = (image.width as usize, image.height as usize);
    let built = build(
        &settings,
        &DspCInput::Image {
            width: w,
            height: h,
        },
    );
    assert!(built.c.header.contains("#define TINYLAB_DSP_IMAGE 1"));
    let mut frame_bytes = Vec::new();
    let mut packed = Vec::new();
    let mut rust = Vec::new();
    for (fw, fh, rgb) in frames {
        frame_bytes.extend((*fw as u32).to_le_bytes());
        frame_bytes.extend((*fh as u32).to_le_bytes());
        frame_bytes.extend(rgb);
        let input = ImageInput {
            width: *fw as u32,
            height: *fh as u32,
            rgb,
        };
        let resized =
            tinylab::dsp::image::resize(&input, image.width, image.height, &image.resize_mode)
                .unwrap();
        packed.extend(
            resized.chunks_exact(3).map(|p| {
                ((u32::from(p[0]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[2])) as f32
            }),
        );
        rust.push(settings.features(&BlockInput::Image(input)).unwrap().values);
    }
    let mut worst = 0.0_f64;
    for mode in ["image", "series"] {
        let bytes = if mode == "image" {
            frame_bytes.clone()
        } else {
            floats_to_bytes(&packed)
        };
        for outputs in run(&built, mode, &bytes) {
            assert_eq!(outputs.len(), frames.len());
            for (index, ((code, c), r)) in outputs.iter().zip(&rust).enumerate() {
                assert_eq!(*code, 0, "{case} {mode}: frame {index}");
                worst = worst.max(compare(&format!("{case} {mode}"), index, r, c));
            }
        }
    }
    println!(
        "{case}: worst error {worst:.2e} over {} frames",
        frames.len()
    );
    worst
}

fn frames(sizes: &[(usize, usize)]) -> Vec<(usize, usize, Vec<u8>)> {
    let mut out: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &(w, h))| (w, h, picture(w, h, i as u64)))
        .collect();
    // Edge cases: constant black and white frames.
    out.push((33, 17, vec![0; 33 * 17 * 3]));
    out.push((17, 33, vec![255; 17 * 33 * 3]));
    out
}

/// Downscaling, upscaling, odd and extreme aspect ratios, and the model's own size.
const SIZES: [(usize, usize); 7] = [
    (160, 120),
    (96, 96),
    (320, 240),
    (41, 73),
    (13, 9),
    (1, 1),
    (250, 7),
];

#[test]
fn image_squash_rgb_and_grayscale_at_many_frame_sizes() {
    let frames = frames(&SIZES);
    check_image("image squash RGB 96", &[], &frames);
    check_image(
        "image squash gray 96",
        &[("channels", "Grayscale")],
        &frames,
    );
}

#[test]
fn image_fit_short_and_fit_long_at_many_frame_sizes() {
    let frames = frames(&SIZES);
    for mode in ["fit-short", "fit-long"] {
        check_image(
            &format!("image {mode} RGB 48x32"),
            &[("resize_mode", mode), ("width", "48"), ("height", "32")],
            &frames,
        );
        check_image(
            &format!("image {mode} gray 31x45"),
            &[
                ("resize_mode", mode),
                ("width", "31"),
                ("height", "45"),
                ("channels", "Grayscale"),
            ],
            &frames,
        );
    }
}

#[test]
fn image_input_of_another_size_is_refused() {
    let err = dsp_sources(
        &settings("image", &[]),
        &DspCInput::Image {
            width: 64,
            height: 64,
        },
    )
    .unwrap_err();
    assert!(matches!(err, CExportError::BadInput(_)), "{err}");
    assert!(err.to_string().contains("96 × 96"), "{err}");
}

// ---------------------------------------------------------------- spectral analysis

/// The motion lab's own settings (spectral v4, FFT 32, log, no filter) at its 50 Hz, 2 s.
#[test]
fn spectral_motion_lab_preset() {
    let lab = tinylab::labs::lab("motion").unwrap();
    let windows = motion_windows(lab.sensor.rate_hz, 2.0);
    check_series(
        "spectral motion lab",
        &lab.dsp,
        3,
        lab.sensor.rate_hz,
        &windows,
    );
}

#[test]
fn spectral_every_filter_type_and_order() {
    let windows = motion_windows(62.5, 2.0);
    for (filter, cutoff) in [("low", "8"), ("high", "3")] {
        for order in ["0", "2", "4", "6", "8"] {
            let case = format!("spectral {filter}-pass order {order}");
            let settings = settings(
                "spectral",
                &[
                    ("filter_type", filter),
                    ("filter_cutoff", cutoff),
                    ("filter_order", order),
                    ("fft_length", "64"),
                ],
            );
            check_series(&case, &settings, 3, 62.5, &windows);
        }
    }
}

#[test]
fn spectral_log_overlap_and_versions_2_3() {
    let windows = motion_windows(100.0, 1.5);
    for (version, log, overlap, fft) in [
        ("4", "false", "true", "16"),
        ("4", "true", "true", "128"),
        ("3", "true", "false", "32"),
        ("2", "false", "false", "64"),
        ("2", "true", "true", "256"),
    ] {
        let case = format!("spectral v{version} log {log} overlap {overlap} fft {fft}");
        let settings = settings(
            "spectral",
            &[
                ("implementation_version", version),
                ("do_log", log),
                ("do_fft_overlap", overlap),
                ("fft_length", fft),
                ("filter_type", "low"),
                ("filter_cutoff", "20"),
                ("filter_order", "4"),
            ],
        );
        check_series(&case, &settings, 3, 100.0, &windows);
    }
}

#[test]
fn spectral_decimation_and_extra_low_frequency() {
    let windows = motion_windows(1000.0, 1.0);
    for (ratio, filter, extra) in [
        ("3", "none", "false"),
        ("10", "low", "false"),
        ("30", "high", "false"),
        ("100", "none", "false"),
        ("1", "none", "true"),
        ("3", "low", "true"),
    ] {
        let case = format!("spectral decimation {ratio} filter {filter} extra_low_freq {extra}");
        // A cut-off at 40 % of the decimated Nyquist frequency.
        let cutoff = (0.4 * 500.0 / ratio.parse::<f64>().unwrap()).to_string();
        let settings = settings(
            "spectral",
            &[
                ("input_decimation_ratio", ratio),
                ("filter_type", filter),
                ("filter_cutoff", &cutoff),
                ("filter_order", "2"),
                ("fft_length", "32"),
                ("extra_low_freq", extra),
            ],
        );
        check_series(&case, &settings, 3, 1000.0, &windows);
    }
}

#[test]
fn spectral_settings_the_c_export_lacks_are_named() {
    let input = DspCInput::Series {
        axes: 3,
        readings: 100,
        rate_hz: 50.0,
    };
    for (key, value, named) in [
        ("analysis_type", "Wavelet", "analysis_type"),
        ("implementation_version", "1", "implementation_version"),
    ] {
        let err = dsp_sources(&settings("spectral", &[(key, value)]), &input).unwrap_err();
        assert!(
            matches!(&err, CExportError::Unsupported { setting, .. } if setting == named),
            "{err}"
        );
        assert!(err.to_string().contains("choose"), "{err}");
    }
    // Settings the Rust block refuses are refused the same way.
    let err = dsp_sources(&settings("spectral", &[("fft_length", "48")]), &input).unwrap_err();
    assert!(matches!(err, CExportError::Dsp(_)), "{err}");
    assert!(err.to_string().contains("fft_length"), "{err}");
}

// ---------------------------------------------------------------- audio

/// Clips at `rate_hz` in int16 units: a tone sweep with noise, speech-like bursts, a clipped tone,
/// low-level noise, a full-scale square wave, and silence.
fn audio_windows(rate_hz: f64, seconds: f64) -> Vec<Vec<f32>> {
    let n = (rate_hz * seconds) as usize;
    let mut rng = Rng::new(7);
    let t = |i: usize| i as f64 / rate_hz;
    let sweep: Vec<f32> = (0..n)
        .map(|i| {
            let f = 200.0 + 3000.0 * t(i) / seconds;
            (6000.0 * (std::f64::consts::TAU * f * t(i)).sin() + 300.0 * rng.next_gaussian()) as f32
        })
        .collect();
    let bursts: Vec<f32> = (0..n)
        .map(|i| {
            let envelope = ((std::f64::consts::TAU * 3.0 * t(i)).sin()).max(0.0);
            let voiced = (std::f64::consts::TAU * 180.0 * t(i)).sin()
                + 0.5 * (std::f64::consts::TAU * 720.0 * t(i)).sin();
            (envelope * 9000.0 * voiced + 50.0 * rng.next_gaussian()) as f32
        })
        .collect();
    let loud: Vec<f32> = (0..n)
        .map(|i| {
            let v = 40000.0 * (std::f64::consts::TAU * 440.0 * t(i)).sin();
            v.clamp(-32768.0, 32767.0) as f32
        })
        .collect();
    let quiet: Vec<f32> = (0..n)
        .map(|_| (3.0 * rng.next_gaussian()).round() as f32)
        .collect();
    // Full scale: a 50 Hz square wave between the int16 limits.
    let square: Vec<f32> = (0..n)
        .map(|i| {
            if (t(i) * 100.0) as usize % 2 == 0 {
                32767.0
            } else {
                -32768.0
            }
        })
        .collect();
    // Samples are whole int16 values, as a microphone or WAV file gives them.
    [sweep, bursts, loud, quiet, square, vec![0.0; n]]
        .into_iter()
        .map(|w| w.into_iter().map(f32::round).collect())
        .collect()
}

#[test]
fn mfcc_kws_lab_preset_and_every_version() {
    let lab = tinylab::labs::lab("kws").unwrap();
    let windows = audio_windows(16000.0, 1.0);
    check_series("mfcc kws lab", &lab.dsp, 1, 16000.0, &windows);
    for version in ["1", "2", "3"] {
        let mut settings = lab.dsp.clone();
        settings.set("implementation_version", version).unwrap();
        check_series(
            &format!("mfcc kws v{version}"),
            &settings,
            1,
            16000.0,
            &windows,
        );
    }
}

#[test]
fn mfcc_variants_without_normalisation_and_at_8_khz() {
    let windows = audio_windows(8000.0, 1.0);
    for (case, params) in [
        ("mfcc defaults 8 kHz", vec![]),
        ("mfcc win_size 0", vec![("win_size", "0")]),
        (
            "mfcc long frames fft 128 shift 3",
            vec![
                ("frame_length", "0.05"),
                ("frame_stride", "0.025"),
                ("fft_length", "128"),
                ("pre_shift", "3"),
                ("num_filters", "20"),
                ("num_cepstral", "10"),
                ("win_size", "3"),
            ],
        ),
        (
            "mfcc v1 band 300-3000 Hz",
            vec![
                ("implementation_version", "1"),
                ("low_frequency", "300"),
                ("high_frequency", "3000"),
                ("fft_length", "512"),
            ],
        ),
    ] {
        // With a 3-frame CMVN window the periodic square wave (window 4) gives cepstra equal in
        // exact arithmetic over the window, so the output is rounding noise divided by
        // speechpy's 1e-10 epsilon (about 1e-5 in C and in Rust alike, but not the same noise):
        // left out there; the lab's 151-frame window above takes it.
        let windows: Vec<Vec<f32>> = windows
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 4 || !case.contains("shift 3"))
            .map(|(_, w)| w.clone())
            .collect();
        check_series(case, &settings("mfcc", &params), 1, 8000.0, &windows);
    }
}

#[test]
fn mfe_every_version() {
    let windows = audio_windows(16000.0, 1.0);
    for version in ["1", "2", "3", "4"] {
        let settings = settings(
            "mfe",
            &[("implementation_version", version), ("fft_length", "512")],
        );
        check_series(&format!("mfe v{version}"), &settings, 1, 16000.0, &windows);
    }
    let settings = settings(
        "mfe",
        &[
            ("noise_floor_db", "-72"),
            ("num_filters", "32"),
            ("frame_stride", "0.02"),
        ],
    );
    check_series("mfe v4 floor -72 dB", &settings, 1, 16000.0, &windows);
}

#[test]
fn spectrogram_every_version() {
    let windows = audio_windows(16000.0, 1.0);
    for version in ["1", "2", "3", "4"] {
        let settings = settings("spectrogram", &[("implementation_version", version)]);
        check_series(
            &format!("spectrogram v{version}"),
            &settings,
            1,
            16000.0,
            &windows,
        );
    }
    // Version 3 scales only windows with a sample outside [-1, 1]: audio already in that range.
    let unit: Vec<Vec<f32>> = audio_windows(16000.0, 1.0)
        .iter()
        .map(|w| w.iter().map(|v| v / 32768.0).collect())
        .collect();
    let settings = settings(
        "spectrogram",
        &[("implementation_version", "3"), ("fft_length", "256")],
    );
    check_series("spectrogram v3 unit range", &settings, 1, 16000.0, &unit);
}
