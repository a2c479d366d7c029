//! The image and raw blocks, windowing and the PCA explorer against independent references:
//! Edge Impulse's own `image/dsp.py` and Pillow's bilinear resize
//! (`tests/fixtures/dsp/image/make_fixtures.py`), numpy's SVD
//! (`tests/fixtures/dsp/pca/make_fixtures.py`), hand-computed values and the book's window counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
// Window lists such as `vec![0..16_000]` are one range on purpose.
#![allow(clippy::single_range_in_vec_init)]

use serde_json::Value;
use std::path::PathBuf;
use tinylab::dsp::image::{self, ImageInput, ImageSettings};
use tinylab::dsp::pca::pca_2d;
use tinylab::dsp::raw::{self, RawSettings};
use tinylab::dsp::windowing::{WindowSettings, readings_in, window_values, windows};
use tinylab::dsp::{DspError, Signal, set_param};

fn fixture(relative: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dsp")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn bytes(value: &Value) -> Vec<u8> {
    numbers(value).iter().map(|&v| v as u8).collect()
}

/// `|got − want| ≤ tolerance · max(1, |want|)` for every value, with the first failure named.
fn check_close(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn settings(channels: &str, width: u32, height: u32, resize_mode: &str) -> ImageSettings {
    ImageSettings {
        channels: channels.into(),
        width,
        height,
        resize_mode: resize_mode.into(),
    }
}

/// A `width × height` image painted pixel by pixel.
fn paint(width: u32, height: u32, colour: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .flat_map(|(x, y)| colour(x, y))
        .collect()
}

fn resized(rgb: &[u8], width: u32, height: u32, to: (u32, u32), mode: &str) -> Vec<u8> {
    let input = ImageInput { width, height, rgb };
    image::resize(&input, to.0, to.1, mode).unwrap()
}

fn pixel(rgb: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * width + x) * 3) as usize;
    [rgb[i], rgb[i + 1], rgb[i + 2]]
}

// ---------------------------------------------------------------- image block

#[test]
fn image_features_equal_edge_impulse_dsp_py() {
    let fx = fixture("image/image_features.json");
    let source = &fx["images"][fx["features_source"].as_str().unwrap()];
    let (width, height) = (
        source["width"].as_u64().unwrap() as u32,
        source["height"].as_u64().unwrap() as u32,
    );
    let rgb = bytes(&source["rgb"]);
    for case in fx["features"].as_array().unwrap() {
        let channels = case["channels"].as_str().unwrap();
        let want = numbers(&case["features"]);
        let shape: Vec<usize> = numbers(&case["shape"])
            .iter()
            .map(|&v| v as usize)
            .collect();
        // The processing block alone, and the whole pipeline with a same-size (identity) resize.
        let block = image::features_from_pixels(channels, width, height, &rgb).unwrap();
        let input = ImageInput {
            width,
            height,
            rgb: &rgb,
        };
        let whole = image::features(&settings(channels, width, height, "squash"), &input).unwrap();
        for features in [block, whole] {
            assert_eq!(features.shape, shape, "{channels}");
            assert!(features.names.is_empty());
            let got: Vec<f64> = features.values.iter().map(|&v| f64::from(v)).collect();
            check_close(channels, &got, &want, 1e-6);
        }
    }
}

#[test]
fn resize_matches_pillow_bilinear_within_one_level() {
    let fx = fixture("image/image_features.json");
    for case in fx["resize"].as_array().unwrap() {
        let source = &fx["images"][case["source"].as_str().unwrap()];
        let (width, height) = (
            source["width"].as_u64().unwrap() as u32,
            source["height"].as_u64().unwrap() as u32,
        );
        let mode = case["mode"].as_str().unwrap();
        let to = (
            case["width"].as_u64().unwrap() as u32,
            case["height"].as_u64().unwrap() as u32,
        );
        let got = resized(&bytes(&source["rgb"]), width, height, to, mode);
        let want = bytes(&case["rgb"]);
        assert_eq!(got.len(), want.len());
        let worst = got
            .iter()
            .zip(&want)
            .map(|(&g, &w)| g.abs_diff(w))
            .max()
            .unwrap();
        assert!(
            worst <= 1,
            "{width}x{height} {mode} → {to:?}: off by {worst}"
        );
    }
}

#[test]
fn two_by_two_to_four_by_four_is_hand_computed_bilinear() {
    // Grey levels [[0, 100], [200, 40]]; along each axis the output pixels read the two source
    // pixels with weights (1, 0), (¾, ¼), (¼, ¾), (0, 1) (centres at −¼, ¼, ¾, 1¼, edges clamped).
    let levels = [[0u8, 100], [200, 40]];
    let rgb = paint(2, 2, |x, y| [levels[y as usize][x as usize]; 3]);
    let out = resized(&rgb, 2, 2, (4, 4), "squash");
    let want = [
        [0, 25, 75, 100],
        [50, 59, 76, 85],   // ¾·row0 + ¼·row3: 50, 58.75, 76.25, 85
        [150, 126, 79, 55], // ¼·row0 + ¾·row3: 150, 126.25, 78.75, 55
        [200, 160, 80, 40],
    ];
    for (y, row) in want.iter().enumerate() {
        for (x, &level) in row.iter().enumerate() {
            assert_eq!(pixel(&out, 4, x as u32, y as u32), [level; 3], "({x}, {y})");
        }
    }
}

#[test]
fn squash_keeps_all_of_a_two_to_one_image() {
    // Four quadrant colours; squashing 16 × 8 to 4 × 4 keeps every one in its corner.
    let quadrants = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
    let rgb = paint(16, 8, |x, y| {
        quadrants[(usize::from(y >= 4) * 2) + usize::from(x >= 8)]
    });
    let out = resized(&rgb, 16, 8, (4, 4), "squash");
    assert_eq!(pixel(&out, 4, 0, 0), quadrants[0]);
    assert_eq!(pixel(&out, 4, 3, 0), quadrants[1]);
    assert_eq!(pixel(&out, 4, 0, 3), quadrants[2]);
    assert_eq!(pixel(&out, 4, 3, 3), quadrants[3]);
}

#[test]
fn fit_short_keeps_the_centre_and_fit_long_letterboxes_in_black() {
    // Three 4 × 4 blocks side by side: red, green, blue.
    let blocks = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
    let rgb = paint(12, 4, |x, _| blocks[(x / 4) as usize]);
    let centre = resized(&rgb, 12, 4, (4, 4), "fit-short");
    assert!(centre.chunks(3).all(|p| p == [0, 255, 0]), "{centre:?}");
    // Edge Impulse's own spelling means the same.
    assert_eq!(resized(&rgb, 12, 4, (4, 4), "fit-shortest"), centre);

    // A white 8 × 4 image fitted into 4 × 4 by its long side: 4 × 2 of white, centred.
    let white = vec![255u8; 8 * 4 * 3];
    let boxed = resized(&white, 8, 4, (4, 4), "fit-long");
    assert_eq!(resized(&white, 8, 4, (4, 4), "fit-longest"), boxed);
    for y in 0..4 {
        let want = if (1..3).contains(&y) {
            [255; 3]
        } else {
            [0; 3]
        };
        for x in 0..4 {
            assert_eq!(pixel(&boxed, 4, x, y), want, "({x}, {y})");
        }
    }
    // A tall image gets bars left and right: 4 × 8 → 6 × 6 holds a 3 × 6 picture at x = 1..4.
    let tall = resized(&[255u8; 4 * 8 * 3], 4, 8, (6, 6), "fit-long");
    for x in 0..6 {
        let want = if (1..4).contains(&x) {
            [255; 3]
        } else {
            [0; 3]
        };
        assert_eq!(pixel(&tall, 6, x, 3), want, "x = {x}");
    }
}

/// Where a QVGA frame's points land in a 96 × 96 input, worked by hand: squash scales 0.3 across
/// and 0.4 down; fit-short keeps x 40..280 (scale 0.4, shifted 16 left); fit-long makes 96 × 72
/// with 12 px bars above and below (scale 0.3).
#[test]
fn input_mapping_follows_each_resize_mode() {
    let check = |mode: &str, file: (f64, f64), want: (f64, f64)| {
        let m = image::input_mapping(320, 240, 96, 96, mode).unwrap();
        let (x, y) = m.to_input(file.0, file.1);
        assert!(
            (x - want.0).abs() < 1e-9 && (y - want.1).abs() < 1e-9,
            "{mode}: {file:?} → ({x}, {y}), want {want:?}"
        );
        let (bx, by) = m.to_file(x, y);
        assert!((bx - file.0).abs() < 1e-9 && (by - file.1).abs() < 1e-9);
    };
    check("squash", (100.0, 50.0), (30.0, 20.0));
    check("squash", (320.0, 240.0), (96.0, 96.0));
    check("fit-short", (40.0, 0.0), (0.0, 0.0));
    check("fit-short", (100.0, 50.0), (24.0, 20.0));
    check("fit-short", (280.0, 240.0), (96.0, 96.0));
    check("fit-long", (0.0, 0.0), (0.0, 12.0));
    check("fit-long", (100.0, 50.0), (30.0, 27.0));
    check("fit-long", (320.0, 240.0), (96.0, 84.0));
    // A point cropped away by fit-short is off the input.
    let m = image::input_mapping(320, 240, 96, 96, "fit-short").unwrap();
    let (x, y) = m.to_input(10.0, 100.0);
    assert!(!m.inside_input(x, y));
    assert!(image::input_mapping(320, 240, 96, 96, "stretch").is_err());
}

/// The mapping agrees with the resize itself: a white square drawn in a 40 × 20 frame is found,
/// after fit-long into 20 × 20, where the mapping puts it.
#[test]
fn input_mapping_agrees_with_the_resized_pixels() {
    let rgb = paint(40, 20, |x, y| {
        if (20..28).contains(&x) && (4..12).contains(&y) {
            [255; 3]
        } else {
            [40; 3]
        }
    });
    let out = resized(&rgb, 40, 20, (20, 20), "fit-long");
    let m = image::input_mapping(40, 20, 20, 20, "fit-long").unwrap();
    let (x0, y0) = m.to_input(20.0, 4.0);
    let (x1, y1) = m.to_input(28.0, 12.0);
    assert_eq!((x0, y0, x1, y1), (10.0, 7.0, 14.0, 11.0));
    for y in 0..20u32 {
        for x in 0..20u32 {
            let inside = (10..14).contains(&x) && (7..11).contains(&y);
            let value = pixel(&out, 20, x, y)[0];
            // Bilinear edges blend an eighth of the neighbour in: halfway tells in from out.
            assert_eq!(value > 128, inside, "({x}, {y}) = {value}");
        }
    }
}

#[test]
fn a_solid_colour_stays_that_colour_at_every_size() {
    let colour = [12u8, 200, 77];
    let rgb = paint(37, 23, |_, _| colour);
    for mode in ["squash", "fit-short"] {
        for to in [(96, 96), (5, 3), (160, 120), (1, 1)] {
            let out = resized(&rgb, 37, 23, to, mode);
            assert_eq!(out.len(), (to.0 * to.1 * 3) as usize);
            assert!(out.chunks(3).all(|p| p == colour), "{mode} {to:?}");
        }
    }
}

#[test]
fn steps_give_the_model_size_and_both_colour_depths() {
    let rgb = paint(320, 240, |x, y| [(x % 256) as u8, (y % 256) as u8, 128]);
    let input = ImageInput {
        width: 320,
        height: 240,
        rgb: &rgb,
    };
    let steps = image::steps(&ImageSettings::default(), &input).unwrap();
    assert_eq!((steps.width, steps.height), (96, 96));
    assert_eq!(steps.resized_rgb.len(), 96 * 96 * 3);
    assert_eq!(steps.features.shape, [96, 96, 3]);
    assert_eq!(steps.features.values.len(), 27_648);
    assert!(
        steps
            .features
            .values
            .iter()
            .all(|v| (0.0..=1.0).contains(v))
    );

    let gray = image::features(&settings("Grayscale", 96, 96, "squash"), &input).unwrap();
    assert_eq!(gray.shape, [96, 96, 1]);
    assert_eq!(gray.values.len(), 9_216);
    // The grey value is the luma of the same resized pixel.
    let [r, g, b] = pixel(&steps.resized_rgb, 96, 10, 20);
    let luma = (0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b)) / 255.0;
    assert!((f64::from(gray.values[20 * 96 + 10]) - luma).abs() < 1e-6);
}

#[test]
fn image_settings_take_edge_impulse_names_and_defaults() {
    let defaults: ImageSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(defaults, settings("RGB", 96, 96, "squash"));
    let gray = set_param(image::BLOCK, &defaults, "channels", "Grayscale").unwrap();
    assert_eq!(gray.channels, "Grayscale");
    assert!(set_param(image::BLOCK, &defaults, "colour", "RGB").is_err());
    assert!(serde_json::from_str::<ImageSettings>(r#"{"scale": 2}"#).is_err());
}

#[test]
fn bad_images_and_settings_are_errors_not_panics() {
    let rgb = vec![0u8; 4 * 4 * 3];
    let good = ImageInput {
        width: 4,
        height: 4,
        rgb: &rgb,
    };
    let empty = ImageInput {
        width: 0,
        height: 0,
        rgb: &[],
    };
    let short = ImageInput {
        width: 4,
        height: 4,
        rgb: &rgb[..10],
    };
    let ok = ImageSettings::default();
    assert!(matches!(
        image::features(&ok, &empty),
        Err(DspError::WrongInput { .. })
    ));
    assert!(matches!(
        image::features(&ok, &short),
        Err(DspError::WrongInput { .. })
    ));
    for (bad, name) in [
        (settings("RGB", 0, 96, "squash"), "width"),
        (settings("RGB", 96, 0, "squash"), "height"),
        (settings("RGBA", 96, 96, "squash"), "channels"),
        (settings("RGB", 96, 96, "stretch"), "resize_mode"),
    ] {
        match image::features(&bad, &good) {
            Err(DspError::BadSetting { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let message = image::features(&settings("RGB", 96, 96, "stretch"), &good)
        .unwrap_err()
        .to_string();
    assert!(message.contains("fit-short"), "{message}");
}

#[test]
fn load_rgb_reads_png_and_names_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("frame.png");
    let rgb = paint(5, 3, |x, y| [x as u8 * 40, y as u8 * 80, 7]);
    ::image::RgbImage::from_raw(5, 3, rgb.clone())
        .unwrap()
        .save(&good)
        .unwrap();
    assert_eq!(
        tinylab::project::formats::image::load_rgb(&good).unwrap(),
        (5, 3, rgb)
    );

    let corrupt = dir.path().join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nthis is not an image at all").unwrap();
    let error = tinylab::project::formats::image::load_rgb(&corrupt).unwrap_err();
    assert!(error.to_string().contains("corrupt.png"), "{error}");
    let missing =
        tinylab::project::formats::image::load_rgb(&dir.path().join("missing.jpg")).unwrap_err();
    assert!(missing.to_string().contains("missing.jpg"), "{missing}");
}

// ---------------------------------------------------------------- raw block

#[test]
fn raw_block_scales_and_names_every_value() {
    let values = [0.5f32, -9.81, 1.0, 0.25, -9.5, 2.0];
    let signal = Signal {
        axes: 3,
        rate_hz: 50.0,
        values: &values,
    };
    let axes = ["accX", "accY", "accZ"];
    let same = raw::features(&RawSettings::default(), &signal, &axes).unwrap();
    assert_eq!(same.values, values);
    assert_eq!(same.shape, [6]);
    assert_eq!(
        same.names,
        ["accX 0", "accY 0", "accZ 0", "accX 1", "accY 1", "accZ 1"]
    );

    let tenth = RawSettings {
        scale_axes: 0.1,
        ..RawSettings::default()
    };
    let scaled = raw::features(&tenth, &signal, &axes).unwrap();
    let want: Vec<f64> = values.iter().map(|&v| f64::from(v) * 0.1).collect();
    let got: Vec<f64> = scaled.values.iter().map(|&v| f64::from(v)).collect();
    check_close("scaled", &got, &want, 1e-7);

    let v2 = RawSettings {
        implementation_version: 2,
        ..RawSettings::default()
    };
    assert!(matches!(
        raw::features(&v2, &signal, &axes),
        Err(DspError::UnsupportedVersion { version: 2, .. })
    ));
    let nan = RawSettings {
        scale_axes: f64::NAN,
        ..RawSettings::default()
    };
    assert!(matches!(
        raw::features(&nan, &signal, &axes),
        Err(DspError::BadSetting { .. })
    ));
    let settings = set_param(raw::BLOCK, &RawSettings::default(), "scale_axes", "0.5").unwrap();
    assert_eq!(settings.scale_axes, 0.5);
}

// ---------------------------------------------------------------- windowing

#[test]
fn motion_lab_windows_give_41_per_sample_and_300_raw_features() {
    let motion = WindowSettings {
        window_ms: 2000,
        window_increase_ms: 200,
        zero_pad: true,
    };
    let readings = 500; // 10 s at 50 Hz
    let cut = windows(readings, 50.0, &motion);
    assert_eq!(cut.len(), 41); // (500 − 100) / 10 + 1
    assert!(cut.iter().all(|r| r.len() == 100));
    assert_eq!(cut[1], 10..110);
    // 40 training samples → the 1,640 windows of the lab's anomaly explorer.
    assert_eq!(cut.len() * 40, 1_640);

    let sample: Vec<f32> = (0..readings * 3).map(|i| i as f32).collect();
    let window = window_values(&sample, 3, cut[40].clone(), readings_in(2000, 50.0));
    let signal = Signal {
        axes: 3,
        rate_hz: 50.0,
        values: &window,
    };
    let features =
        raw::features(&RawSettings::default(), &signal, &["accX", "accY", "accZ"]).unwrap();
    assert_eq!(features.values.len(), 300);
    assert_eq!(features.values[0], 1200.0);
}

#[test]
fn kws_lab_windows_give_one_per_second_and_pad_short_clips() {
    let kws = WindowSettings::default();
    assert_eq!(
        kws,
        WindowSettings {
            window_ms: 1000,
            window_increase_ms: 500,
            zero_pad: true
        }
    );
    assert_eq!(windows(16_000, 16_000.0, &kws), vec![0..16_000]);
    assert_eq!(
        windows(25_600, 16_000.0, &kws),
        vec![0..16_000, 8_000..24_000]
    );

    // A 0.8 s clip: one window, padded with 3,200 zeros; none without zero-pad.
    let clip = vec![0.5f32; 12_800];
    let cut = windows(clip.len(), 16_000.0, &kws);
    assert_eq!(cut, vec![0..12_800]);
    let padded = window_values(&clip, 1, cut[0].clone(), readings_in(1000, 16_000.0));
    assert_eq!(padded.len(), 16_000);
    assert!(padded[..12_800].iter().all(|&v| v == 0.5));
    assert!(padded[12_800..].iter().all(|&v| v == 0.0));
    let strict = WindowSettings {
        zero_pad: false,
        ..kws
    };
    assert!(windows(clip.len(), 16_000.0, &strict).is_empty());
}

#[test]
fn window_settings_read_from_json_with_defaults() {
    let settings: WindowSettings = serde_json::from_str(r#"{"window_ms": 2000}"#).unwrap();
    assert_eq!(settings.window_increase_ms, 500);
    assert!(settings.zero_pad);
    assert!(serde_json::from_str::<WindowSettings>(r#"{"stride_ms": 10}"#).is_err());
}

// ---------------------------------------------------------------- PCA

/// The `big` data set's exact integer formula, as in the fixture script.
fn big_rows(n: usize, d: usize) -> Vec<Vec<f32>> {
    (0..n as i64)
        .map(|i| {
            let s1 = (i % 17) - 8;
            let s2 = ((i * i) % 13) - 6;
            (0..d as i64)
                .map(|j| {
                    let l1 = (j % 5) - 2;
                    let l2 = ((j * 3) % 7) - 3;
                    let h = (i * 7919 + j * 104_729 + i * j * 31) % 1009;
                    ((s1 * l1) as f64 + 0.5 * (s2 * l2) as f64 + (h - 504) as f64 / 256.0) as f32
                })
                .collect()
        })
        .collect()
}

#[test]
fn pca_matches_numpy_svd() {
    let fx = fixture("pca/pca_2d.json");
    for set in fx["sets"].as_array().unwrap() {
        let name = set["name"].as_str().unwrap();
        let rows: Vec<Vec<f32>> = match set.get("rows") {
            Some(rows) => rows
                .as_array()
                .unwrap()
                .iter()
                .map(|row| numbers(row).iter().map(|&v| v as f32).collect())
                .collect(),
            None => big_rows(
                set["n"].as_u64().unwrap() as usize,
                set["d"].as_u64().unwrap() as usize,
            ),
        };
        let projection = pca_2d(&rows).unwrap();
        let want_ratio = numbers(&set["explained_variance_ratio"]);
        check_close(
            name,
            &projection.explained_variance_ratio,
            &want_ratio,
            1e-9,
        );
        let ratio_sum: f64 = projection.explained_variance_ratio.iter().sum();
        assert!(ratio_sum <= 1.0 + 1e-12, "{name}: {ratio_sum}");
        let want: Vec<Vec<f64>> = set["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(numbers)
            .collect();
        assert_eq!(projection.points.len(), want.len());
        for component in 0..2 {
            let got: Vec<f64> = projection
                .points
                .iter()
                .map(|p| f64::from(p[component]))
                .collect();
            let expected: Vec<f64> = want.iter().map(|p| p[component]).collect();
            // Up to sign, as eigenvectors are; the fixture also applies our sign rule, so the
            // plain comparison is expected to be the one that holds.
            let flipped: Vec<f64> = expected.iter().map(|v| -v).collect();
            let same = got
                .iter()
                .zip(&expected)
                .all(|(g, w)| (g - w).abs() <= 1e-6 * w.abs().max(1.0));
            let what = format!("{name} pc{}", component + 1);
            if same {
                check_close(&what, &got, &expected, 1e-6);
            } else {
                check_close(&format!("{what} (sign rule broken?)"), &got, &flipped, 1e-6);
                panic!("{what}: matches numpy only with the sign flipped");
            }
        }
    }
}

#[test]
fn pca_is_deterministic_and_leaves_constant_features_at_zero() {
    let rows = big_rows(60, 12);
    assert_eq!(pca_2d(&rows).unwrap(), pca_2d(&rows).unwrap());
    // Adding a constant feature changes nothing.
    let with_constant: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| r.iter().copied().chain([42.0]).collect())
        .collect();
    let a = pca_2d(&rows).unwrap();
    let b = pca_2d(&with_constant).unwrap();
    for (p, q) in a.points.iter().zip(&b.points) {
        assert!((p[0] - q[0]).abs() < 1e-5 && (p[1] - q[1]).abs() < 1e-5);
    }
    // All features constant: every point at the origin, nothing explained.
    let flat = vec![vec![1.0f32, 2.0]; 5];
    let projection = pca_2d(&flat).unwrap();
    assert!(projection.points.iter().all(|p| *p == [0.0, 0.0]));
    assert_eq!(projection.explained_variance_ratio, [0.0, 0.0]);
    // Two rows span one direction: the second axis is all zeros.
    let two = pca_2d(&[vec![1.0, 2.0, 3.0], vec![2.0, 0.0, 3.5]]).unwrap();
    assert!((two.explained_variance_ratio[0] - 1.0).abs() < 1e-12);
    assert!(two.points.iter().all(|p| p[1] == 0.0));
}

#[test]
fn pca_refuses_what_it_cannot_project() {
    let wrong = |rows: &[Vec<f32>]| matches!(pca_2d(rows), Err(DspError::WrongInput { .. }));
    assert!(wrong(&[]));
    assert!(wrong(&[vec![1.0, 2.0]]));
    assert!(wrong(&[vec![], vec![]]));
    assert!(wrong(&[vec![1.0, 2.0], vec![1.0]]));
    assert!(wrong(&[vec![1.0, 2.0], vec![1.0, f32::NAN]]));
}
