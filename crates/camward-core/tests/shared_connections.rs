//! Sessions with one camera inside `session::sharing_connections` reuse the keep-alive
//! connections of the sessions before them, counted by camsim's listener on 127.0.0.1; outside
//! such a scope each session opens its own; and a camera that reboots in between (every
//! connection cut) is simply reached on a new connection.
use std::time::Duration;

use camsim::{Fleet, FleetConfig, InitialState};
use camward_core::session::{open, sharing_connections};

async fn camera() -> Fleet {
    Fleet::start(FleetConfig {
        cameras: 1,
        state: InitialState::Factory,
        reboot_duration: Duration::from_millis(300),
        ..FleetConfig::default()
    })
    .await
    .expect("fleet on loopback")
}

/// Opens `sessions` sessions one after the other, each reading the camera's clock, with a
/// moment between them as a camera's steps have (its SQLite and parsing work). hyper hands a
/// keep-alive connection back to its pool from a task of its own once the reply is read; a
/// session started in the very same instant can miss it and connect anew (seen on a loaded CI
/// machine), which is hyper's scheduling, not what these tests are about.
async fn sessions(url: &str, sessions: usize) {
    for _ in 0..sessions {
        let session = open(url).expect("session");
        session.sync_clock().await.expect("GetSystemDateAndTime");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_in_one_scope_share_a_connection_and_others_do_not() {
    let fleet = camera().await;
    let sim = &fleet.cameras()[0];
    let url = sim.device_url();

    sessions(&url, 3).await;
    assert_eq!(
        sim.connections(),
        3,
        "outside a scope every session connects"
    );
    assert_eq!(sim.requests(), 3);

    sharing_connections(sessions(&url, 3)).await;
    assert_eq!(
        sim.connections(),
        4,
        "three sessions in one scope made one connection"
    );

    // Two scopes side by side (two cameras' tasks, here the same camera) share nothing.
    let (a, b) = (url.clone(), url.clone());
    let one = tokio::spawn(sharing_connections(async move { sessions(&a, 2).await }));
    let two = tokio::spawn(sharing_connections(async move { sessions(&b, 2).await }));
    one.await.expect("task");
    two.await.expect("task");
    assert_eq!(sim.connections(), 6, "each scope has its own connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reboot_in_the_middle_of_a_scope_costs_a_new_connection_not_an_error() {
    let fleet = camera().await;
    let sim = &fleet.cameras()[0];
    let url = sim.device_url();
    sharing_connections(async {
        sessions(&url, 1).await;
        sim.power_cycle();
        // The reboot starts after a 200 ms grace for the reply in flight and lasts 300 ms.
        tokio::time::sleep(Duration::from_millis(100)).await;
        while !sim.is_rebooting() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        while sim.is_rebooting() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sessions(&url, 2).await;
    })
    .await;
    assert_eq!(
        sim.connections(),
        2,
        "the connection the reboot cut was replaced once, then shared"
    );
}
