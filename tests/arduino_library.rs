//! The Arduino library export: the zip opens with `unzip -t` and Python's `zipfile` and holds
//! exactly the library's files, `library.properties` has the specification's required fields,
//! the folder writer refuses to overwrite, and every example sketch of every modality is valid
//! C++ for its board: `g++ -std=gnu++17 -fsyntax-only -Wall -Werror` against the Arduino API
//! stubs of `tests/support/arduino-stubs/` (the real libraries' signatures), with a deliberate
//! typo shown to fail.
//!
//! The C library inside is `tests/support/arm/contract_fixture` (the contract's interface) with
//! each modality's header constants, until the `c-library` export is on this branch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use tinylab::engine::arduino_export::{WriteError, write_library_folder, write_library_zip};
use tinylab::export::arduino::{ArduinoLibrary, ArduinoProject, arduino_library};
use tinylab::export::arduino_sketches::Kit;
use tinylab::labs::SensorPreset;

fn support() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support")
}

/// The fixture library with `dsp_header` (a modality's constants) in place of its own.
fn c_library(dsp_header: Option<&str>) -> Vec<(String, String)> {
    let dir = support().join("arm/contract_fixture");
    [
        "tinylab_dsp.h",
        "tinylab_dsp.c",
        "tinylab_model.h",
        "tinylab_model.c",
    ]
    .iter()
    .map(|name| {
        let text = match (*name, dsp_header) {
            ("tinylab_dsp.h", Some(header)) => header.to_owned(),
            _ => std::fs::read_to_string(dir.join(name)).unwrap(),
        };
        ((*name).to_owned(), text)
    })
    .collect()
}

const KWS_DSP_H: &str = "#ifndef TINYLAB_DSP_H\n#define TINYLAB_DSP_H\n#include <stddef.h>\n\
#include <stdint.h>\n#define TINYLAB_RAW_LEN 16000\n#define TINYLAB_FEATURES_LEN 637\n\
#define TINYLAB_DSP_IMAGE 0\n#define TINYLAB_ERR_LEN (-1)\n\
int tinylab_dsp(const float *raw, size_t len, float *features);\n#endif\n";

const IMAGE_DSP_H: &str = "#ifndef TINYLAB_DSP_H\n#define TINYLAB_DSP_H\n#include <stddef.h>\n\
#include <stdint.h>\n#define TINYLAB_RAW_LEN 9216\n#define TINYLAB_FEATURES_LEN 27648\n\
#define TINYLAB_DSP_IMAGE 1\n#define TINYLAB_ERR_LEN (-1)\n\
int tinylab_dsp(const float *raw, size_t len, float *features);\n\
int tinylab_dsp_image(const uint8_t *rgb888, size_t width, size_t height, float *features);\n\
#endif\n";

fn lab_sensor(lab: &str) -> SensorPreset {
    tinylab::labs::lab(lab).unwrap().sensor
}

fn library(
    name: &str,
    lab: &str,
    sensor: &SensorPreset,
    dsp_header: Option<&str>,
) -> ArduinoLibrary {
    let project = ArduinoProject {
        name,
        lab,
        run: "run-004",
        sensor,
    };
    arduino_library(&project, &c_library(dsp_header)).unwrap()
}

fn run(command: &mut Command) -> std::process::Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

#[test]
fn motion_library_zip_opens_and_holds_every_file() {
    let sensor = lab_sensor("motion");
    let lib = library("Motion demo", "motion", &sensor, None);
    assert_eq!(lib.name, "Motion_demo_tinylab");
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("out/motion.zip");
    let bytes = write_library_zip(&lib, &zip).unwrap();
    assert_eq!(bytes as u64, std::fs::metadata(&zip).unwrap().len());

    let unzip = run(Command::new("unzip").arg("-t").arg(&zip));
    let text = String::from_utf8_lossy(&unzip.stdout);
    assert!(unzip.status.success(), "unzip -t failed:\n{text}");
    assert!(text.contains("No errors detected"), "{text}");

    // Python's zipfile: CRCs checked, names and contents exactly the library's files.
    let script = "import sys, zipfile, json\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  assert z.testzip() is None\n\
                  print(json.dumps({i.filename: z.read(i).decode() for i in z.infolist()}))\n";
    let py = run(Command::new("python3").args(["-c", script]).arg(&zip));
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let unpacked: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&py.stdout).unwrap();
    let expected: std::collections::BTreeMap<String, String> = lib
        .files
        .iter()
        .map(|(n, t)| (format!("Motion_demo_tinylab/{n}"), t.clone()))
        .collect();
    assert_eq!(unpacked, expected);
    for example in [
        "nicla_vision_motion",
        "xiaoml_kit_motion",
        "nano33_ble_sense_motion",
    ] {
        let path = format!("Motion_demo_tinylab/examples/{example}/{example}.ino");
        assert!(unpacked.contains_key(&path), "no {path}");
    }
    // The same library zips to the same bytes (fixed timestamps).
    assert_eq!(
        std::fs::read(&zip).unwrap(),
        tinylab::engine::arduino_export::library_zip(&lib).unwrap()
    );

    // library.properties: every field the Arduino library specification requires.
    let properties = &lib.files[0].1;
    for field in [
        "name=Motion_demo_tinylab\n",
        "version=1.0.4\n",
        "author=",
        "maintainer=",
        "sentence=",
        "paragraph=",
        "category=Data Processing\n",
        "url=",
        "architectures=",
        "includes=Motion_demo_tinylab.h\n",
    ] {
        assert!(properties.contains(field), "no {field:?} in\n{properties}");
    }
    assert!(lib.files.iter().any(|(n, _)| n == "src/tinylab_model.c"));
}

#[test]
fn the_folder_writer_never_overwrites() {
    let sensor = lab_sensor("motion");
    let lib = library("m", "motion", &sensor, None);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("lib");
    assert_eq!(
        write_library_folder(&lib, &folder).unwrap(),
        lib.files.len()
    );
    for (name, text) in &lib.files {
        assert_eq!(&std::fs::read_to_string(folder.join(name)).unwrap(), text);
    }
    std::fs::write(folder.join("library.properties"), "mine").unwrap();
    let err = write_library_folder(&lib, &folder).unwrap_err();
    assert!(matches!(err, WriteError::NotEmpty { .. }), "{err}");
    assert!(err.to_string().contains("choose a new folder"), "{err}");
    assert_eq!(
        std::fs::read_to_string(folder.join("library.properties")).unwrap(),
        "mine"
    );
    // No staging folder is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1);
}

/// The `-D` a board's core defines (the sketches only test the Nano Rev2 switch, but each
/// sketch is compiled as its board would see it).
fn board_define(kit: Kit) -> &'static str {
    match kit {
        Kit::NiclaVision => "-DARDUINO_NICLA_VISION",
        Kit::XiaoEsp32s3 => "-DARDUINO_XIAO_ESP32S3",
        Kit::Nano33BleSense => "-DARDUINO_ARDUINO_NANO33BLE",
    }
}

/// `g++ -fsyntax-only` of `source` as a sketch of `kit` with the library in `lib_src`.
fn compile_sketch(source: &str, kit: Kit, lib_src: &Path, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sketch.cpp");
    std::fs::write(&file, source).unwrap();
    run(Command::new("g++")
        .args([
            "-std=gnu++17",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Werror",
        ])
        .arg(board_define(kit))
        .args(extra)
        .arg("-I")
        .arg(support().join("arduino-stubs"))
        .arg("-I")
        .arg(lib_src)
        .arg(&file))
}

fn check_sketches(lib: &ArduinoLibrary, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(&lib.name);
    write_library_folder(lib, &folder).unwrap();
    let folders: Vec<&str> = lib.examples.iter().map(|e| e.folder.as_str()).collect();
    assert_eq!(folders, expected);
    for example in &lib.examples {
        let mut variants = vec![vec![]];
        if example.kit == Kit::Nano33BleSense {
            variants.push(vec!["-DTINYLAB_NANO_REV2=1"]);
        }
        for extra in variants {
            let out = compile_sketch(&example.source, example.kit, &folder.join("src"), &extra);
            assert!(
                out.status.success(),
                "{} {extra:?} does not compile:\n{}",
                example.folder,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for line in [
            "\"Predictions (DSP: \"",
            "\" ms., Classification: \"",
            "\" ms., Anomaly: 0 ms.):\"",
            "Serial.print(\"    \");",
            "\"    anomaly score: \"",
            "Serial.begin(115200);",
        ] {
            assert!(
                example.source.contains(line),
                "{}: no {line}",
                example.folder
            );
        }
    }
}

#[test]
fn every_motion_sketch_compiles_against_the_arduino_api() {
    let sensor = lab_sensor("motion");
    let lib = library("motion", "motion", &sensor, None);
    check_sketches(
        &lib,
        &[
            "nicla_vision_motion",
            "xiaoml_kit_motion",
            "nano33_ble_sense_motion",
        ],
    );
    // The project's 50 Hz and m/s² reach the sketches (the Nicla's capture sketch's ×9.80665).
    let nicla = &lib.examples[0].source;
    assert!(nicla.contains("#define INTERVAL_US 20000UL"), "{nicla}");
    assert!(nicla.contains("#define ACCEL_SCALE 9.80665f"), "{nicla}");
    assert!(
        lib.examples[1]
            .source
            .contains("LSM6DS3 imu(I2C_MODE, 0x6A)")
    );

    // Six axes in g: gyroscope read, no m/s² scale.
    let six = SensorPreset {
        axes: ["accX", "accY", "accZ", "gyrX", "gyrY", "gyrZ"]
            .map(String::from)
            .to_vec(),
        units: "g".into(),
        ..sensor
    };
    let lib6 = library("imu6", "motion", &six, None);
    assert!(lib6.examples[0].source.contains("#define ACCEL_SCALE 1.0f"));
    check_sketches(
        &lib6,
        &[
            "nicla_vision_motion",
            "xiaoml_kit_motion",
            "nano33_ble_sense_motion",
        ],
    );
}

#[test]
fn every_kws_and_image_sketch_compiles_against_the_arduino_api() {
    let kws = library("kws", "kws", &lab_sensor("kws"), Some(KWS_DSP_H));
    check_sketches(
        &kws,
        &[
            "nicla_vision_kws",
            "xiao_esp32s3_kws",
            "nano33_ble_sense_kws",
        ],
    );
    assert!(
        kws.examples[1]
            .source
            .contains("I2S.setAllPins(-1, PDM_CLOCK_PIN, PDM_DATA_PIN, -1, -1)")
    );
    assert!(
        kws.examples[0]
            .source
            .contains("PDM.begin(1, SAMPLE_RATE_HZ)")
    );
    assert!(
        kws.examples[0]
            .source
            .contains("#define SAMPLE_RATE_HZ 16000")
    );

    let image = library("image", "image", &lab_sensor("image"), Some(IMAGE_DSP_H));
    check_sketches(&image, &["nicla_vision_image", "xiao_esp32s3_image"]);
    let xiao = &image.examples[1].source;
    for pin in [
        "XCLK_GPIO_NUM 10",
        "SIOD_GPIO_NUM 40",
        "SIOC_GPIO_NUM 39",
        "Y9_GPIO_NUM 48",
        "PCLK_GPIO_NUM 13",
    ] {
        assert!(xiao.contains(pin), "no {pin}");
    }
    // An image sketch on a library without the image entry point stops at compile time.
    let wrong = library("image", "image", &lab_sensor("image"), Some(KWS_DSP_H));
    let dir = tempfile::tempdir().unwrap();
    write_library_folder(&wrong, &dir.path().join("w")).unwrap();
    let out = compile_sketch(
        &wrong.examples[0].source,
        Kit::NiclaVision,
        &dir.path().join("w/src"),
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs the library of an image project"));
}

#[test]
fn the_stubs_catch_typos_and_wrong_arguments() {
    let sensor = lab_sensor("motion");
    let lib = library("motion", "motion", &sensor, None);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("lib");
    write_library_folder(&lib, &folder).unwrap();
    let src = folder.join("src");
    let nicla = &lib.examples[0].source;
    let xiao = &lib.examples[1].source;
    for (kit, broken) in [
        (
            Kit::NiclaVision,
            nicla.replace("IMU.readAcceleration(", "IMU.readAccelerations("),
        ),
        (
            Kit::NiclaVision,
            nicla.replace("accel_g[1], accel_g[2]", "accel_g[1]"),
        ),
        (
            Kit::XiaoEsp32s3,
            xiao.replace("readFloatAccelY", "readFloatAccelerationY"),
        ),
        (
            Kit::NiclaVision,
            nicla.replace("tinylab_labels[i]", "tinylab_label[i]"),
        ),
    ] {
        let out = compile_sketch(&broken, kit, &src, &[]);
        assert!(!out.status.success(), "a broken sketch compiled");
    }
}

/// Runs the Nicla Vision motion sketch itself on the host (`host_runtime.cpp`: Serial to stdout,
/// the IMU replaying readings) with the C library, and checks every line it prints against
/// Edge Impulse's format and its scores against the harness's host run of the same windows.
#[test]
fn the_nicla_motion_sketch_runs_and_prints_edge_impulse_lines() {
    use tinylab::sim::motion::{Motion, synthesize};
    let sensor = lab_sensor("motion");
    let lib = library("motion", "motion", &sensor, None);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("lib");
    write_library_folder(&lib, &folder).unwrap();
    let src = folder.join("src");

    // Two windows of 100 readings in g, as the LSM6DSOX reports them.
    let ms2 = synthesize(Motion::Lift, 50.0, 4.0, 5);
    let readings_g: Vec<f32> = ms2[..600].iter().map(|v| v / 9.80665).collect();
    let literals: Vec<String> = readings_g.iter().map(|v| format!("{v:e}f")).collect();
    std::fs::write(
        dir.path().join("host_readings.h"),
        format!(
            "#define HOST_READINGS {}\n#define HOST_LOOPS 2\nstatic const float host_readings_g[] = {{{}}};\n",
            readings_g.len() / 3,
            literals.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("sketch.cpp"), &lib.examples[0].source).unwrap();
    let mut objects = Vec::new();
    for c in ["tinylab_dsp.c", "tinylab_model.c"] {
        let object = dir.path().join(format!("{c}.o"));
        let out = run(Command::new("gcc")
            .args([
                "-std=c99",
                "-O2",
                "-ffp-contract=off",
                "-Wall",
                "-Werror",
                "-c",
            ])
            .arg(src.join(c))
            .arg("-o")
            .arg(&object));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        objects.push(object);
    }
    let exe = dir.path().join("sketch");
    let out = run(Command::new("g++")
        .args([
            "-std=gnu++17",
            "-O2",
            "-ffp-contract=off",
            "-Wall",
            "-Werror",
        ])
        .arg("-I")
        .arg(support().join("arduino-stubs"))
        .arg("-I")
        .arg(&src)
        .arg("-I")
        .arg(dir.path())
        .arg(dir.path().join("sketch.cpp"))
        .arg(support().join("arduino-stubs/host_runtime.cpp"))
        .args(&objects)
        .arg("-o")
        .arg(&exe));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&mut Command::new(&exe));
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();

    // The windows the sketch should have built: clipped to ±4 g, times 9.80665 in float.
    let windows: Vec<Vec<f32>> = readings_g
        .chunks(300)
        .map(|w| w.iter().map(|g| g.clamp(-4.0, 4.0) * 9.80665f32).collect())
        .collect();
    let build = tempfile::tempdir().unwrap();
    common::arm::write_harness_data(build.path(), &windows, 300);
    let harness = common::arm::run_host(&src, build.path());
    let bits = |prefix: &str| -> Vec<f32> {
        harness
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| {
                f32::from_bits(u32::from_str_radix(l.rsplit(' ').next().unwrap(), 16).unwrap())
            })
            .collect()
    };
    let (scores, anomalies) = (bits("score "), bits("anomaly "));
    let labels = ["idle", "lift", "maritime", "terrestrial"];
    let mut expected = vec!["Starting inferencing in 2 seconds...".to_owned()];
    for w in 0..2 {
        expected.push("Sampling...".into());
        expected.push("PREDICTIONS".into());
        for (i, label) in labels.iter().enumerate() {
            expected.push(format!("    {label}: {:.5}", scores[w * 4 + i]));
        }
        expected.push(format!("    anomaly score: {:.3}", anomalies[w]));
    }
    let lines: Vec<&str> = printed.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), expected.len(), "{printed}");
    for (line, want) in lines.iter().zip(&expected) {
        if want == "PREDICTIONS" {
            // `Predictions (DSP: <int> ms., Classification: <int> ms., Anomaly: 0 ms.):`
            let rest = line.strip_prefix("Predictions (DSP: ").expect(line);
            let (dsp, rest) = rest.split_once(" ms., Classification: ").expect(line);
            let (nn, rest) = rest.split_once(" ms., Anomaly: ").expect(line);
            assert_eq!(rest, "0 ms.):", "{line}");
            dsp.parse::<u64>().expect(line);
            nn.parse::<u64>().expect(line);
        } else {
            assert_eq!(line, want);
        }
    }
}
