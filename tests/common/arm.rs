//! The exported C library on a real Cortex-M instruction set: cross-compiled with Debian's
//! `arm-none-eabi-gcc` (newlib) for the Cortex-M4F and the Cortex-M7, run on QEMU's mps2-an386
//! and mps2-an500 machines with semihosting output, next to a host `gcc` build of the same
//! harness (`tests/support/arm/harness.c`), and measured with `arm-none-eabi-size -A`.
//!
//! Both builds use `-ffp-contract=off`: GCC fuses `a * b + c` into one rounding by default in
//! GNU C mode, and the Cortex-M FPUs have `vfma`, so without it the two builds would round
//! differently (the library's own numbers would not be the host's). A missing tool fails the test
//! with what to install; it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One emulated target: the compiler's CPU and FPU, and the QEMU machine that has that core.
#[derive(Debug, Clone, Copy)]
pub struct CortexM {
    /// Short name for files and messages (`m4f`, `m7`).
    pub name: &'static str,
    /// `-mcpu=`.
    pub cpu: &'static str,
    /// `-mfpu=` (hard float ABI).
    pub fpu: &'static str,
    /// `qemu-system-arm -M`.
    pub machine: &'static str,
}

/// Cortex-M4 with the single-precision FPU (Nano 33 BLE Sense's nRF52840, Nicla's second core).
pub const M4F: CortexM = CortexM {
    name: "m4f",
    cpu: "cortex-m4",
    fpu: "fpv4-sp-d16",
    machine: "mps2-an386",
};

/// Cortex-M7 with the double-precision FPU (Nicla Vision's STM32H747 main core).
pub const M7: CortexM = CortexM {
    name: "m7",
    cpu: "cortex-m7",
    fpu: "fpv5-d16",
    machine: "mps2-an500",
};

/// Where the harness, startup code and linker script live.
pub fn support_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/arm")
}

/// Fails the test, naming the package, when a tool is missing.
pub fn require_tools() {
    for (tool, package) in [
        (
            "arm-none-eabi-gcc",
            "gcc-arm-none-eabi libnewlib-arm-none-eabi",
        ),
        ("arm-none-eabi-size", "binutils-arm-none-eabi"),
        ("qemu-system-arm", "qemu-system-arm"),
        ("gcc", "build-essential"),
        ("timeout", "coreutils"),
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "{tool} is missing: run scripts/install-deps.sh (Debian packages: {package})"
        );
    }
}

/// Writes `harness_data.h`: the raw windows as the bits of their floats (exact, no decimal
/// round trip), `HARNESS_WINDOWS` of them, each `raw_len` long.
pub fn write_harness_data(dir: &Path, windows: &[Vec<f32>], raw_len: usize) {
    let mut text = format!(
        "/* Raw test windows for harness.c, written by the test. */\n\
         #include <stdint.h>\n#define HARNESS_WINDOWS {}u\n\
         static const uint32_t harness_raw_bits[] = {{\n",
        windows.len()
    );
    for window in windows {
        assert_eq!(window.len(), raw_len, "a test window has the wrong length");
        for chunk in window.chunks(8) {
            let words: Vec<String> = chunk
                .iter()
                .map(|v| format!("0x{:08x}u", v.to_bits()))
                .collect();
            text.push_str("    ");
            text.push_str(&words.join(", "));
            text.push_str(",\n");
        }
    }
    text.push_str("};\n");
    std::fs::write(dir.join("harness_data.h"), text).unwrap();
}

/// The `.c` files of the library folder `lib`, sorted.
pub fn library_sources(lib: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(lib)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .c file in {}", lib.display());
    files
}

fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Builds the harness with the host's `gcc` (data header in `build`) and returns what it prints.
pub fn run_host(lib: &Path, build: &Path) -> String {
    let exe = build.join("harness-host");
    let mut gcc = Command::new("gcc");
    gcc.args([
        "-std=c99",
        "-O2",
        "-ffp-contract=off",
        "-Wall",
        "-Wextra",
        "-Werror",
    ])
    .arg("-I")
    .arg(lib)
    .arg("-I")
    .arg(build)
    .arg(support_dir().join("harness.c"))
    .args(library_sources(lib))
    .args(["-lm", "-o"])
    .arg(&exe);
    run(&mut gcc, "host gcc");
    run(&mut Command::new(&exe), "the host harness")
}

fn arm_flags(target: CortexM) -> Vec<String> {
    vec![
        format!("-mcpu={}", target.cpu),
        "-mthumb".into(),
        "-mfloat-abi=hard".into(),
        format!("-mfpu={}", target.fpu),
        "-Os".into(),
        "-std=c99".into(),
        "-ffp-contract=off".into(),
        "-ffunction-sections".into(),
        "-fdata-sections".into(),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
    ]
}

/// Cross-compiles the harness for `target` and runs it under QEMU with `-icount shift=0`;
/// returns what it printed through semihosting.
pub fn run_qemu(lib: &Path, build: &Path, target: CortexM) -> String {
    let support = support_dir();
    let elf = build.join(format!("harness-{}.elf", target.name));
    let mut gcc = Command::new("arm-none-eabi-gcc");
    gcc.args(arm_flags(target))
        .args([
            "-DTINYLAB_ARM",
            "--specs=rdimon.specs",
            "-Wl,--gc-sections",
            "-T",
        ])
        .arg(support.join("mps2.ld"))
        .arg("-I")
        .arg(lib)
        .arg("-I")
        .arg(build)
        .arg(support.join("startup.c"))
        .arg(support.join("harness.c"))
        .args(library_sources(lib))
        .args(["-lm", "-o"])
        .arg(&elf);
    run(&mut gcc, &format!("arm-none-eabi-gcc for {}", target.cpu));
    let mut qemu = Command::new("timeout");
    qemu.args(["600", "qemu-system-arm", "-M", target.machine])
        .args(["-nographic", "-monitor", "none", "-serial", "none"])
        .args(["-semihosting", "-icount", "shift=0", "-kernel"])
        .arg(&elf);
    let out = run(&mut qemu, &format!("qemu-system-arm -M {}", target.machine));
    assert!(
        out.lines().any(|l| l == "done"),
        "the harness on {} stopped early:\n{out}",
        target.machine
    );
    out
}

/// Builds one self-contained C program (`tests/support/arm/<file>`) for the host and for
/// `target`, runs both, and returns (host output, QEMU output).
pub fn run_program_both(file: &str, build: &Path, target: CortexM) -> (String, String) {
    let support = support_dir();
    let host_exe = build.join(format!("{file}-host"));
    let mut gcc = Command::new("gcc");
    gcc.args(["-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Werror"])
        .arg(support.join(file))
        .args(["-lm", "-o"])
        .arg(&host_exe);
    run(&mut gcc, "host gcc");
    let host = run(&mut Command::new(&host_exe), file);
    let elf = build.join(format!("{file}-{}.elf", target.name));
    let mut gcc = Command::new("arm-none-eabi-gcc");
    gcc.args(arm_flags(target))
        .args(["--specs=rdimon.specs", "-Wl,--gc-sections", "-T"])
        .arg(support.join("mps2.ld"))
        .arg(support.join("startup.c"))
        .arg(support.join(file))
        .args(["-lm", "-o"])
        .arg(&elf);
    run(&mut gcc, &format!("arm-none-eabi-gcc for {}", target.cpu));
    let mut qemu = Command::new("timeout");
    qemu.args(["600", "qemu-system-arm", "-M", target.machine])
        .args([
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-semihosting",
            "-kernel",
        ])
        .arg(&elf);
    let out = run(&mut qemu, &format!("qemu-system-arm -M {}", target.machine));
    (host, out)
}

/// Flash and static RAM of a firmware image, from its ELF sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// `.text` + `.rodata` (+ the ARM unwind index and init arrays, also in flash), bytes.
    pub flash_bytes: u64,
    /// `.data` + `.bss`, bytes.
    pub ram_bytes: u64,
}

/// Links `tests/support/arm/footprint.c` with the library for `target` (no C runtime,
/// `--gc-sections`) and reads its sections with `arm-none-eabi-size -A`.
pub fn footprint(lib: &Path, build: &Path, target: CortexM) -> Footprint {
    let support = support_dir();
    let elf = build.join(format!("footprint-{}.elf", target.name));
    let mut gcc = Command::new("arm-none-eabi-gcc");
    gcc.args(arm_flags(target))
        .args(["-DTINYLAB_NO_NEWLIB", "-nostartfiles", "--specs=nano.specs"])
        .args(["--specs=nosys.specs", "-Wl,--gc-sections", "-T"])
        .arg(support.join("mps2.ld"))
        .arg("-I")
        .arg(lib)
        .arg(support.join("startup.c"))
        .arg(support.join("footprint.c"))
        .args(library_sources(lib))
        .args(["-lm", "-o"])
        .arg(&elf);
    run(
        &mut gcc,
        &format!("arm-none-eabi-gcc (footprint) for {}", target.cpu),
    );
    let sizes = run(
        Command::new("arm-none-eabi-size").arg("-A").arg(&elf),
        "arm-none-eabi-size",
    );
    footprint_from_size_a(&sizes)
}

/// Sums `arm-none-eabi-size -A` sections into flash and RAM.
pub fn footprint_from_size_a(text: &str) -> Footprint {
    let mut footprint = Footprint {
        flash_bytes: 0,
        ram_bytes: 0,
    };
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(size)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(size) = size.parse::<u64>() else {
            continue;
        };
        match name {
            ".text" | ".rodata" | ".ARM.exidx" | ".ARM.extab" | ".init_array" => {
                footprint.flash_bytes += size;
            }
            ".data" | ".bss" => footprint.ram_bytes += size,
            _ => {}
        }
    }
    assert!(footprint.flash_bytes > 0, "no .text in:\n{text}");
    footprint
}

/// The lines two builds must agree on bit for bit (features, scores, anomaly, `done`).
pub fn comparable_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| !l.starts_with("ticks ") && !l.starts_with("calibration "))
        .collect()
}

/// Instructions per inference measured by the harness on QEMU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstructionCount {
    /// QEMU instructions per SysTick tick, from the calibration loop.
    pub instructions_per_tick: f64,
    /// Mean instructions of one `tinylab_dsp` call.
    pub dsp: f64,
    /// Mean instructions of one `tinylab_infer` call.
    pub infer: f64,
}

/// Reads the calibration and the per-window ticks and converts them to instructions.
pub fn instruction_count(output: &str) -> InstructionCount {
    let mut per_tick = None;
    let (mut dsp, mut infer, mut windows) = (0.0, 0.0, 0.0);
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["calibration", insns, ticks] => {
                let (insns, ticks): (f64, f64) = (insns.parse().unwrap(), ticks.parse().unwrap());
                assert!(ticks > 0.0, "SysTick did not move: was -icount given?");
                per_tick = Some(insns / ticks);
            }
            ["ticks", _, d, i] => {
                dsp += d.parse::<f64>().unwrap();
                infer += i.parse::<f64>().unwrap();
                windows += 1.0;
            }
            _ => {}
        }
    }
    let per_tick = per_tick.expect("no calibration line");
    assert!(windows > 0.0, "no ticks lines");
    InstructionCount {
        instructions_per_tick: per_tick,
        dsp: dsp / windows * per_tick,
        infer: infer / windows * per_tick,
    }
}
