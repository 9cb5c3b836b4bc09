//! The vendor drivers against camsim's Axis and Hikvision flavours, on 127.0.0.1: factory to a
//! working administrator, the unauthenticated path closed afterwards, lock-out after failures.
use std::sync::Arc;
use std::time::Duration;

use camsim::{Flavour, Fleet, FleetConfig};
use camward_onvif::http::{HttpConfig, ReqwestTransport};
use camward_onvif::{AuthMode, Camera, Credentials, DeviceRefusal, OnvifError};
use camward_vendors::axis::{self, RootPassword};
use camward_vendors::hikvision::{self, OnvifUserType};
use camward_vendors::{VendorError, VendorHttp, VendorRefusal};

const PASSWORD: &str = "Kx7-pQ2!vR9z";

async fn fleet(flavour: Flavour, lockout_failures: u32) -> Fleet {
    Fleet::start(FleetConfig {
        flavour,
        lockout_failures,
        lockout_duration: Duration::from_secs(60),
        ..FleetConfig::default()
    })
    .await
    .expect("fleet starts on loopback")
}

fn refused(e: &VendorError) -> Option<&VendorRefusal> {
    match e {
        VendorError::Refused(r) => Some(r),
        VendorError::Transport(_) => None,
    }
}

fn onvif(url: &str, credentials: Option<Credentials>) -> Camera<ReqwestTransport> {
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

#[tokio::test]
async fn axis_factory_to_root_then_unauthenticated_add_is_refused() {
    let fleet = fleet(Flavour::Axis, 5).await;
    let cam = &fleet.cameras()[0];
    let http = VendorHttp::new(&cam.device_url()).expect("valid URL");

    assert_eq!(
        axis::root_password(&http).await.expect("answers"),
        Some(RootPassword::Unset)
    );
    // ONVIF is not open anonymously on a factory Axis.
    let anon = onvif(&cam.device_url(), None);
    anon.sync_clock().await.expect("pre-auth clock read");
    assert!(matches!(
        anon.get_device_information().await,
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized))
    ));

    axis::set_root_password(&http, PASSWORD)
        .await
        .expect("root set");
    assert_eq!(
        axis::root_password(&http).await.expect("answers"),
        Some(RootPassword::Set)
    );
    assert_eq!(cam.state().vendor.vapix_users.len(), 1);

    // The unauthenticated path is closed: adding root again without credentials is refused.
    let again = axis::set_root_password(&http, "Other-pass-42")
        .await
        .expect_err("refused");
    assert_eq!(refused(&again), Some(&VendorRefusal::AlreadyConfigured));
    assert_eq!(cam.state().vendor.vapix_users[0].password, PASSWORD);

    let root = http.login(Credentials::new(axis::ROOT, PASSWORD));
    axis::verify_login(&root).await.expect("root logs in");
    axis::verify_login(&root)
        .await
        .expect("reused challenge works");
    let wrong = http.login(Credentials::new(axis::ROOT, "not-the-password"));
    let e = axis::verify_login(&wrong).await.expect_err("refused");
    assert_eq!(refused(&e), Some(&VendorRefusal::NotAuthorized));

    // The first ONVIF account is created with root's credentials, then ONVIF works with it.
    let as_root = onvif(
        &cam.device_url(),
        Some(Credentials::new(axis::ROOT, PASSWORD)),
    );
    as_root.sync_clock().await.expect("clock");
    as_root
        .create_users(&[camward_onvif::device::User {
            username: "camward".into(),
            password: Some(PASSWORD.into()),
            level: camward_onvif::device::UserLevel::Administrator,
        }])
        .await
        .expect("root creates the ONVIF account");
    let admin = onvif(
        &cam.device_url(),
        Some(Credentials::new("camward", PASSWORD)),
    );
    admin.sync_clock().await.expect("clock");
    admin
        .get_device_information()
        .await
        .expect("ONVIF login works");
    assert!(anon.get_device_information().await.is_err());
    fleet.shutdown().await;
}

#[tokio::test]
async fn axis_locks_out_an_address_after_repeated_failures() {
    let fleet = fleet(Flavour::Axis, 3).await;
    let cam = &fleet.cameras()[0];
    let http = VendorHttp::new(&cam.device_url()).expect("valid URL");
    axis::set_root_password(&http, PASSWORD)
        .await
        .expect("root set");
    let wrong = http.login(Credentials::new(axis::ROOT, "wrong-one"));
    for _ in 0..2 {
        let e = axis::verify_login(&wrong).await.expect_err("refused");
        assert_eq!(refused(&e), Some(&VendorRefusal::NotAuthorized));
    }
    let e = axis::verify_login(&wrong).await.expect_err("refused");
    assert_eq!(refused(&e), Some(&VendorRefusal::LockedOut));
    // While locked, even the right password is refused.
    let right = http.login(Credentials::new(axis::ROOT, PASSWORD));
    let e = axis::verify_login(&right).await.expect_err("locked");
    assert_eq!(refused(&e), Some(&VendorRefusal::LockedOut));
    fleet.shutdown().await;
}

#[tokio::test]
async fn hikvision_factory_to_admin_and_onvif_user() {
    let fleet = fleet(Flavour::Hikvision, 5).await;
    let cam = &fleet.cameras()[0];
    let http = VendorHttp::new(&cam.device_url()).expect("valid URL");

    assert_eq!(
        hikvision::activation_status(&http).await.expect("answers"),
        Some(false)
    );
    // ONVIF is off out of the box.
    let anon = onvif(&cam.device_url(), None);
    assert!(anon.sync_clock().await.is_err());

    hikvision::activate(&http, PASSWORD)
        .await
        .expect("activated");
    assert_eq!(
        hikvision::activation_status(&http).await.expect("answers"),
        Some(true)
    );
    // Activation is closed afterwards.
    let again = hikvision::activate(&http, "Other-pass-42")
        .await
        .expect_err("refused");
    assert_eq!(refused(&again), Some(&VendorRefusal::AlreadyConfigured));

    let admin = http.login(Credentials::new(hikvision::ADMIN, PASSWORD));
    hikvision::verify_login(&admin)
        .await
        .expect("admin logs in");
    let e = hikvision::enable_onvif(&http)
        .await
        .expect_err("needs login");
    assert_eq!(refused(&e), Some(&VendorRefusal::NotAuthorized));
    hikvision::enable_onvif(&admin)
        .await
        .expect("ONVIF enabled");
    hikvision::add_onvif_user(&admin, "camward", PASSWORD, OnvifUserType::Administrator)
        .await
        .expect("ONVIF user created");

    let onvif_admin = onvif(
        &cam.device_url(),
        Some(Credentials::new("camward", PASSWORD)),
    );
    onvif_admin.sync_clock().await.expect("clock");
    onvif_admin
        .get_device_information()
        .await
        .expect("ONVIF login works");
    anon.sync_clock().await.expect("pre-auth clock read");
    assert!(matches!(
        anon.get_device_information().await,
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized))
    ));
    // The ISAPI admin is not an ONVIF account: the lists are separate.
    let isapi_only = onvif(&cam.device_url(), Some(Credentials::new("admin", PASSWORD)));
    isapi_only.sync_clock().await.expect("clock");
    assert!(isapi_only.get_device_information().await.is_err());
    fleet.shutdown().await;
}

#[tokio::test]
async fn hikvision_refuses_a_weak_password_and_stays_inactive() {
    let fleet = fleet(Flavour::Hikvision, 5).await;
    let cam = &fleet.cameras()[0];
    let http = VendorHttp::new(&cam.device_url()).expect("valid URL");
    for weak in ["short1A", "alllowercaseonly", "ThisIsSeventeen17"] {
        let e = hikvision::activate(&http, weak).await.expect_err("weak");
        assert_eq!(refused(&e), Some(&VendorRefusal::WeakPassword), "{weak}");
    }
    assert_eq!(
        hikvision::activation_status(&http).await.expect("answers"),
        Some(false)
    );
    assert!(!cam.state().vendor.activated);
    fleet.shutdown().await;
}

#[tokio::test]
async fn hikvision_locks_out_an_address_after_repeated_failures() {
    let fleet = fleet(Flavour::Hikvision, 3).await;
    let cam = &fleet.cameras()[0];
    let http = VendorHttp::new(&cam.device_url()).expect("valid URL");
    hikvision::activate(&http, PASSWORD)
        .await
        .expect("activated");
    let wrong = http.login(Credentials::new(hikvision::ADMIN, "Wrong-pass-1"));
    for _ in 0..2 {
        let e = hikvision::verify_login(&wrong).await.expect_err("refused");
        assert_eq!(refused(&e), Some(&VendorRefusal::NotAuthorized));
    }
    let e = hikvision::verify_login(&wrong).await.expect_err("refused");
    assert_eq!(refused(&e), Some(&VendorRefusal::LockedOut));
    let right = http.login(Credentials::new(hikvision::ADMIN, PASSWORD));
    let e = hikvision::verify_login(&right).await.expect_err("locked");
    assert_eq!(refused(&e), Some(&VendorRefusal::LockedOut));
    fleet.shutdown().await;
}

#[tokio::test]
async fn generic_camera_offers_neither_vendor_api() {
    let fleet = fleet(Flavour::Generic, 5).await;
    let http = VendorHttp::new(&fleet.cameras()[0].device_url()).expect("valid URL");
    assert_eq!(axis::root_password(&http).await.expect("answers"), None);
    assert_eq!(
        hikvision::activation_status(&http).await.expect("answers"),
        None
    );
    fleet.shutdown().await;
}
