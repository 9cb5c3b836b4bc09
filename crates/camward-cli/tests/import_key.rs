//! `camward certs import-key` end to end against camsim on 127.0.0.1 with the real keychain: a
//! PKCS#12 file made by `openssl pkcs12 -export` is installed with its passphrase read from
//! standard input, the camera then presents exactly that certificate (openssl s_client verifies
//! it against the CA), `certs list` shows it, and the passphrase is nowhere: not in the output,
//! not in SQLite. A wrong passphrase is refused with its code and uploads nothing.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::path::Path;
use std::process::Command;

use camsim::InitialState;
use common::certs::{openssl, openssl_ca, port_of};
use common::{contains, fleet, runtime, text, TestVault, FACTORY_ADMIN_PASSWORD};
use serde_json::Value;

const PASSPHRASE: &str = "Pkcs12-Imp0rt-Passphrase";

/// A CA, a serverAuth leaf for 127.0.0.1 with an RSA 2048 key, and the PKCS#12 of both, all by
/// openssl in `dir`.
fn make_pkcs12(dir: &Path) {
    openssl_ca(dir, "Import Test CA", "keyCertSign,cRLSign");
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "leaf.key",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=127.0.0.1",
            "-out",
            "leaf.csr",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-out",
            "leaf.pem",
        ],
    );
    // The passphrase reaches openssl in a file, never on its command line.
    std::fs::write(dir.join("pass"), PASSPHRASE).expect("write");
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-in",
            "leaf.pem",
            "-inkey",
            "leaf.key",
            "-certfile",
            "ca.pem",
            "-passout",
            "file:pass",
            "-out",
            "id.p12",
        ],
    );
    // openssl starts validity at this second; the camera's clock (read to the second) must
    // have reached it.
    std::thread::sleep(std::time::Duration::from_secs(2));
}

#[test]
fn a_pkcs12_from_elsewhere_is_installed_with_its_passphrase_on_stdin_only() {
    let Some(vault) = TestVault::new_or_skip("import-key") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    make_pkcs12(dir.path());
    let p12 = dir.path().join("id.p12");
    let ca = dir.path().join("ca.pem");
    let p12_arg = p12.to_str().unwrap();
    let ca_arg = ca.to_str().unwrap();

    // A wrong passphrase: refused with its code, nothing sent to the camera.
    let out = vault.run(
        &[
            "certs",
            "import-key",
            &url,
            "--p12",
            p12_arg,
            "--ca",
            ca_arg,
            "--passphrase-stdin",
        ],
        Some("not-the-passphrase\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("pkcs12_unreadable"),
        "{}",
        text(&out.stderr)
    );
    assert!(cam.https_url().is_none(), "nothing was installed");

    let out = vault.run(
        &[
            "certs",
            "import-key",
            &url,
            "--p12",
            p12_arg,
            "--ca",
            ca_arg,
            "--passphrase-stdin",
            "--json",
        ],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let done: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let sha = done["sha256"].as_str().unwrap().to_owned();
    for output in [&out.stdout, &out.stderr] {
        assert!(!contains(output, PASSPHRASE), "the passphrase was printed");
    }

    // The camera presents it: openssl s_client verifies it against the CA, by IP.
    let https = cam.https_url().expect("HTTPS is served");
    let port = port_of(&https);
    let s_client = Command::new("timeout")
        .args([
            "20",
            "openssl",
            "s_client",
            "-brief",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-CAfile",
            ca_arg,
            "-verify_return_error",
            "-verify_ip",
            "127.0.0.1",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        text(&s_client.stderr).contains("Verification: OK"),
        "{}",
        text(&s_client.stderr)
    );
    let leaf_der = Command::new("openssl")
        .args(["x509", "-in"])
        .arg(dir.path().join("leaf.pem"))
        .args(["-outform", "DER"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(sha, camward_certs::hex(&camward_certs::sha256(&leaf_der)));

    let list = vault.run(&["certs", "list"], None);
    assert!(text(&list.stdout).contains(&sha), "{}", text(&list.stdout));
    assert!(
        !contains(&vault.sqlite_bytes(), PASSPHRASE),
        "the passphrase reached SQLite"
    );
    rt.block_on(fleet.shutdown());
}
