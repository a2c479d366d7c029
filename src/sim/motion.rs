//! A pure generator of the four motion classes of the book's motion-classification lab, as a
//! 3-axis accelerometer reading in m/s² (specific force, so a board at rest reads +1 g on Z).
//!
//! The classes must be told apart by the lab's spectral features (RMS, skewness, kurtosis and the
//! power spectrum of each axis: FFT of 32 points at 50 Hz), so each has its own physics:
//!
//! * `idle`: the board still on a desk: gravity on Z, a tiny per-board bias, sensor noise;
//! * `lift`: a forklift lifting: up–pause–down–pause cycles of about 0.35 Hz on Z; each move
//!   accelerates then brakes (a full sine of ±2–3 m/s²), with a little hydraulic vibration;
//! * `maritime`: a boat on waves: slow (0.2–0.6 Hz) roll and pitch tilt the gravity vector, so X
//!   and Y gain components of g, while heave adds to Z;
//! * `terrestrial`: a vehicle on a road: horizontal shakes of 1.5–3 Hz mostly on Y (less on X),
//!   and road vibration of 5–15 Hz mostly on Z.
//!
//! Every oscillation draws a new amplitude and frequency each cycle and the sensor adds Gaussian
//! noise (σ = 0.03 m/s²), all from a seeded generator, so recordings differ but are reproducible.
//! All four motions run all the time; switching cross-fades over [`CROSSFADE_S`], so the signal
//! never jumps. Values are not rounded here; a board prints them with 2 decimals.

use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::TAU;
use std::fmt;
use std::str::FromStr;

/// Standard gravity, m/s².
pub const GRAVITY_MS2: f64 = 9.80665;

/// Standard deviation of the simulated sensor noise on each axis, m/s².
pub const NOISE_MS2: f64 = 0.03;

/// Largest per-board offset of each axis (uniform in ±this), m/s².
pub const MAX_BIAS_MS2: f64 = 0.04;

/// How long a switch from one motion to another takes, in seconds.
pub const CROSSFADE_S: f64 = 1.0;

/// The four motion classes of the book's lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Motion {
    /// Still on a desk.
    #[default]
    Idle,
    /// Vertical up–pause–down cycles, like a forklift.
    Lift,
    /// Rolling and pitching on waves, like a boat.
    Maritime,
    /// Horizontal shakes and road vibration, like a vehicle.
    Terrestrial,
}

impl Motion {
    /// All motions, in the book's order.
    pub const ALL: [Motion; 4] = [
        Motion::Idle,
        Motion::Lift,
        Motion::Maritime,
        Motion::Terrestrial,
    ];

    /// The lower-case label used by the book and by projects: `idle`, `lift`, ...
    pub fn label(self) -> &'static str {
        match self {
            Motion::Idle => "idle",
            Motion::Lift => "lift",
            Motion::Maritime => "maritime",
            Motion::Terrestrial => "terrestrial",
        }
    }

    /// Position in [`Motion::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Motion::Idle => 0,
            Motion::Lift => 1,
            Motion::Maritime => 2,
            Motion::Terrestrial => 3,
        }
    }
}

impl fmt::Display for Motion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A motion name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown motion {0:?}: use idle, lift, maritime or terrestrial")]
pub struct ParseMotionError(pub String);

impl FromStr for Motion {
    type Err = ParseMotionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Motion::ALL
            .into_iter()
            .find(|motion| motion.label().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ParseMotionError(s.to_owned()))
    }
}

/// Smooth 0→1 ramp with zero slope at both ends.
fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// A sine whose frequency and amplitude are redrawn every cycle; the amplitude glides from one
/// cycle's value to the next, so the waveform stays smooth.
#[derive(Clone, Debug)]
struct Oscillator {
    freq_range_hz: (f64, f64),
    amp_range: (f64, f64),
    /// Position in the current cycle, in cycles [0, 1).
    phase: f64,
    freq_hz: f64,
    amp_from: f64,
    amp_to: f64,
    rng: Rng,
}

impl Oscillator {
    fn new(rng: &mut Rng, freq_range_hz: (f64, f64), amp_range: (f64, f64)) -> Self {
        let mut own = Rng::new(rng.next_u64());
        let phase = own.next_f64();
        let freq_hz = own.range(freq_range_hz);
        let amp_from = own.range(amp_range);
        let amp_to = own.range(amp_range);
        Self {
            freq_range_hz,
            amp_range,
            phase,
            freq_hz,
            amp_from,
            amp_to,
            rng: own,
        }
    }

    fn step(&mut self, dt_s: f64) {
        self.phase += self.freq_hz * dt_s;
        if self.phase >= 1.0 {
            self.phase = self.phase.fract();
            self.freq_hz = self.rng.range(self.freq_range_hz);
            self.amp_from = self.amp_to;
            self.amp_to = self.rng.range(self.amp_range);
        }
    }

    fn value(&self) -> f64 {
        let amp = self.amp_from + (self.amp_to - self.amp_from) * smoothstep(self.phase);
        amp * (TAU * self.phase).sin()
    }

    /// The second harmonic, same amplitude envelope: makes a shake less sinusoidal.
    fn harmonic(&self) -> f64 {
        let amp = self.amp_from + (self.amp_to - self.amp_from) * smoothstep(self.phase);
        amp * (2.0 * TAU * self.phase).sin()
    }
}

/// Forklift cycle: up, pause at the top, down, pause at the bottom.
#[derive(Clone, Debug)]
struct Lift {
    /// Time into the current cycle.
    tau_s: f64,
    up_s: f64,
    top_s: f64,
    down_s: f64,
    bottom_s: f64,
    up_amp: f64,
    down_amp: f64,
    sway_x: Oscillator,
    sway_y: Oscillator,
    hydraulic: Oscillator,
    rng: Rng,
}

impl Lift {
    fn new(rng: &mut Rng) -> Self {
        let mut lift = Self {
            tau_s: 0.0,
            up_s: 0.0,
            top_s: 0.0,
            down_s: 0.0,
            bottom_s: 0.0,
            up_amp: 0.0,
            down_amp: 0.0,
            sway_x: Oscillator::new(rng, (0.8, 1.4), (0.05, 0.2)),
            sway_y: Oscillator::new(rng, (0.6, 1.2), (0.05, 0.15)),
            hydraulic: Oscillator::new(rng, (8.0, 12.0), (0.05, 0.12)),
            rng: Rng::new(rng.next_u64()),
        };
        lift.new_cycle();
        // Start in the bottom pause: standing still before the first lift.
        lift.tau_s = lift.up_s + lift.top_s + lift.down_s;
        lift
    }

    fn new_cycle(&mut self) {
        self.up_s = self.rng.range((0.7, 1.0));
        self.top_s = self.rng.range((0.3, 0.8));
        self.down_s = self.rng.range((0.7, 1.0));
        self.bottom_s = self.rng.range((0.4, 1.0));
        self.up_amp = self.rng.range((2.0, 3.0));
        self.down_amp = self.rng.range((2.0, 3.0));
    }

    fn cycle_s(&self) -> f64 {
        self.up_s + self.top_s + self.down_s + self.bottom_s
    }

    fn step(&mut self, dt_s: f64) {
        self.tau_s += dt_s;
        if self.tau_s >= self.cycle_s() {
            self.tau_s = (self.tau_s - self.cycle_s()) % self.cycle_s();
            self.new_cycle();
        }
        self.sway_x.step(dt_s);
        self.sway_y.step(dt_s);
        self.hydraulic.step(dt_s);
    }

    /// Vertical acceleration and how much the platform is moving (0..1), for the vibration.
    fn vertical(&self) -> (f64, f64) {
        let down_start_s = self.up_s + self.top_s;
        if self.tau_s < self.up_s {
            let x = self.tau_s / self.up_s;
            (
                self.up_amp * (TAU * x).sin(),
                (std::f64::consts::PI * x).sin(),
            )
        } else if (down_start_s..down_start_s + self.down_s).contains(&self.tau_s) {
            let x = (self.tau_s - down_start_s) / self.down_s;
            (
                -self.down_amp * (TAU * x).sin(),
                (std::f64::consts::PI * x).sin(),
            )
        } else {
            (0.0, 0.0)
        }
    }

    fn specific_force(&self) -> [f64; 3] {
        let (vertical, moving) = self.vertical();
        let vibration = moving * self.hydraulic.value();
        [
            moving * self.sway_x.value() + 0.5 * vibration,
            moving * self.sway_y.value() + 0.5 * vibration,
            GRAVITY_MS2 + vertical + vibration,
        ]
    }
}

/// Boat on waves: roll and pitch tilt gravity, heave adds vertical acceleration.
#[derive(Clone, Debug)]
struct Maritime {
    roll_rad: Oscillator,
    pitch_rad: Oscillator,
    heave: Oscillator,
}

impl Maritime {
    fn new(rng: &mut Rng) -> Self {
        Self {
            roll_rad: Oscillator::new(rng, (0.2, 0.35), (0.15, 0.30)),
            pitch_rad: Oscillator::new(rng, (0.3, 0.6), (0.08, 0.18)),
            heave: Oscillator::new(rng, (0.15, 0.3), (0.6, 1.5)),
        }
    }

    fn step(&mut self, dt_s: f64) {
        self.roll_rad.step(dt_s);
        self.pitch_rad.step(dt_s);
        self.heave.step(dt_s);
    }

    /// The world's vertical specific force `g + heave`, seen by a sensor rolled by φ and pitched
    /// by θ: `(g + a) · (−sin θ, sin φ cos θ, cos φ cos θ)`.
    fn specific_force(&self) -> [f64; 3] {
        let roll = self.roll_rad.value();
        let pitch = self.pitch_rad.value();
        let vertical = GRAVITY_MS2 + self.heave.value();
        [
            -vertical * pitch.sin(),
            vertical * roll.sin() * pitch.cos(),
            vertical * roll.cos() * pitch.cos(),
        ]
    }
}

/// Vehicle on a road: horizontal shakes, road vibration.
#[derive(Clone, Debug)]
struct Terrestrial {
    shake_y: Oscillator,
    shake_x: Oscillator,
    road_z: [Oscillator; 3],
    road_x: Oscillator,
    road_y: Oscillator,
}

impl Terrestrial {
    fn new(rng: &mut Rng) -> Self {
        Self {
            shake_y: Oscillator::new(rng, (1.5, 2.8), (2.5, 4.0)),
            shake_x: Oscillator::new(rng, (1.0, 2.2), (0.8, 1.5)),
            road_z: [
                Oscillator::new(rng, (5.0, 7.0), (0.15, 0.35)),
                Oscillator::new(rng, (8.0, 11.0), (0.10, 0.25)),
                Oscillator::new(rng, (12.0, 15.0), (0.08, 0.18)),
            ],
            road_x: Oscillator::new(rng, (6.0, 12.0), (0.05, 0.15)),
            road_y: Oscillator::new(rng, (6.0, 12.0), (0.05, 0.15)),
        }
    }

    fn step(&mut self, dt_s: f64) {
        self.shake_y.step(dt_s);
        self.shake_x.step(dt_s);
        self.road_z
            .iter_mut()
            .for_each(|oscillator| oscillator.step(dt_s));
        self.road_x.step(dt_s);
        self.road_y.step(dt_s);
    }

    fn specific_force(&self) -> [f64; 3] {
        let road: f64 = self.road_z.iter().map(Oscillator::value).sum();
        [
            self.shake_x.value() + self.road_x.value(),
            self.shake_y.value() + 0.25 * self.shake_y.harmonic() + self.road_y.value(),
            GRAVITY_MS2 + road,
        ]
    }
}

/// A simulated accelerometer carried through one of the four motions; deterministic given its
/// seed and the times it is read at.
#[derive(Clone, Debug)]
pub struct MotionSim {
    motion: Motion,
    /// Share of each motion in the output, indexed like [`Motion::ALL`]; moves towards the
    /// current motion at 1 / [`CROSSFADE_S`] per second.
    weights: [f64; 4],
    lift: Lift,
    maritime: Maritime,
    terrestrial: Terrestrial,
    bias_ms2: [f64; 3],
    noise: Rng,
    last_t_s: Option<f64>,
}

impl MotionSim {
    /// A board in `motion`, its randomness drawn from `seed`.
    pub fn new(motion: Motion, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let bias_ms2 = [(); 3].map(|()| rng.range((-MAX_BIAS_MS2, MAX_BIAS_MS2)));
        let mut weights = [0.0; 4];
        if let Some(weight) = weights.get_mut(motion.index()) {
            *weight = 1.0;
        }
        Self {
            motion,
            weights,
            lift: Lift::new(&mut rng),
            maritime: Maritime::new(&mut rng),
            terrestrial: Terrestrial::new(&mut rng),
            bias_ms2,
            noise: Rng::new(rng.next_u64()),
            last_t_s: None,
        }
    }

    /// Switches to another motion; the signal cross-fades over [`CROSSFADE_S`], without a jump.
    pub fn set_motion(&mut self, motion: Motion) {
        self.motion = motion;
    }

    /// The motion being simulated (the target of a cross-fade in progress).
    pub fn motion(&self) -> Motion {
        self.motion
    }

    /// The reading at `t_s` seconds since the start, in m/s² on X, Y, Z. Advances the simulation:
    /// call with increasing times (an earlier time is treated as no time passing).
    pub fn reading_ms2(&mut self, t_s: f64) -> [f32; 3] {
        let dt_s = match self.last_t_s {
            Some(last_s) if t_s > last_s => t_s - last_s,
            _ => 0.0,
        };
        if self.last_t_s.is_none_or(|last_s| t_s > last_s) {
            self.last_t_s = Some(t_s);
        }
        self.lift.step(dt_s);
        self.maritime.step(dt_s);
        self.terrestrial.step(dt_s);

        let target = self.motion.index();
        let fade = dt_s / CROSSFADE_S;
        for (index, weight) in self.weights.iter_mut().enumerate() {
            *weight = if index == target {
                (*weight + fade).min(1.0)
            } else {
                (*weight - fade).max(0.0)
            };
        }
        let signals = [
            [0.0, 0.0, GRAVITY_MS2],
            self.lift.specific_force(),
            self.maritime.specific_force(),
            self.terrestrial.specific_force(),
        ];
        let total: f64 = self.weights.iter().sum();
        let mut reading = [0.0_f32; 3];
        for (axis, value) in reading.iter_mut().enumerate() {
            let mixed = if total > 1e-9 {
                signals
                    .iter()
                    .zip(self.weights)
                    .map(|(signal, weight)| weight * signal.get(axis).copied().unwrap_or(0.0))
                    .sum::<f64>()
                    / total
            } else {
                signals
                    .get(target)
                    .and_then(|signal| signal.get(axis))
                    .copied()
                    .unwrap_or(0.0)
            };
            let bias = self.bias_ms2.get(axis).copied().unwrap_or(0.0);
            *value = (mixed + bias + NOISE_MS2 * self.noise.next_gaussian()) as f32;
        }
        reading
    }
}

/// A whole recording of `seconds` at `rate_hz`, row-major (x, y, z, x, y, z, ...), for demo
/// projects and tests. Empty if the rate or duration is not positive.
pub fn synthesize(motion: Motion, rate_hz: f64, seconds: f64, seed: u64) -> Vec<f32> {
    if !(rate_hz.is_finite() && seconds.is_finite() && rate_hz > 0.0 && seconds > 0.0) {
        return Vec::new();
    }
    let count = (seconds * rate_hz).round() as usize;
    let mut sim = MotionSim::new(motion, seed);
    (0..count)
        .flat_map(|n| sim.reading_ms2(n as f64 / rate_hz))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean and standard deviation of one axis of a row-major recording.
    fn stats(data: &[f32], axis: usize) -> (f64, f64) {
        let values: Vec<f64> = data
            .iter()
            .skip(axis)
            .step_by(3)
            .map(|&v| f64::from(v))
            .collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    /// Share of an axis's variance above `cutoff_hz` (plain DFT, fine for a few thousand points).
    fn high_share(data: &[f32], axis: usize, rate_hz: f64, cutoff_hz: f64) -> f64 {
        let values: Vec<f64> = data
            .iter()
            .skip(axis)
            .step_by(3)
            .map(|&v| f64::from(v))
            .collect();
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let (mut high, mut total) = (0.0, 0.0);
        for k in 1..n / 2 {
            let (mut re, mut im) = (0.0, 0.0);
            for (i, v) in values.iter().enumerate() {
                let angle = TAU * (k * i) as f64 / n as f64;
                re += (v - mean) * angle.cos();
                im -= (v - mean) * angle.sin();
            }
            let power = re * re + im * im;
            total += power;
            if k as f64 * rate_hz / n as f64 > cutoff_hz {
                high += power;
            }
        }
        high / total
    }

    /// Distinct seeds, so the signatures hold for any board, not one lucky draw.
    const SEEDS: [u64; 4] = [1, 2, 42, 0xDEAD_BEEF];

    #[test]
    fn labels_round_trip() {
        for motion in Motion::ALL {
            assert_eq!(motion.label().parse::<Motion>(), Ok(motion));
            assert_eq!(
                motion.to_string().to_uppercase().parse::<Motion>(),
                Ok(motion)
            );
        }
        let error = "boat".parse::<Motion>().unwrap_err().to_string();
        assert!(
            error.contains("idle, lift, maritime or terrestrial"),
            "{error}"
        );
        assert_eq!(
            serde_json::to_string(&Motion::Maritime).unwrap(),
            "\"maritime\""
        );
        assert_eq!(
            serde_json::from_str::<Motion>("\"lift\"").unwrap(),
            Motion::Lift
        );
        assert_eq!(Motion::default(), Motion::Idle);
    }

    #[test]
    fn idle_is_gravity_and_noise() {
        for seed in SEEDS {
            let data = synthesize(Motion::Idle, 50.0, 20.0, seed);
            assert_eq!(data.len(), 3000);
            let (z_mean, z_std) = stats(&data, 2);
            assert!((z_mean - 9.81).abs() < 0.06, "idle Z mean {z_mean}");
            assert!(z_std < 0.1 && z_std > 0.01, "idle Z std {z_std}");
            for axis in 0..2 {
                let (mean, std) = stats(&data, axis);
                assert!(
                    mean.abs() < 0.06 && std < 0.1,
                    "idle axis {axis}: {mean} ± {std}"
                );
            }
        }
    }

    #[test]
    fn lift_moves_z_in_slow_cycles() {
        for seed in SEEDS {
            let data = synthesize(Motion::Lift, 50.0, 30.0, seed);
            let (z_mean, z_std) = stats(&data, 2);
            let (_, x_std) = stats(&data, 0);
            let (_, y_std) = stats(&data, 1);
            assert!((z_mean - 9.81).abs() < 0.3, "lift Z mean {z_mean}");
            assert!(z_std > 1.0, "lift Z std {z_std}");
            assert!(x_std < 0.4 && y_std < 0.4, "lift sways {x_std} {y_std}");
            assert!(high_share(&data, 2, 50.0, 4.0) < 0.1, "lift Z is slow");
        }
    }

    #[test]
    fn maritime_tilts_all_axes_slowly() {
        for seed in SEEDS {
            let data = synthesize(Motion::Maritime, 50.0, 30.0, seed);
            let (x_mean, x_std) = stats(&data, 0);
            let (y_mean, y_std) = stats(&data, 1);
            let (z_mean, z_std) = stats(&data, 2);
            assert!(
                x_std > 0.5 && y_std > 0.8 && z_std > 0.3,
                "maritime stds {x_std} {y_std} {z_std}"
            );
            assert!(
                x_mean.abs() < 0.8 && y_mean.abs() < 0.8,
                "maritime means {x_mean} {y_mean}"
            );
            assert!(z_mean > 8.8 && z_mean < 9.9, "maritime Z mean {z_mean}");
            for axis in 0..3 {
                assert!(
                    high_share(&data, axis, 50.0, 1.0) < 0.1,
                    "maritime axis {axis} is slow"
                );
            }
        }
    }

    #[test]
    fn terrestrial_shakes_y_then_x_and_vibrates_z() {
        for seed in SEEDS {
            let data = synthesize(Motion::Terrestrial, 50.0, 30.0, seed);
            let (_, x_std) = stats(&data, 0);
            let (_, y_std) = stats(&data, 1);
            let (z_mean, z_std) = stats(&data, 2);
            assert!(
                y_std > x_std && x_std > z_std,
                "terrestrial stds {x_std} {y_std} {z_std}"
            );
            assert!(y_std > 1.5, "terrestrial Y std {y_std}");
            assert!((z_mean - 9.81).abs() < 0.1, "terrestrial Z mean {z_mean}");
            assert!(
                high_share(&data, 2, 50.0, 4.0) > 0.8,
                "terrestrial Z is road vibration"
            );
            assert!(
                high_share(&data, 1, 50.0, 4.0) < 0.2,
                "terrestrial Y is shaking"
            );
        }
    }

    #[test]
    fn same_seed_same_recording() {
        for motion in Motion::ALL {
            assert_eq!(
                synthesize(motion, 50.0, 5.0, 7),
                synthesize(motion, 50.0, 5.0, 7)
            );
            assert_ne!(
                synthesize(motion, 50.0, 5.0, 7),
                synthesize(motion, 50.0, 5.0, 8)
            );
        }
    }

    #[test]
    fn windows_differ_within_a_recording() {
        // A 2 s window of lift must not repeat exactly 2 s later: cycles vary.
        let data = synthesize(Motion::Lift, 50.0, 20.0, 3);
        assert_ne!(data[..300], data[300..600]);
    }

    #[test]
    fn bad_arguments_give_nothing() {
        assert!(synthesize(Motion::Idle, 0.0, 1.0, 1).is_empty());
        assert!(synthesize(Motion::Idle, 50.0, -1.0, 1).is_empty());
        assert!(synthesize(Motion::Idle, f64::NAN, 1.0, 1).is_empty());
    }

    /// Largest change between consecutive samples over a recording.
    fn max_step(readings: &[[f32; 3]]) -> f32 {
        readings
            .windows(2)
            .flat_map(|w| (0..3).map(move |axis| (w[1][axis] - w[0][axis]).abs()))
            .fold(0.0, f32::max)
    }

    #[test]
    fn switching_never_jumps() {
        let rate_hz = 50.0;
        for from in Motion::ALL {
            for to in Motion::ALL {
                let mut steady = MotionSim::new(from, 9);
                let steady_readings: Vec<_> = (0..1000)
                    .map(|n| steady.reading_ms2(n as f64 / rate_hz))
                    .collect();
                let mut target = MotionSim::new(to, 9);
                let target_readings: Vec<_> = (0..1000)
                    .map(|n| target.reading_ms2(n as f64 / rate_hz))
                    .collect();
                let allowed = max_step(&steady_readings).max(max_step(&target_readings)) + 0.2;

                let mut sim = MotionSim::new(from, 9);
                let readings: Vec<_> = (0..1000)
                    .map(|n| {
                        if n == 500 {
                            sim.set_motion(to);
                        }
                        sim.reading_ms2(n as f64 / rate_hz)
                    })
                    .collect();
                assert_eq!(sim.motion(), to);
                let around_switch = max_step(&readings[490..600]);
                assert!(
                    around_switch <= allowed,
                    "{from} → {to}: step {around_switch} > {allowed}"
                );
                // After the fade the signal is the new motion's own.
                assert_eq!(readings[999], target_readings[999], "{from} → {to} settles");
            }
        }
    }

    #[test]
    fn switch_from_rest_starts_from_rest() {
        // From rest into lift: the first samples after the switch stay near rest.
        let mut sim = MotionSim::new(Motion::Idle, 5);
        let before = sim.reading_ms2(0.0);
        sim.set_motion(Motion::Lift);
        let after = sim.reading_ms2(0.02);
        assert!((before[2] - after[2]).abs() < 0.3);
    }
}
