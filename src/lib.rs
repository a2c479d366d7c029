//! TinyLab: the TinyML labs of *Machine Learning Systems* (mlsysbook.ai) on the student's own
//! computer, offline. See `ARCHITECTURE.md` for the module map and its invariants.

pub mod cli;
pub mod deploy;
pub mod devices;
pub mod dsp;
pub mod engine;
pub mod export;
pub mod lab_guide;
pub mod labs;
pub mod models;
pub mod nn;
pub mod project;
pub mod protocol;
pub mod quant;
pub mod rng;
pub mod sim;
pub mod ui;
