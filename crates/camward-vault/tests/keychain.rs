//! The real keychain: Secret Service on Linux (a `gnome-keyring-daemon` under `dbus-run-session`,
//! started by `scripts/test.sh`). Outside CI, with no Secret Service on the bus, the test says why it
//! skips; in CI (`CI` set) a missing keychain is a failure.
use camward_vault::{CredentialKey, Keychain, SecretStore, Sensitive, VaultError};

fn keychain_or_skip() -> Option<Keychain> {
    let kc = Keychain::with_service(format!("org.camward.test.{}", std::process::id()));
    let probe = CredentialKey::new("probe", "probe");
    match kc.get(&probe) {
        Ok(_) => Some(kc),
        Err(VaultError::KeychainUnavailable(why)) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: no Secret Service keychain on this session bus ({why}); run ./scripts/test.sh");
            None
        }
        Err(e) => panic!("keychain unusable: {e}"),
    }
}

#[test]
fn secret_round_trips_through_the_os_keychain() {
    let Some(kc) = keychain_or_skip() else { return };
    let key = CredentialKey::new("mac:02:00:00:00:00:01", "admin");
    let secret = Sensitive::new(String::from("Kx9!vRt2#pLm-Q7"));
    kc.set(&key, &secret).unwrap();
    // A second handle (as another process would) reads the same entry from the daemon.
    let again = Keychain::with_service(format!("org.camward.test.{}", std::process::id()));
    assert_eq!(again.get(&key).unwrap().unwrap().expose(), secret.expose());
    kc.set(&key, &Sensitive::new(String::from("replaced-Secret-8"))).unwrap();
    assert_eq!(kc.get(&key).unwrap().unwrap().expose(), "replaced-Secret-8");
    kc.delete(&key).unwrap();
    assert!(kc.get(&key).unwrap().is_none());
    kc.delete(&key).unwrap();
}
