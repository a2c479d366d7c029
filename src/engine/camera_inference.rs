//! Live inference on a camera: after `Command::StartLive` in a camera project, every frame the
//! camera thread decodes is offered to a named "camera-inference" thread holding the shown run.
//! It keeps only the newest frame (a frame still waiting when a newer one comes is replaced, so
//! inference never queues behind the camera), turns the frame's model input (the image block's
//! resize, made by the camera thread) into features, runs the model, and sends
//! `Event::CameraInference`: class probabilities and the label above the confidence threshold
//! (classifier), or the centroids found at the threshold (FOMO, as shares of the frame so the
//! preview can draw them at any size), with the DSP and NN milliseconds and the results per
//! second. Results go out with `try_send`: a slow UI loses results, never the engine's time.

use super::Wake;
use crate::devices::camera::CameraFrame;
use crate::dsp::image::{self, ImageSettings};
use crate::nn::Model;
use crate::nn::detection::{self, Centroid, Grid};
use crate::nn::metrics::argmax;
use crate::project::runs::StoredRun;
use crate::protocol::Event;
use crossbeam_channel::Sender;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Results per second are measured over this long.
const RATE_WINDOW: Duration = Duration::from_secs(2);

/// One frame's inference.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameInference {
    /// The run that made it.
    pub run: String,
    /// The camera's frame index it answers.
    pub frame_index: u64,
    /// The run's labels, in output order.
    pub labels: Vec<String>,
    /// Classifier: one probability per label (empty for FOMO).
    pub probabilities: Vec<f32>,
    /// Classifier: the top label and its probability when it reaches the threshold.
    pub detected: Option<(usize, f32)>,
    /// FOMO: the centroids at the threshold; `x`/`y` as shares (0..1) of the whole frame.
    pub centroids: Vec<Centroid>,
    /// True for a FOMO run.
    pub is_detection: bool,
    /// The confidence threshold applied.
    pub threshold: f32,
    /// Features from the resized frame.
    pub dsp_ms: f32,
    /// The model's forward pass.
    pub nn_ms: f32,
    /// Results per second over the last two seconds.
    pub fps: f32,
}

/// The newest frame waiting for the worker, or the order to stop.
#[derive(Default)]
struct Mailbox {
    frame: Option<Arc<CameraFrame>>,
    stop: bool,
}

/// The running inference thread; dropping it stops and joins the thread.
pub struct CameraInference {
    mailbox: Arc<(Mutex<Mailbox>, Condvar)>,
    /// The confidence threshold as `f32` bits, changed by the Evaluate panel's slider.
    threshold: Arc<AtomicU32>,
    thread: Option<std::thread::JoinHandle<()>>,
    run: String,
}

/// What the worker needs from the run.
struct Worker {
    run: String,
    model: Model,
    labels: Vec<String>,
    image: ImageSettings,
    grid: Option<Grid>,
    threshold: Arc<AtomicU32>,
}

impl CameraInference {
    /// Starts the thread for `run` (trained on the image block) at `threshold`; `project_image`
    /// is the project's image block now, which the camera resizes with: it must be the run's.
    pub fn start(
        run: &StoredRun,
        project_image: Option<&ImageSettings>,
        threshold: f32,
        events: Sender<Event>,
        wake: Wake,
    ) -> Result<Self, String> {
        let image = super::fomo::image_settings(&run.record.dsp)
            .map_err(|_| {
                format!(
                    "{} was not trained on images: live camera inference needs a run of an image \
                     project",
                    run.record.id
                )
            })?
            .clone();
        if project_image != Some(&image) {
            return Err(format!(
                "the project's image settings changed since {} was trained (it reads {}×{} {} \
                 {}): train again, or set them back, before live inference",
                run.record.id, image.width, image.height, image.resize_mode, image.channels
            ));
        }
        let threshold = Arc::new(AtomicU32::new(threshold.to_bits()));
        let worker = Worker {
            run: run.record.id.clone(),
            model: run.model.clone(),
            labels: run.record.labels.clone(),
            image,
            grid: run.record.grid,
            threshold: threshold.clone(),
        };
        let mailbox = Arc::new((Mutex::new(Mailbox::default()), Condvar::new()));
        let shared = mailbox.clone();
        let thread = std::thread::Builder::new()
            .name("camera-inference".into())
            .spawn(move || worker.serve(&shared, &events, &wake))
            .map_err(|e| format!("could not start live inference: {e}"))?;
        Ok(Self {
            mailbox,
            threshold,
            thread: Some(thread),
            run: run.record.id.clone(),
        })
    }

    /// The run it uses.
    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// Applies `threshold` from the next frame on.
    pub fn set_threshold(&self, threshold: f32) {
        self.threshold.store(threshold.to_bits(), Ordering::Relaxed);
    }

    /// Offers a frame; a frame not yet taken is replaced (only the newest counts).
    pub fn offer(&self, frame: Arc<CameraFrame>) {
        let (lock, ready) = &*self.mailbox;
        if let Ok(mut mailbox) = lock.lock() {
            mailbox.frame = Some(frame);
            ready.notify_one();
        }
    }
}

impl Drop for CameraInference {
    fn drop(&mut self) {
        let (lock, ready) = &*self.mailbox;
        if let Ok(mut mailbox) = lock.lock() {
            mailbox.stop = true;
            ready.notify_one();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Worker {
    fn serve(self, mailbox: &(Mutex<Mailbox>, Condvar), events: &Sender<Event>, wake: &Wake) {
        let (lock, ready) = mailbox;
        let mut done: VecDeque<Instant> = VecDeque::new();
        loop {
            let frame = {
                let Ok(mut guard) = lock.lock() else { return };
                loop {
                    if guard.stop {
                        return;
                    }
                    if let Some(frame) = guard.frame.take() {
                        break frame;
                    }
                    guard = match ready.wait(guard) {
                        Ok(g) => g,
                        Err(_) => return,
                    };
                }
            };
            let result = self.infer(&frame);
            let now = Instant::now();
            done.push_back(now);
            while done
                .front()
                .is_some_and(|t| now.duration_since(*t) > RATE_WINDOW)
            {
                done.pop_front();
            }
            let event = match result {
                Ok(mut inference) => {
                    inference.fps = super::camera::per_second(&done);
                    Event::CameraInference(Arc::new(inference))
                }
                Err(why) => Event::CameraStatus(format!("live inference skipped a frame: {why}")),
            };
            let _ = events.try_send(event);
            wake();
        }
    }

    fn infer(&self, frame: &CameraFrame) -> Result<FrameInference, String> {
        let Some(view) = &frame.model else {
            return Err("the camera does not resize for the model (no image block)".into());
        };
        let input = &view.input;
        if (input.width, input.height) != (self.image.width, self.image.height) {
            return Err(format!(
                "the frame was resized to {}×{}, the model reads {}×{}",
                input.width, input.height, self.image.width, self.image.height
            ));
        }
        let threshold = f32::from_bits(self.threshold.load(Ordering::Relaxed));
        let started = Instant::now();
        let features = image::features_from_pixels(
            &self.image.channels,
            input.width,
            input.height,
            &input.rgb,
        )
        .map_err(|e| e.to_string())?;
        let dsp_ms = started.elapsed().as_secs_f32() * 1000.0;
        let started = Instant::now();
        let outputs = crate::nn::train::predict(&self.model, &features.values, &features.shape, 1)
            .map_err(|e| e.to_string())?;
        let nn_ms = started.elapsed().as_secs_f32() * 1000.0;
        let probabilities: Vec<f32> = outputs.iter().copied().collect();
        let mut result = FrameInference {
            run: self.run.clone(),
            frame_index: frame.index,
            labels: self.labels.clone(),
            probabilities: Vec::new(),
            detected: None,
            centroids: Vec::new(),
            is_detection: self.grid.is_some(),
            threshold,
            dsp_ms,
            nn_ms,
            fps: 0.0,
        };
        match self.grid {
            Some(grid) => {
                let mapping = image::input_mapping(
                    frame.encoded.width,
                    frame.encoded.height,
                    self.image.width,
                    self.image.height,
                    &self.image.resize_mode,
                )
                .map_err(|e| e.to_string())?;
                let (w, h) = (
                    f64::from(frame.encoded.width.max(1)),
                    f64::from(frame.encoded.height.max(1)),
                );
                result.centroids =
                    detection::decode(&probabilities, grid, self.labels.len(), threshold)
                        .into_iter()
                        .map(|c| {
                            let (x, y) = mapping.to_file(f64::from(c.x), f64::from(c.y));
                            Centroid {
                                x: (x / w) as f32,
                                y: (y / h) as f32,
                                ..c
                            }
                        })
                        .collect();
            }
            None => {
                let (best, top) = argmax(probabilities.iter().copied());
                result.detected = (top >= threshold).then_some((best, top));
                result.probabilities = probabilities;
            }
        }
        Ok(result)
    }
}
