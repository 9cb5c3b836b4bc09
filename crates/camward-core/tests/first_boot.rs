//! First boot across factory flavours, against camsim on 127.0.0.1: each flavour goes from factory
//! to a working administrator (an ONVIF login with it succeeds) and the unauthenticated path is
//! closed afterwards.
use std::sync::Arc;
use std::time::Duration;

use camsim::{Flavour, Fleet, FleetConfig};
use camward_core::first_boot::{
    create_first_admin, create_first_admin_once_stored, detect, verify_first_admin, FactoryState,
    FirstBootMethod,
};
use camward_onvif::http::{HttpConfig, ReqwestTransport};
use camward_onvif::{AuthMode, Camera, Credentials, DeviceRefusal, OnvifError};
use camward_vault::Sensitive;
use camward_vendors::{axis, guided, hikvision, VendorError, VendorHttp, VendorRefusal};

const USER: &str = "camward";
const PASSWORD: &str = "Tq4-mZ8!wL2x";

async fn fleet(flavour: Flavour, cameras: usize) -> Fleet {
    Fleet::start(FleetConfig {
        flavour,
        cameras,
        lockout_duration: Duration::from_secs(60),
        ..FleetConfig::default()
    })
    .await
    .expect("fleet starts on loopback")
}

fn session(url: &str, credentials: Option<Credentials>) -> Camera<ReqwestTransport> {
    let transport = ReqwestTransport::new(&HttpConfig::default()).expect("client");
    let camera = Camera::new(transport, url, Arc::new(camward_onvif::clock::SystemClock))
        .expect("valid URL");
    let mode = if credentials.is_some() {
        AuthMode::Auto
    } else {
        AuthMode::Anonymous
    };
    camera.set_credentials(credentials, mode);
    camera
}

/// Factory → admin through `create_first_admin`, then the checks every flavour shares.
async fn first_boot_closes_the_door(flavour: Flavour, method: FirstBootMethod) -> Fleet {
    let fleet = fleet(flavour, 1).await;
    let url = fleet.cameras()[0].device_url();
    assert_eq!(
        detect(&url).await.expect("detects"),
        FactoryState {
            factory_fresh: true,
            method
        }
    );
    let password = Sensitive::new(PASSWORD.to_owned());
    assert_eq!(
        create_first_admin(&url, USER, &password)
            .await
            .expect("first admin"),
        method
    );
    assert_eq!(
        detect(&url).await.expect("detects"),
        FactoryState {
            factory_fresh: false,
            method
        }
    );

    let admin = session(&url, Some(Credentials::new(USER, PASSWORD)));
    admin.sync_clock().await.expect("clock");
    admin
        .get_device_information()
        .await
        .expect("the new admin logs in over ONVIF");
    let wrong = session(&url, Some(Credentials::new(USER, "Not-the-pass-1")));
    wrong.sync_clock().await.expect("clock");
    assert!(matches!(
        wrong.get_device_information().await,
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized))
    ));
    let anonymous = session(&url, None);
    anonymous.sync_clock().await.expect("pre-auth clock read");
    assert!(matches!(
        anonymous.get_device_information().await,
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized))
    ));
    let again = create_first_admin(
        &url,
        "intruder",
        &Sensitive::new("Other-pass-42".to_owned()),
    )
    .await
    .expect_err("a second first boot is refused");
    assert_eq!(again.code, "already_configured");
    // A caller that saw the camera factory-fresh a moment ago (its own `detect`) has the state
    // confirmed by the method's own question before the password goes out: configured meanwhile,
    // the password is not sent, yet the store it waited on has finished.
    let stored = std::sync::atomic::AtomicBool::new(false);
    let seen = create_first_admin_once_stored(
        &url,
        "intruder",
        &Sensitive::new("Other-pass-42".to_owned()),
        Some(method),
        async {
            stored.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        },
    )
    .await
    .expect_err("configured since it was seen: refused");
    assert_eq!(seen.code, "already_configured");
    assert!(stored.load(std::sync::atomic::Ordering::SeqCst));
    let users = fleet.cameras()[0].state().users;
    assert!(
        users.iter().all(|u| u.name != "intruder"),
        "no account was created for the second caller: {:?}",
        users.iter().map(|u| &u.name).collect::<Vec<_>>()
    );
    fleet
}

#[tokio::test]
async fn onvif_flavour_factory_to_admin() {
    let fleet = first_boot_closes_the_door(Flavour::Generic, FirstBootMethod::Onvif).await;
    fleet.shutdown().await;
}

#[tokio::test]
async fn axis_flavour_factory_to_admin() {
    let fleet = first_boot_closes_the_door(Flavour::Axis, FirstBootMethod::Axis).await;
    let cam = &fleet.cameras()[0];
    let http = VendorHttp::new(&cam.device_url()).expect("valid URL");
    // VAPIX: adding root without credentials is refused now, and root logs in with Digest.
    let e = axis::set_root_password(&http, "Other-pass-42")
        .await
        .expect_err("closed");
    assert!(matches!(
        e,
        VendorError::Refused(VendorRefusal::AlreadyConfigured)
    ));
    axis::verify_login(&http.login(Credentials::new(axis::ROOT, PASSWORD)))
        .await
        .expect("root logs in to VAPIX");
    let state = cam.state();
    assert_eq!(state.vendor.vapix_users.len(), 1);
    assert_eq!(state.users.len(), 1);
    assert_eq!(state.users[0].name, USER);
    fleet.shutdown().await;
}

#[tokio::test]
async fn hikvision_flavour_factory_to_admin() {
    let fleet = first_boot_closes_the_door(Flavour::Hikvision, FirstBootMethod::Hikvision).await;
    let cam = &fleet.cameras()[0];
    let http = VendorHttp::new(&cam.device_url()).expect("valid URL");
    assert_eq!(
        hikvision::activation_status(&http).await.expect("answers"),
        Some(true)
    );
    let e = hikvision::activate(&http, "Other-pass-42")
        .await
        .expect_err("closed");
    assert!(matches!(
        e,
        VendorError::Refused(VendorRefusal::AlreadyConfigured)
    ));
    hikvision::verify_login(&http.login(Credentials::new(hikvision::ADMIN, PASSWORD)))
        .await
        .expect("admin logs in to ISAPI");
    let state = cam.state();
    assert!(state.vendor.onvif_enabled);
    assert_eq!(state.users.len(), 1);
    assert_eq!(state.users[0].name, USER);
    fleet.shutdown().await;
}

#[tokio::test]
async fn hikvision_refuses_a_password_longer_than_sixteen_characters() {
    let fleet = fleet(Flavour::Hikvision, 1).await;
    let url = fleet.cameras()[0].device_url();
    let long = Sensitive::new("Tq4-mZ8!wL2x-Tq4-mZ8!".to_owned());
    let e = create_first_admin(&url, USER, &long)
        .await
        .expect_err("too long for Hikvision");
    assert_eq!(e.code, "weak_password");
    assert_eq!(e.step, "ISAPI activate");
    assert!(!e.message.contains("Tq4"), "no secret in the message");
    assert_eq!(
        detect(&url).await.expect("detects"),
        FactoryState {
            factory_fresh: true,
            method: FirstBootMethod::Hikvision
        }
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_mixed_fleet_is_told_apart() {
    let fleet = fleet(Flavour::Mix, 5).await;
    let mut methods = Vec::new();
    for cam in fleet.cameras() {
        let found = detect(&cam.device_url()).await.expect("detects");
        assert!(found.factory_fresh);
        methods.push(found.method);
    }
    assert_eq!(
        methods,
        [
            FirstBootMethod::Onvif,
            FirstBootMethod::Axis,
            FirstBootMethod::Hikvision,
            FirstBootMethod::Guided,
            FirstBootMethod::Guided,
        ]
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn canon_and_i_pro_take_the_guided_step_then_camward_verifies() {
    for flavour in [Flavour::Canon, Flavour::IPro] {
        let fleet = fleet(flavour, 1).await;
        let url = fleet.cameras()[0].device_url();
        assert_eq!(
            detect(&url).await.expect("detects"),
            FactoryState {
                factory_fresh: true,
                method: FirstBootMethod::Guided
            }
        );
        let password = Sensitive::new(PASSWORD.to_owned());
        let e = create_first_admin(&url, USER, &password)
            .await
            .expect_err("needs a person");
        assert_eq!(e.code, "guided_step_required");
        let http = VendorHttp::new(&url).expect("valid URL");
        let page = guided::first_access_page(&http)
            .await
            .expect("answers")
            .expect("shown");
        assert!(e.message.contains(&page), "the message names the page");
        assert!(!e.message.contains(PASSWORD));
        // Before the person acts, the login does not work.
        assert!(verify_first_admin(&url, USER, &password).await.is_err());

        // The person fills in the camera's page.
        let form = format!("user={USER}&password={PASSWORD}&confirm={PASSWORD}");
        let r = http
            .send(
                "POST",
                "/first-access",
                Some("application/x-www-form-urlencoded"),
                form.into_bytes(),
            )
            .await
            .expect("page answers");
        assert_eq!(r.status, 200);

        verify_first_admin(&url, USER, &password)
            .await
            .expect("Camward verifies the login");
        let wrong = Sensitive::new("Not-the-pass-1".to_owned());
        let e = verify_first_admin(&url, USER, &wrong)
            .await
            .expect_err("wrong password");
        assert_eq!(e.code, "not_authorized");
        assert!(!detect(&url).await.expect("detects").factory_fresh);
        assert_eq!(
            guided::first_access_page(&http).await.expect("answers"),
            None
        );
        let anonymous = session(&url, None);
        anonymous.sync_clock().await.expect("pre-auth clock read");
        assert!(anonymous.get_device_information().await.is_err());
        fleet.shutdown().await;
    }
}

#[tokio::test]
async fn an_unreachable_camera_is_reported_as_such() {
    // Bind and drop a listener so the port is known to be closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("loopback port")
        .port();
    let e = detect(&format!("127.0.0.1:{port}"))
        .await
        .expect_err("nothing listens");
    assert_eq!(e.code, "unreachable");
}
