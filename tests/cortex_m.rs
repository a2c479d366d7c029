//! The C library on a real Cortex-M instruction set: cross-compiled with `arm-none-eabi-gcc`
//! (`-mthumb -Os`, hard float) for the Cortex-M4F and the Cortex-M7, run on QEMU's mps2-an386 and
//! mps2-an500 with semihosting, and compared bit for bit with the host `gcc` build of the same
//! harness on simulated motion windows (m/s², 2 s at 50 Hz). It also measures the firmware's flash
//! and static RAM from the ELF and the instructions per `tinylab_dsp` and `tinylab_infer` call
//! (SysTick under `-icount shift=0`, calibrated against a loop of known length).
//!
//! The library here is `tests/support/arm/contract_fixture` (the contract's interface, small
//! real float and int8 maths) until the generated library (`c-library` export) is on this
//! branch; then `check` runs on the exported folder of a trained project as well.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::arm::{self, CortexM, M4F, M7};
use std::path::Path;
use tinylab::sim::motion::{Motion, synthesize};

/// Motion windows: `TINYLAB_RAW_LEN` = 100 readings × 3 axes, two of each class.
fn motion_windows(raw_len: usize) -> Vec<Vec<f32>> {
    let mut windows = Vec::new();
    for (i, motion) in Motion::ALL.iter().enumerate() {
        let recording = synthesize(*motion, 50.0, 4.0, 11 + i as u64);
        for start in [0, raw_len] {
            windows.push(recording[start..start + raw_len].to_vec());
        }
    }
    windows
}

/// Runs `lib` on the host and on both Cortex-M targets; asserts the outputs are bit-identical
/// and returns, per target, its footprint and instruction counts.
fn check(
    lib: &Path,
    windows: &[Vec<f32>],
    raw_len: usize,
) -> Vec<(CortexM, arm::Footprint, arm::InstructionCount)> {
    arm::require_tools();
    let build = tempfile::tempdir().unwrap();
    arm::write_harness_data(build.path(), windows, raw_len);
    let host = arm::run_host(lib, build.path());
    let host_lines = arm::comparable_lines(&host);
    assert_eq!(host_lines.last(), Some(&"done"), "{host}");
    let scores = host_lines
        .iter()
        .filter(|l| l.starts_with("score "))
        .count();
    assert!(
        scores >= windows.len(),
        "the host printed no scores:\n{host}"
    );
    let mut figures = Vec::new();
    for target in [M4F, M7] {
        let out = arm::run_qemu(lib, build.path(), target);
        let lines = arm::comparable_lines(&out);
        assert_eq!(
            lines.len(),
            host_lines.len(),
            "{}: line counts differ",
            target.name
        );
        for (n, (a, b)) in lines.iter().zip(&host_lines).enumerate() {
            assert_eq!(a, b, "{} differs from the host at line {n}", target.name);
        }
        let count = arm::instruction_count(&out);
        let footprint = arm::footprint(lib, build.path(), target);
        println!(
            "{}: flash {} B, RAM {} B; {:.0} instructions per tick; DSP {:.0} instructions, \
             infer {:.0} instructions",
            target.name,
            footprint.flash_bytes,
            footprint.ram_bytes,
            count.instructions_per_tick,
            count.dsp,
            count.infer
        );
        figures.push((target, footprint, count));
    }
    figures
}

/// The RAM and constants the export counts (what the Optimize panel shows) against the ELF: the
/// static RAM is the library's buffers, arena and raw window plus at most 512 bytes of the
/// footprint firmware's own (scores, startup); flash holds at least the counted constants.
fn assert_exact_figures_agree(
    exact: &tinylab::quant::report::CLibraryFigures,
    footprint: &arm::Footprint,
) {
    assert!(
        footprint.ram_bytes >= exact.ram_bytes() && footprint.ram_bytes <= exact.ram_bytes() + 512,
        "ELF RAM {footprint:?} against the export's {} bytes: {exact:?}",
        exact.ram_bytes()
    );
    assert!(
        footprint.flash_bytes > exact.constant_bytes(),
        "ELF flash {footprint:?} against {} bytes of constants",
        exact.constant_bytes()
    );
}

#[test]
fn contract_fixture_is_bit_identical_on_cortex_m4f_and_m7() {
    let lib = arm::support_dir().join("contract_fixture");
    let figures = check(&lib, &motion_windows(300), 300);
    for (target, footprint, count) in &figures {
        // QEMU's SysTick on the mps2 boards runs at 25 MHz against a 1 GHz virtual clock: one
        // tick is 40 instructions under -icount shift=0, whatever the work.
        assert_eq!(count.instructions_per_tick, 40.0, "{}", target.name);
        // The fixture's DSP is 3 passes of 100 readings (a load, two multiply-adds, a loop step
        // each): at least 5 instructions per value, far from a thousand.
        assert!(count.dsp > 1_500.0 && count.dsp < 30_000.0, "{count:?}");
        assert!(count.infer > 200.0 && count.infer < 30_000.0, "{count:?}");
        // Code and the expf/logf/sqrtf of newlib; a few hundred bytes of buffers.
        assert!(
            footprint.flash_bytes > 1_000 && footprint.flash_bytes < 64_000,
            "{footprint:?}"
        );
        assert!(
            footprint.ram_bytes >= 300 * 4,
            "the raw window alone is 1200 B: {footprint:?}"
        );
    }
}

#[test]
fn size_a_sections_are_summed_into_flash_and_ram() {
    let text = "fw.elf  :\nsection   size   addr\n.text  2388  0\n.rodata  80  2388\n\
                .ARM.exidx 8 2468\n.data  104  536870912\n.bss  1280  536871016\n\
                .comment  38  0\n.debug_info  8093  0\nTotal  26298\n";
    let footprint = arm::footprint_from_size_a(text);
    assert_eq!(footprint.flash_bytes, 2388 + 80 + 8);
    assert_eq!(footprint.ram_bytes, 104 + 1280);
}

/// newlib's float libm against glibc's, per function, on 20,000 inputs: on the Cortex-M7 (double
/// FPU) newlib uses the same correctly-rounded-in-practice routines as glibc for log, exp, sin,
/// cos, pow and log10; on the Cortex-M4F (single-precision FPU) it falls back to the old fdlibm
/// float routines, which differ in a few percent of inputs. sqrt is IEEE-exact everywhere. This
/// is why a bit-identical C library computes its transcendentals itself.
#[test]
fn newlib_float_libm_against_the_host() {
    arm::require_tools();
    let build = tempfile::tempdir().unwrap();
    for target in [M4F, M7] {
        let (host, arm_out) = arm::run_program_both("libm_compare.c", build.path(), target);
        let (host, arm_out): (Vec<&str>, Vec<&str>) =
            (host.lines().collect(), arm_out.lines().collect());
        assert_eq!(host.len(), arm_out.len(), "{}", target.name);
        assert_eq!(arm_out.last(), Some(&"done"));
        let mut differing = std::collections::BTreeMap::<&str, usize>::new();
        for (a, b) in host.iter().zip(&arm_out) {
            let name = a.split(' ').next().unwrap();
            *differing.entry(name).or_default() += usize::from(a != b);
        }
        println!(
            "{}: results differing from glibc's in 20000 inputs: {differing:?}",
            target.name
        );
        assert_eq!(differing["sqrtf"], 0, "{}: sqrt is IEEE-exact", target.name);
        if target.name == "m7" {
            for name in ["logf", "expf", "sinf", "cosf", "powf", "log10f"] {
                assert_eq!(differing[name], 0, "m7 {name}");
            }
        } else {
            // If Debian's newlib changes this, README's figures must change with it.
            assert!(
                differing["logf"] > 0 && differing["expf"] > 0,
                "m4f: {differing:?}"
            );
        }
    }
}

/// The library TinyLab generates (`export::c_library`: the cdsp and cmodel halves) for the motion
/// demo project, trained and quantized through the CLI, on simulated windows: bit-identical on
/// the host, the Cortex-M4F and the Cortex-M7, with the figures README reports. Its Arduino
/// library's sketches compile against it too (the same check as `tests/arduino_library.rs`).
#[test]
fn trained_motion_library_is_bit_identical_on_cortex_m4f_and_m7() {
    let dir = tempfile::tempdir().unwrap();
    tinylab::engine::create_demo_project(dir.path()).unwrap();
    let p = dir.path().to_str().unwrap();
    common::ok(&["train", p, "--epochs", "10", "--seed", "3"]);
    common::ok(&["quantize", p]);
    let project = tinylab::project::Project::open(dir.path()).unwrap();
    let settings = project.settings();
    let stored = tinylab::project::runs::load(dir.path(), None).unwrap();
    let run_dir = tinylab::project::runs::run_dir(dir.path(), &stored.record.id);
    let int8 = tinylab::export::tflite::read(
        &std::fs::read(run_dir.join(tinylab::project::runs::INT8_TFLITE)).unwrap(),
    )
    .unwrap();
    let library = tinylab::export::c_library::library_files(
        &stored,
        &int8,
        &settings.name,
        &settings.sensor,
        "2026-01-01",
    )
    .unwrap();
    assert_eq!(library.raw_len, 300);
    let lib = dir.path().join("c-library");
    std::fs::create_dir_all(&lib).unwrap();
    for (name, text) in &library.files {
        std::fs::write(lib.join(name), text).unwrap();
    }
    let figures = check(&lib, &motion_windows(300), 300);
    for (target, footprint, count) in &figures {
        assert_eq!(count.instructions_per_tick, 40.0, "{}", target.name);
        assert_exact_figures_agree(&library.figures(), footprint);
        assert!(
            footprint.flash_bytes > library.constant_bytes as u64,
            "{footprint:?}"
        );
        assert!(
            footprint.ram_bytes > library.arena_bytes as u64,
            "{footprint:?}"
        );
        // A 63-20-10-4 dense model is ~1,500 MACs: more than one instruction each.
        assert!(count.infer > 1_500.0, "{count:?}");
        assert!(count.dsp > 1_000.0, "{count:?}");
    }
    println!("{}", library.summary());

    // `tinylab export --format arduino`: the zip of the same library; every sketch in it is
    // valid C++ for its board against the real generated headers.
    let zip = dir.path().join("out/motion-arduino.zip");
    let said = common::ok(&[
        "export",
        p,
        "--format",
        "arduino",
        "--out",
        zip.to_str().unwrap(),
    ]);
    assert!(said.contains("nicla_vision_motion"), "{said}");
    let unpacked = dir.path().join("unpacked");
    let out = std::process::Command::new("unzip")
        .args(["-q"])
        .arg(&zip)
        .arg("-d")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = std::fs::read_dir(&unpacked)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::read_to_string(root.join("src/tinylab_model.h"))
            .unwrap()
            .lines()
            .count(),
        library
            .files
            .iter()
            .find(|(n, _)| n == "tinylab_model.h")
            .unwrap()
            .1
            .lines()
            .count(),
        "the zip's model header is not the generated one (its date line aside)"
    );
    let stubs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/arduino-stubs");
    let mut sketches = 0;
    for example in std::fs::read_dir(root.join("examples")).unwrap() {
        let example = example.unwrap().path();
        let name = example.file_name().unwrap().to_str().unwrap().to_owned();
        let sketch = dir.path().join(format!("{name}.cpp"));
        std::fs::copy(example.join(format!("{name}.ino")), &sketch).unwrap();
        let out = std::process::Command::new("g++")
            .args([
                "-std=gnu++17",
                "-fsyntax-only",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-I",
            ])
            .arg(&stubs)
            .arg("-I")
            .arg(root.join("src"))
            .arg(&sketch)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        sketches += 1;
    }
    assert_eq!(sketches, 3);
}

/// The KWS demo (MFCC 13 × 49 of one-second clips at 16 kHz, `kws-conv1d`), trained and exported
/// by the CLI: the first test clips, raw int16 samples as floats, bit-identical on the host, the
/// Cortex-M4F and the Cortex-M7, with the figures README reports. Eight clips keep the emulated
/// M4F (whose double arithmetic is software) under a minute.
#[test]
fn trained_kws_library_is_bit_identical_on_cortex_m4f_and_m7() {
    let root = tempfile::tempdir().unwrap();
    let demo = common::demo_library::trained_demo_library(root.path(), "kws", "15");
    let windows = common::demo_library::series_test_windows(&demo);
    let clips: Vec<Vec<f32>> = windows.raw.into_iter().take(8).collect();
    assert_eq!(clips.len(), 8);
    println!("{}", demo.export_said.trim());
    let settings = tinylab::project::Project::open(&demo.project)
        .unwrap()
        .settings()
        .clone();
    let exact = tinylab::export::c_library::library_files(
        &demo.stored,
        &demo.int8,
        &settings.name,
        &settings.sensor,
        "",
    )
    .unwrap()
    .figures();
    let figures = check(&demo.lib, &clips, 16_000);
    for (target, footprint, count) in &figures {
        assert_eq!(count.instructions_per_tick, 40.0, "{}", target.name);
        assert_exact_figures_agree(&exact, footprint);
        // The raw clip alone is 64,000 bytes of RAM; the MFCC's tables are in flash.
        assert!(footprint.ram_bytes > 64_000, "{footprint:?}");
        assert!(footprint.flash_bytes > 12_000, "{footprint:?}");
        // 49 frames of a 512-point FFT: far more than a million instructions.
        assert!(count.dsp > 1_000_000.0, "{count:?}");
        assert!(count.infer > 10_000.0, "{count:?}");
    }
}
