//! How faithfully camsim delays its answers: `FleetConfig::latency_ms` is the wire delay every
//! benchmark's "round trips × latency" minimum is built on, so a camera that answers late makes
//! Camward look slower than it is.
//!
//! It sends GetSystemDateAndTime (no login needed) to cameras with 20 ms of latency, one request
//! after another, each on a new connection, and prints how much longer than 20 ms a round trip
//! took: for one camera alone, then for 100 cameras at once (20 requests each). For comparison
//! it prints what `tokio::time::sleep(20 ms)` itself overshoots by on the same runtime (its timer
//! wheel has 1 ms ticks and rounds deadlines up).
//!
//! `cargo bench -p camsim --bench latency`
#![allow(clippy::unwrap_used)] // Bench code: a failed unwrap is a failed run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use camsim::{Fleet, FleetConfig, InitialState};

const LATENCY: Duration = Duration::from_millis(20);

/// Extra milliseconds over `LATENCY` of each of `requests` round trips to `url`, in order.
async fn round_trips(url: String, requests: usize) -> Vec<f64> {
    let body = common::envelope("<tds:GetSystemDateAndTime/>", None);
    let mut extra = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        let reply = common::post(&url, &body, None).await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        extra.push((started.elapsed().as_secs_f64() - LATENCY.as_secs_f64()) * 1000.0);
    }
    extra
}

fn summary(mut extra: Vec<f64>) -> String {
    extra.sort_by(f64::total_cmp);
    let mean = extra.iter().sum::<f64>() / extra.len() as f64;
    format!(
        "{mean:.2} ms mean, {:.2} ms median, {:.2} ms p90 over {} ms (mean round trip {:.3}× the latency asked for)",
        extra[extra.len() / 2],
        extra[extra.len() * 9 / 10],
        LATENCY.as_millis(),
        1.0 + mean / LATENCY.as_secs_f64() / 1000.0
    )
}

async fn fleet(cameras: usize) -> Fleet {
    Fleet::start(FleetConfig {
        cameras,
        state: InitialState::Factory,
        latency_ms: LATENCY.as_millis() as u64,
        ..FleetConfig::default()
    })
    .await
    .unwrap()
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut slept = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            tokio::time::sleep(LATENCY).await;
            slept.push((started.elapsed().as_secs_f64() - LATENCY.as_secs_f64()) * 1000.0);
        }
        println!(
            "camsim latency benchmark, {} ms asked for",
            LATENCY.as_millis()
        );
        println!("  tokio::time::sleep alone:   {}", summary(slept));

        let one = fleet(1).await;
        let url = one.cameras()[0].device_url();
        println!(
            "  1 camera, 50 requests:      {}",
            summary(round_trips(url, 50).await)
        );
        one.shutdown().await;

        let many = fleet(100).await;
        let tasks: Vec<_> = many
            .cameras()
            .iter()
            .map(|c| tokio::spawn(round_trips(c.device_url(), 20)))
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        println!("  100 cameras, 20 each:       {}", summary(all));
        many.shutdown().await;
    });
}
