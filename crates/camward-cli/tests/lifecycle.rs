//! `camward init-admin`, `rotate`, `credentials` and `inventory` against camsim fleets on
//! 127.0.0.1, with the real OS keychain (Secret Service) and a private SQLite file per test.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use camsim::InitialState;
use common::{camera_password, contains, fleet, runtime, text, TestVault, FACTORY_ADMIN_PASSWORD};

fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn init_admin_on_a_factory_fleet_gives_each_camera_its_own_working_admin() {
    let Some(vault) = TestVault::new_or_skip("init") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 3, InitialState::Factory, 0);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();

    let mut args = vec!["init-admin"];
    args.extend(urls[..2].iter().map(String::as_str));
    let out = vault.run(&args, None);
    assert_ok(&out);
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.matches("administrator created").count(),
        2,
        "{stdout}"
    );

    let mut seen = Vec::new();
    for (cam, url) in fleet.cameras()[..2].iter().zip(&urls) {
        let on_camera = camera_password(cam, "admin").expect("admin created");
        let in_vault = vault
            .current(url, "admin")
            .expect("password in the keychain");
        assert_eq!(on_camera, in_vault);
        // Without --show-password the password is nowhere in the output or the logs.
        assert!(!contains(&out.stdout, &on_camera));
        assert!(!contains(&out.stderr, &on_camera));
        assert!(!contains(&vault.sqlite_bytes(), &on_camera));
        assert!(!cam.is_locked_out());
        seen.push(on_camera);

        // The admin works (a full login through `info`, password from the keychain) …
        let info = vault.run(&["info", url, "--user", "admin"], None);
        assert_ok(&info);
        // … and the unauthenticated path is closed.
        let probe = vault.run(&["probe", url, "--json"], None);
        assert_ok(&probe);
        let report: serde_json::Value = serde_json::from_slice(&probe.stdout).unwrap();
        assert_eq!(report["anonymous_access"], false, "{report}");
    }
    assert_ne!(seen[0], seen[1], "each camera gets its own password");

    // --show-password prints it to stdout only.
    let out = vault.run(&["init-admin", &urls[2], "--show-password"], None);
    assert_ok(&out);
    let password = camera_password(&fleet.cameras()[2], "admin").unwrap();
    assert!(contains(&out.stdout, &password));
    assert!(!contains(&out.stderr, &password));

    // A second init-admin is refused: the camera is no longer factory-fresh.
    let again = vault.run(&["init-admin", &urls[0]], None);
    assert_eq!(again.status.code(), Some(4), "{}", text(&again.stdout));
    assert!(text(&again.stdout).contains("not_factory_fresh"));

    // The inventory knows the three cameras; the credential list names keys, never secrets.
    let list = vault.run(&["inventory", "list"], None);
    assert_ok(&list);
    assert_eq!(
        text(&list.stdout).lines().count(),
        3,
        "{}",
        text(&list.stdout)
    );
    let show = vault.run(&["inventory", "show", &urls[0]], None);
    assert_ok(&show);
    assert!(text(&show.stdout).contains("camera.first_admin_created"));
    let creds = vault.run(&["credentials", "list"], None);
    assert_ok(&creds);
    assert_eq!(text(&creds.stdout).lines().count(), 3);
    for p in seen.iter().chain([&password]) {
        assert!(!contains(&creds.stdout, p));
        assert!(!contains(&show.stdout, p));
    }
    rt.block_on(fleet.shutdown());
}

#[test]
fn a_weak_typed_password_is_refused_with_the_policy_reason_and_nothing_is_sent() {
    let Some(vault) = TestVault::new_or_skip("weak") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Factory, 0);
    let url = fleet.cameras()[0].device_url();
    let out = vault.run(
        &["init-admin", &url, "--password-stdin"],
        Some("password123\n"),
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("weak_password"), "{stdout}");
    assert!(stdout.contains("needs an upper-case letter"), "{stdout}");
    assert!(!contains(&out.stdout, "password123"));
    assert!(!contains(&out.stderr, "password123"));
    // Nothing reached the camera or the vault.
    assert!(fleet.cameras()[0].state().users.is_empty());
    assert!(vault.current(&url, "admin").is_none());

    // A typed password is for one camera: two targets would share it.
    let out = vault.run(
        &["init-admin", &url, "127.0.0.1:1", "--password-stdin"],
        Some("Tq4!rVw9#Kd2-Hs7\n"),
    );
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr).contains("[shared_password]"),
        "{}",
        text(&out.stderr)
    );
    assert!(fleet.cameras()[0].state().users.is_empty());

    // A strong typed password is accepted and becomes the camera's.
    let strong = "Tq4!rVw9#Kd2-Hs7";
    let out = vault.run(
        &["init-admin", &url, "--password-stdin"],
        Some(&format!("{strong}\n")),
    );
    assert_ok(&out);
    assert_eq!(
        camera_password(&fleet.cameras()[0], "admin").as_deref(),
        Some(strong)
    );
    assert!(!contains(&vault.sqlite_bytes(), strong));
    rt.block_on(fleet.shutdown());
}

#[test]
fn rotate_a_configured_fleet_and_a_secondary_user() {
    let Some(vault) = TestVault::new_or_skip("rotate") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 3, InitialState::Configured, 0);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    for url in &urls {
        vault.set_password(url, "admin", FACTORY_ADMIN_PASSWORD);
    }
    // A camera that is down does not stop the batch.
    vault.set_password("127.0.0.1:1", "admin", FACTORY_ADMIN_PASSWORD);
    let mut args = vec!["rotate", "--concurrency", "2"];
    args.extend(urls.iter().map(String::as_str));
    args.push("127.0.0.1:1");
    let out = vault.run(&args, None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches(": rotated").count(), 3, "{stdout}");
    assert!(
        stdout.contains("failed  host:127.0.0.1:1 admin"),
        "{stdout}"
    );
    assert!(stdout.contains("[unreachable]"), "{stdout}");
    assert_ok(&vault.run(
        &["credentials", "forget", "127.0.0.1:1", "--user", "admin"],
        None,
    ));

    for (cam, url) in fleet.cameras().iter().zip(&urls) {
        let on_camera = camera_password(cam, "admin").unwrap();
        assert_ne!(on_camera, FACTORY_ADMIN_PASSWORD);
        assert_eq!(
            vault.current(url, "admin").as_deref(),
            Some(on_camera.as_str())
        );
        // The only failed login is the check that the old password is refused.
        assert_eq!(cam.failed_logins(), 1);
        assert!(!cam.is_locked_out());
        assert!(!contains(&out.stdout, &on_camera) && !contains(&out.stderr, &on_camera));
        assert!(!contains(&vault.sqlite_bytes(), &on_camera));
    }

    // A secondary user: created on camera 0 with a known password, then rotated by the admin.
    let operator_password = "Jm8#pQ3v!Xw6-Tz2";
    let admin_password = camera_password(&fleet.cameras()[0], "admin").unwrap();
    rt.block_on(async {
        let camera = camward_core::session::open(&urls[0]).unwrap();
        camera.sync_clock().await.unwrap();
        camera.set_credentials(
            Some(camward_onvif::Credentials::new(
                "admin",
                admin_password.as_str(),
            )),
            camward_onvif::AuthMode::Auto,
        );
        camera
            .create_users(&[camward_onvif::device::User {
                username: "operator1".into(),
                password: Some(operator_password.into()),
                level: camward_onvif::device::UserLevel::Operator,
            }])
            .await
            .unwrap();
    });
    vault.set_password(&urls[0], "operator1", operator_password);
    let out = vault.run(&["rotate", &urls[0], "--user", "operator1"], None);
    assert_ok(&out);
    let cam = &fleet.cameras()[0];
    let new_operator = camera_password(cam, "operator1").unwrap();
    assert_ne!(new_operator, operator_password);
    assert_eq!(
        vault.current(&urls[0], "operator1").as_deref(),
        Some(new_operator.as_str())
    );
    // The administrator's password did not change.
    assert_eq!(camera_password(cam, "admin").unwrap(), admin_password);
    let level = cam
        .state()
        .users
        .iter()
        .find(|u| u.name == "operator1")
        .map(|u| format!("{:?}", u.level))
        .unwrap();
    assert!(level.contains("Operator"), "{level}");

    // Rotating with a wrong stored password stops after one failed login and changes nothing.
    vault.set_password(&urls[1], "admin", "Wrong-Password-77!");
    let before = camera_password(&fleet.cameras()[1], "admin").unwrap();
    let out = vault.run(&["rotate", &urls[1]], None);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("not_authorized"));
    assert_eq!(
        camera_password(&fleet.cameras()[1], "admin").unwrap(),
        before
    );
    assert!(fleet.cameras()[1].failed_logins() <= 2);

    // Escrow round trip: export, forget, import, and the keychain holds the same passwords again.
    let escrow = vault.dir.path().join("site.age");
    let out = vault.run(
        &[
            "credentials",
            "export",
            "--out",
            escrow.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        Some("a long hand-over passphrase\n"),
    );
    assert_ok(&out);
    let sealed = std::fs::read(&escrow).unwrap();
    assert!(!contains(&sealed, &admin_password));
    let out = vault.run(
        &["credentials", "forget", &urls[2], "--user", "admin"],
        None,
    );
    assert_ok(&out);
    assert!(vault.current(&urls[2], "admin").is_none());
    let out = vault.run(
        &[
            "credentials",
            "import",
            escrow.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        Some("a long hand-over passphrase\n"),
    );
    assert_ok(&out);
    assert_eq!(
        vault.current(&urls[2], "admin"),
        camera_password(&fleet.cameras()[2], "admin")
    );
    rt.block_on(fleet.shutdown());
}

#[test]
fn canon_and_i_pro_first_boot_is_a_guided_step_that_camward_verifies() {
    let Some(vault) = TestVault::new_or_skip("guided") else {
        return;
    };
    let rt = runtime();
    for flavour in [camsim::Flavour::Canon, camsim::Flavour::IPro] {
        let fleet = rt
            .block_on(camsim::Fleet::start(camsim::FleetConfig {
                flavour,
                ..camsim::FleetConfig::default()
            }))
            .unwrap();
        let cam = &fleet.cameras()[0];
        let url = cam.device_url();

        // Camward cannot send the administrator: it shows the page and the password, keeps the
        // password pending, and says it waits for the person (exit 6).
        let out = vault.run(&["init-admin", &url], None);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(6),
            "{stdout}\n{}",
            text(&out.stderr)
        );
        assert!(stdout.contains("waiting "), "{stdout}");
        let origin = url.trim_end_matches("/onvif/device_service");
        assert!(stdout.contains(&format!("open {origin}/")), "{stdout}");
        let password = stdout
            .lines()
            .find_map(|l| {
                l.split_once("with the password: ")
                    .map(|(_, p)| p.trim().to_owned())
            })
            .expect("the password is shown to the person");
        assert!(password.len() >= 12, "{password}");
        assert!(!contains(&out.stderr, &password));
        assert!(!contains(&vault.sqlite_bytes(), &password));
        assert!(cam.state().users.is_empty(), "nothing was sent");
        assert!(
            vault.current(&url, "admin").is_none(),
            "not current until verified"
        );

        // Confirming before the person acted changes nothing; neither does a resume.
        let early = vault.run(&["init-admin", "--confirm", &url], None);
        assert_eq!(early.status.code(), Some(6), "{}", text(&early.stdout));
        assert!(text(&early.stdout).contains("guided_step_pending"));
        let resume = vault.run(&["rotate", "--resume"], None);
        assert_ok(&resume);
        assert!(
            text(&resume.stdout).contains("awaiting_person"),
            "{}",
            text(&resume.stdout)
        );

        // The test plays the person: the camera's first-access page, filled in as a browser would.
        rt.block_on(async {
            let http = camward_vendors::VendorHttp::new(&url).unwrap();
            let page = http.send("GET", "/", None, Vec::new()).await.unwrap();
            assert!(String::from_utf8_lossy(&page.body).contains("first-access"));
            let form: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("user", "admin")
                .append_pair("password", &password)
                .append_pair("confirm", &password)
                .finish();
            let r = http
                .send(
                    "POST",
                    "/first-access",
                    Some("application/x-www-form-urlencoded"),
                    form.into_bytes(),
                )
                .await
                .unwrap();
            assert_eq!(r.status, 200);
        });

        let done = vault.run(&["init-admin", "--confirm", &url], None);
        assert_ok(&done);
        assert!(text(&done.stdout).contains("administrator created"));
        assert!(!contains(&done.stdout, &password));
        assert_eq!(
            vault.current(&url, "admin").as_deref(),
            Some(password.as_str())
        );
        assert_eq!(
            camera_password(cam, "admin").as_deref(),
            Some(password.as_str())
        );
        let show = vault.run(&["inventory", "show", &url], None);
        assert!(text(&show.stdout).contains("camera.first_admin_created"));
        assert!(text(&show.stdout).contains("camera.first_admin_guided"));
        // And the rest of Camward logs in with it.
        assert_ok(&vault.run(&["info", &url, "--user", "admin"], None));
        rt.block_on(fleet.shutdown());
    }
}

#[test]
fn init_admin_on_a_mixed_factory_fleet_creates_what_it_can_and_guides_the_rest() {
    let Some(vault) = TestVault::new_or_skip("mix") else {
        return;
    };
    let rt = runtime();
    // Generic ONVIF, Axis, Hikvision, Canon, i-PRO, in that order.
    let fleet = rt
        .block_on(camsim::Fleet::start(camsim::FleetConfig {
            cameras: 5,
            flavour: camsim::Flavour::Mix,
            ..camsim::FleetConfig::default()
        }))
        .unwrap();
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    let mut args = vec!["init-admin"];
    args.extend(urls.iter().map(String::as_str));
    let out = vault.run(&args, None);
    let stdout = text(&out.stdout);
    // Three created, two waiting for a person: exit 6, nothing failed.
    assert_eq!(
        out.status.code(),
        Some(6),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(
        stdout.matches("administrator created").count(),
        3,
        "{stdout}"
    );
    assert_eq!(stdout.matches("waiting ").count(), 2, "{stdout}");
    assert!(!stdout.contains("failed"), "{stdout}");
    for url in &urls[..3] {
        let password = vault
            .current(url, "admin")
            .expect("current in the keychain");
        // Hikvision takes at most 16 characters; the generator kept to that.
        assert!(password.chars().count() <= 20);
        assert!(!contains(&out.stdout, &password) && !contains(&out.stderr, &password));
        assert_ok(&vault.run(&["info", url, "--user", "admin"], None));
    }
    let hikvision = vault.current(&urls[2], "admin").unwrap();
    assert!(hikvision.chars().count() <= 16, "{}", hikvision.len());
    for url in &urls[3..] {
        assert!(
            vault.current(url, "admin").is_none(),
            "guided: pending, not current"
        );
    }
    rt.block_on(fleet.shutdown());
}
