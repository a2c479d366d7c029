//! Sample-rate conversion of mono audio, the one place TinyLab resamples: WAV import, the
//! microphone pipeline and playback all go through [`Resampler`] (streaming) or [`resample`]
//! (a whole clip), so a clip and a stream of the same audio give the same numbers.
//!
//! The work is done by rubato's synchronous FFT resampler (`rubato::Fft`, a windowed-sinc
//! anti-aliasing filter applied in the frequency domain) for any pair of integer rates: the
//! ratio is exact (rates are reduced by their greatest common divisor), so 48 kHz → 16 kHz gives
//! exactly one output sample per three input samples, forever, with no drift.
//!
//! Timing: output sample `k` is the signal at time `k / to_hz`, aligned with input sample `0` at
//! time 0 — the filter's delay is trimmed off the start. A stream of `n` input samples gives
//! `ceil(n · to_hz / from_hz)` output samples once [`Resampler::finish`] has flushed the tail,
//! however the input was cut into pieces. Equal rates pass samples through untouched.
//!
//! Pure computation: no IO, no threads, no allocation per sample (buffers grow once).

use rubato::Resampler as _;
use rubato::audioadapter_buffers::direct::InterleavedSlice;

/// Input frames per rubato call (rounded up by rubato to a multiple of the rates' block).
const CHUNK_FRAMES: usize = 1024;

/// Why a resampler could not be built or run.
#[derive(Debug, thiserror::Error)]
#[error("cannot resample audio from {from_hz} Hz to {to_hz} Hz: {reason}")]
pub struct ResampleError {
    /// Input rate.
    pub from_hz: u32,
    /// Output rate.
    pub to_hz: u32,
    /// What went wrong.
    pub reason: String,
}

/// A streaming mono resampler: push pieces of any length, take what is ready, flush at the end.
pub struct Resampler {
    from_hz: u32,
    to_hz: u32,
    /// `None` when the rates are equal (pass-through).
    fft: Option<rubato::Fft<f32>>,
    /// Input waiting for a full chunk; `pending[pending_start..]` is live.
    pending: Vec<f32>,
    pending_start: usize,
    /// rubato's output for one chunk.
    scratch: Vec<f32>,
    /// Output frames of the filter's delay still to drop.
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from_hz", &self.from_hz)
            .field("to_hz", &self.to_hz)
            .field("frames_in", &self.frames_in)
            .field("frames_out", &self.frames_out)
            .finish()
    }
}

impl Resampler {
    /// A resampler from `from_hz` to `to_hz` (both above 0).
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, ResampleError> {
        let error = |reason: String| ResampleError {
            from_hz,
            to_hz,
            reason,
        };
        if from_hz == 0 || to_hz == 0 {
            return Err(error("a rate of 0 Hz is not a sampling rate".into()));
        }
        let fft = if from_hz == to_hz {
            None
        } else {
            // rubato's filter is centred half an input sample early when its FFT block is odd
            // (44.1 kHz: blocks of 441); an even number of blocks keeps the delay whole, so
            // trimming it aligns the output exactly (tested against the analytic sine).
            let block_in = (from_hz / gcd(from_hz, to_hz)) as usize;
            let blocks = CHUNK_FRAMES.div_ceil(block_in).next_multiple_of(2);
            let fft = rubato::Fft::<f32>::new(
                from_hz as usize,
                to_hz as usize,
                blocks * block_in,
                1,
                rubato::FixedSync::Both,
            )
            .map_err(|e| error(e.to_string()))?;
            Some(fft)
        };
        let (to_trim, scratch) = match &fft {
            Some(fft) => (fft.output_delay(), vec![0.0; fft.output_frames_max()]),
            None => (0, Vec::new()),
        };
        Ok(Self {
            from_hz,
            to_hz,
            fft,
            pending: Vec::new(),
            pending_start: 0,
            scratch,
            to_trim,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Input rate.
    pub fn from_hz(&self) -> u32 {
        self.from_hz
    }

    /// Output rate.
    pub fn to_hz(&self) -> u32 {
        self.to_hz
    }

    /// Input samples taken so far.
    pub fn frames_in(&self) -> u64 {
        self.frames_in
    }

    /// Output samples given so far.
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// Output samples the input so far stands for: `ceil(frames_in · to_hz / from_hz)`.
    pub fn expected_frames_out(&self) -> u64 {
        (u128::from(self.frames_in) * u128::from(self.to_hz))
            .div_ceil(u128::from(self.from_hz))
            .try_into()
            .unwrap_or(u64::MAX)
    }

    /// Takes `input` and appends to `out` every output sample that is ready.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), ResampleError> {
        self.frames_in += input.len() as u64;
        if self.fft.is_none() {
            out.extend_from_slice(input);
            self.frames_out += input.len() as u64;
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        while self.pending.len() - self.pending_start >= self.chunk_in() {
            self.run_chunk(None, out)?;
        }
        // Compact now and then so `pending` stays about one chunk long.
        if self.pending_start > 4 * CHUNK_FRAMES {
            self.pending.drain(..self.pending_start);
            self.pending_start = 0;
        }
        Ok(())
    }

    /// Flushes the tail: appends the rest of the output, so that the total is exactly
    /// [`Resampler::expected_frames_out`]. The resampler is ready for a new stream afterwards.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), ResampleError> {
        if self.fft.is_some() {
            let expected = self.expected_frames_out();
            // The last partial chunk, then silence until the delayed tail is out.
            let mut guard = 0;
            while self.frames_out < expected {
                let live = self.pending.len() - self.pending_start;
                self.run_chunk(Some(live.min(self.chunk_in())), out)?;
                guard += 1;
                if guard > 1_000 {
                    return Err(self.error("the resampler stopped producing output".into()));
                }
            }
            let extra = usize::try_from(self.frames_out - expected).unwrap_or(0);
            out.truncate(out.len().saturating_sub(extra));
            self.frames_out = expected;
        }
        self.reset();
        Ok(())
    }

    /// Forgets the stream so far (counts too).
    pub fn reset(&mut self) {
        if let Some(fft) = &mut self.fft {
            fft.reset();
            self.to_trim = fft.output_delay();
        }
        self.pending.clear();
        self.pending_start = 0;
        self.frames_in = 0;
        self.frames_out = 0;
    }

    fn chunk_in(&self) -> usize {
        self.fft.as_ref().map_or(1, |fft| fft.input_frames_next())
    }

    fn error(&self, reason: String) -> ResampleError {
        ResampleError {
            from_hz: self.from_hz,
            to_hz: self.to_hz,
            reason,
        }
    }

    /// Runs one chunk from `pending` (`partial`: only that many real samples, then silence).
    fn run_chunk(
        &mut self,
        partial: Option<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), ResampleError> {
        let (from_hz, to_hz) = (self.from_hz, self.to_hz);
        let error = |reason: String| ResampleError {
            from_hz,
            to_hz,
            reason,
        };
        let Some(fft) = &mut self.fft else {
            return Ok(());
        };
        let chunk_in = fft.input_frames_next();
        let live = self.pending.len() - self.pending_start;
        let take = partial.unwrap_or(chunk_in).min(live);
        let end = self.pending_start + take;
        // rubato reads a full chunk even when told only `partial` frames are real: make sure the
        // pending buffer holds that many (the extra frames are ignored).
        if self.pending.len() < self.pending_start + chunk_in {
            self.pending.resize(self.pending_start + chunk_in, 0.0);
        }
        let chunk = self
            .pending
            .get(self.pending_start..self.pending_start + chunk_in)
            .unwrap_or(&[]);
        let input = InterleavedSlice::new(chunk, 1, chunk_in).map_err(|e| error(e.to_string()))?;
        let frames_out = self.scratch.len();
        let mut output = InterleavedSlice::new_mut(&mut self.scratch, 1, frames_out)
            .map_err(|e| error(e.to_string()))?;
        let indexing = partial.map(|n| rubato::Indexing::new().partial_len(n));
        let (_, produced) = fft
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .map_err(|e| error(e.to_string()))?;
        self.pending.truncate(self.pending_start + live);
        self.pending_start = end;
        let produced = self.scratch.get(..produced).unwrap_or(&[]);
        let skip = self.to_trim.min(produced.len());
        self.to_trim -= skip;
        let kept = produced.get(skip..).unwrap_or(&[]);
        out.extend_from_slice(kept);
        self.frames_out += kept.len() as u64;
        Ok(())
    }
}

/// Greatest common divisor.
fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Resamples a whole mono clip from `from_hz` to `to_hz`: `ceil(len · to_hz / from_hz)` samples.
pub fn resample(input: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, ResampleError> {
    let mut resampler = Resampler::new(from_hz, to_hz)?;
    let mut out = Vec::with_capacity(
        usize::try_from(
            (input.len() as u64 * u64::from(to_hz)).div_ceil(u64::from(from_hz.max(1))),
        )
        .unwrap_or(0),
    );
    resampler.process(input, &mut out)?;
    resampler.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, rate_hz: u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| {
                (2.0 * std::f64::consts::PI * freq_hz * i as f64 / f64::from(rate_hz)).sin() as f32
            })
            .collect()
    }

    #[test]
    fn lengths_follow_the_ratio_whatever_the_pieces() {
        for (from, to, len) in [
            (48_000, 16_000, 48_000),
            (44_100, 16_000, 44_101),
            (8_000, 16_000, 777),
            (16_000, 16_000, 1000),
            (22_050, 16_000, 5),
        ] {
            let input = sine(300.0, from, len);
            let whole = resample(&input, from, to).unwrap();
            let expected = (len as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
            assert_eq!(whole.len(), expected, "{from} -> {to}, {len}");
            // Streaming in odd pieces gives the same samples.
            let mut r = Resampler::new(from, to).unwrap();
            let mut out = Vec::new();
            for piece in input.chunks(317) {
                r.process(piece, &mut out).unwrap();
            }
            r.finish(&mut out).unwrap();
            assert_eq!(out.len(), expected);
            for (a, b) in out.iter().zip(&whole) {
                assert!((a - b).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn zero_rate_is_refused_in_words() {
        let e = Resampler::new(0, 16_000).unwrap_err().to_string();
        assert!(e.contains("0 Hz"), "{e}");
    }
}
