//! Commissioning progress on the terminal: one bar per camera being worked on (its controls done
//! out of the level's controls, the control now running) and one bar for the batch. A camera
//! that finishes leaves one line above the bars and its bar goes away, so a batch of a hundred
//! shows only the cameras in flight.
//!
//! When standard error is not a terminal (a pipe, a log file, CI), bars would be noise: every
//! event becomes one plain line instead.
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use camward_core::hardening::commission::{CommissionEvent, Outcome};

use crate::outcome_text;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How commissioning events are shown.
pub enum CommissionProgress {
    /// Nothing (JSON output: standard output is for machines, standard error stays quiet).
    Quiet,
    /// One line per event on standard error.
    Lines,
    /// Bars on a terminal.
    Bars(Bars),
}

/// The bars of a terminal.
pub struct Bars {
    multi: MultiProgress,
    batch: ProgressBar,
    cameras: Mutex<HashMap<String, ProgressBar>>,
    controls: u64,
}

impl CommissionProgress {
    /// Bars when standard error is a terminal and `json` is off; lines when it is not.
    pub fn new(json: bool, cameras: usize, controls: usize) -> Self {
        if json {
            return CommissionProgress::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return CommissionProgress::Lines;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let batch = multi.add(ProgressBar::new(cameras as u64));
        batch.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos}/{len} cameras {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        batch.set_prefix("site");
        CommissionProgress::Bars(Bars {
            multi,
            batch,
            cameras: Mutex::new(HashMap::new()),
            controls: controls as u64,
        })
    }

    /// Shows one event.
    pub fn event(&self, event: CommissionEvent) {
        match self {
            CommissionProgress::Quiet => {}
            CommissionProgress::Lines => match event {
                CommissionEvent::CameraStarted { camera } => eprintln!("{camera}: started"),
                CommissionEvent::Step { camera, step } => {
                    eprintln!(
                        "{camera}: {:<22} {}",
                        step.control,
                        outcome_text(&step.outcome)
                    )
                }
                CommissionEvent::CameraDone {
                    camera,
                    score,
                    error,
                } => {
                    eprintln!("{camera}: {}", done_text(score, error.as_deref()))
                }
            },
            CommissionProgress::Bars(bars) => bars.event(event),
        }
    }

    /// Clears the bars (the per-camera lines printed above them stay).
    pub fn finish(&self) {
        if let CommissionProgress::Bars(bars) = self {
            bars.batch.finish_and_clear();
        }
    }
}

fn done_text(score: Option<u8>, error: Option<&str>) -> String {
    match (score, error) {
        (_, Some(e)) => format!("stopped: {e}"),
        (Some(s), None) => format!("done, score {s}%"),
        (None, None) => "done".into(),
    }
}

impl Bars {
    fn bar(&self, camera: &str) -> ProgressBar {
        let mut cameras = self.cameras.lock().unwrap_or_else(|p| p.into_inner());
        cameras
            .entry(camera.to_owned())
            .or_insert_with(|| {
                let bar = self
                    .multi
                    .insert_before(&self.batch, ProgressBar::new(self.controls));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_prefix(short_name(camera));
                bar
            })
            .clone()
    }

    fn event(&self, event: CommissionEvent) {
        match event {
            CommissionEvent::CameraStarted { camera } => {
                self.bar(&camera).set_message("first contact");
            }
            CommissionEvent::Step { camera, step } => {
                let bar = self.bar(&camera);
                bar.inc(1);
                bar.set_message(format!("{} {}", step.control, step_word(&step.outcome)));
                if matches!(
                    step.outcome,
                    Outcome::Failed { .. } | Outcome::Refused { .. }
                ) {
                    let _ = self.multi.println(format!(
                        "{camera}: {:<22} {}",
                        step.control,
                        outcome_text(&step.outcome)
                    ));
                }
            }
            CommissionEvent::CameraDone {
                camera,
                score,
                error,
            } => {
                let bar = self
                    .cameras
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&camera);
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let _ = self
                    .multi
                    .println(format!("{camera}: {}", done_text(score, error.as_deref())));
                self.batch.inc(1);
            }
        }
    }
}

/// A short word for the bar's message.
fn step_word(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::AlreadyHardened => "ok",
        Outcome::WouldChange { .. } => "would change",
        Outcome::Applied { .. } => "applied",
        Outcome::Guided { .. } => "needs a person",
        Outcome::Refused { .. } => "refused",
        Outcome::Failed { .. } => "FAILED",
        Outcome::Skipped { .. } => "left as is",
        Outcome::Stopped => "stopped",
    }
}

/// The host (and port) of a device URL, for the bar's prefix.
fn short_name(camera: &str) -> String {
    let rest = camera.split_once("://").map_or(camera, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    host.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_name_cameras_by_host_and_port() {
        assert_eq!(
            short_name("http://192.0.2.4:8080/onvif/device_service"),
            "192.0.2.4:8080"
        );
        assert_eq!(short_name("192.0.2.4"), "192.0.2.4");
    }

    #[test]
    fn a_finished_camera_leaves_the_bars() {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
        let batch = multi.add(ProgressBar::new(2));
        let bars = Bars {
            multi,
            batch,
            cameras: Mutex::new(HashMap::new()),
            controls: 3,
        };
        let camera = "http://192.0.2.4/onvif/device_service".to_owned();
        bars.event(CommissionEvent::CameraStarted {
            camera: camera.clone(),
        });
        assert_eq!(bars.cameras.lock().unwrap().len(), 1);
        bars.event(CommissionEvent::CameraDone {
            camera,
            score: Some(80),
            error: None,
        });
        assert!(bars.cameras.lock().unwrap().is_empty());
        assert_eq!(bars.batch.position(), 1);
    }
}
