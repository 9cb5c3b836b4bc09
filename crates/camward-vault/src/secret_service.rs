//! The keychain's credential on Linux: keyring's Secret Service items, over one session kept for
//! the whole process.
//!
//! keyring's own Secret Service credential opens a new D-Bus connection and a new encrypted
//! (Diffie-Hellman) session for every call, and a write opens two. Measured against
//! gnome-keyring-daemon (`benches/keychain_costs.rs`), those handshakes are most of a call's cost on
//! both sides: a read took 12.5 ms and a new entry 34 ms, where over one kept session they take
//! about 1 ms and 8 ms. The daemon serves one call at a time, so for a batch of cameras that
//! cost is a floor under the whole batch. libsecret keeps one session per process too.
//!
//! So `Keychain` hands keyring this credential instead (`keyring::Entry::new_with_credential`). It
//! uses the same library as keyring (dbus-secret-service) and exactly keyring's item layout —
//! the attributes `service`, `username`, `target` = `default` and `application`, in the default
//! collection — so entries written by earlier Camward versions, through keyring's stock
//! credential, are read, replaced and deleted as before, and the other way round
//! (`tests/keychain.rs`). Entries of keyring v1, which had no `target`, are not looked for:
//! Camward never wrote any.
//!
//! The session is asked again once, on a new connection, when the first answer says that it is
//! gone: the daemon left the bus during the call, or a daemon started again by the bus does not
//! know the session. Every call here is idempotent — a read, a write of the same secret under the
//! same name, a delete —, so asking again can neither duplicate nor lose a secret.
use std::collections::HashMap;
use std::sync::Mutex;

use dbus_secret_service::{EncryptionType, Error, SecretService};
use keyring::credential::{Credential, CredentialApi};

/// The process's one Secret Service session, made on first use.
static SESSION: Mutex<Option<SecretService>> = Mutex::new(None);

/// Pause before asking a daemon that left the bus again, so the bus has seen it go.
const AFTER_PEER_LEFT: std::time::Duration = std::time::Duration::from_millis(250);

/// A keyring credential for `user` under `service`, stored as keyring's Secret Service credential
/// stores it.
pub(crate) fn credential(service: &str, user: &str) -> Box<Credential> {
    Box::new(SharedSessionCredential {
        service: service.to_owned(),
        user: user.to_owned(),
    })
}

/// keyring's default target: the collection behind the `default` alias.
const TARGET: &str = "default";

#[derive(Debug)]
struct SharedSessionCredential {
    service: String,
    user: String,
}

impl SharedSessionCredential {
    /// The attributes an item is found by: keyring's `search_attributes`.
    fn search(&self) -> HashMap<&str, &str> {
        HashMap::from([
            ("target", TARGET),
            ("service", self.service.as_str()),
            ("username", self.user.as_str()),
        ])
    }

    /// Runs `f` on the one matching item, unlocked; `NoEntry` when there is none.
    fn with_item<T>(
        &self,
        f: impl Fn(&dbus_secret_service::Item<'_>) -> Result<T, Error>,
    ) -> keyring::Result<T> {
        let found = in_session(|ss| {
            let search = ss.search_items(self.search())?;
            let mut items = search.unlocked.iter().chain(search.locked.iter());
            match (items.next(), items.next()) {
                (None, _) => Ok(None),
                (Some(_), Some(_)) => Ok(Some(Err(()))),
                (Some(item), None) => {
                    item.ensure_unlocked()?;
                    f(item).map(|v| Some(Ok(v)))
                }
            }
        })?;
        match found {
            None => Err(keyring::Error::NoEntry),
            Some(Ok(v)) => Ok(v),
            // keyring answers an ambiguous match with the credentials of every match; Camward
            // writes each name once, so two items for one name are someone else's doing.
            Some(Err(())) => Err(keyring::Error::Invalid(
                "keychain entry".to_owned(),
                format!(
                    "more than one item for {}@{}; remove the extra one",
                    self.user, self.service
                ),
            )),
        }
    }
}

impl CredentialApi for SharedSessionCredential {
    fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
        match self.with_item(|item| item.set_secret(secret, "text/plain")) {
            Err(keyring::Error::NoEntry) => {}
            other => return other,
        }
        let label = format!("{}@{}:{TARGET} (camward)", self.user, self.service);
        in_session(|ss| {
            let collection = ss.get_default_collection()?;
            collection.ensure_unlocked()?;
            let mut attributes = self.search();
            attributes.insert("application", "rust-keyring");
            collection.create_item(&label, attributes, secret, true, "text/plain")?;
            Ok(())
        })
    }

    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        self.with_item(|item| item.get_secret())
    }

    fn delete_credential(&self) -> keyring::Result<()> {
        self.with_item(|item| item.delete())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Runs `call` in the process's session, making the session first if there is none, and once more
/// in a new session when the first answer says the old one is gone.
fn in_session<T>(call: impl Fn(&SecretService) -> Result<T, Error>) -> keyring::Result<T> {
    // A panic while holding the lock leaves at worst a session that the next stale answer replaces.
    let mut slot = SESSION.lock().unwrap_or_else(|p| p.into_inner());
    asking_again_once(
        &mut slot,
        || SecretService::connect(EncryptionType::Dh),
        call,
        std::thread::sleep,
    )
    .map_err(keyring_error)
}

/// What kept session `slot` does with `call`: the session is made by `connect` when there is none,
/// and dropped when an answer says it is gone; then, the first time, `call` is made once more in a
/// new one (after `pause`, when the daemon left the bus).
fn asking_again_once<S, T>(
    slot: &mut Option<S>,
    connect: impl Fn() -> Result<S, Error>,
    call: impl Fn(&S) -> Result<T, Error>,
    pause: impl Fn(std::time::Duration),
) -> Result<T, Error> {
    let mut asked_again = false;
    loop {
        let session = match slot {
            Some(s) => s,
            None => slot.insert(connect()?),
        };
        match call(session) {
            Err(e) => match gone(&e) {
                Some(why) => {
                    *slot = None;
                    if asked_again {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "the keychain session is gone; asking once more in a new one");
                    if why == Gone::PeerLeft {
                        pause(AFTER_PEER_LEFT);
                    }
                    asked_again = true;
                }
                None => return Err(e),
            },
            ok => return ok,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Gone {
    /// The daemon left the bus without answering (it died or was replaced during the call).
    PeerLeft,
    /// Our connection to the bus is closed, or the daemon answering does not know our session
    /// (the bus started it again since).
    Session,
}

/// libdbus's text for a call whose peer left the bus before it replied
/// (`org.freedesktop.DBus.Error.NoReply`; a plain time-out has the same name and another text).
const PEER_LEFT: &str = "disconnected from message bus without replying";

fn gone(e: &Error) -> Option<Gone> {
    let Error::Dbus(e) = e else { return None };
    match e.name() {
        Some("org.freedesktop.DBus.Error.NoReply")
            if e.message().is_some_and(|m| m.contains(PEER_LEFT)) =>
        {
            Some(Gone::PeerLeft)
        }
        Some(
            "org.freedesktop.DBus.Error.Disconnected"
            | "org.freedesktop.Secret.Error.NoSession"
            | "org.freedesktop.DBus.Error.UnknownObject",
        ) => Some(Gone::Session),
        _ => None,
    }
}

/// keyring's own mapping of a Secret Service failure (`keyring::secret_service::decode_error`).
fn keyring_error(e: Error) -> keyring::Error {
    match e {
        Error::Locked | Error::NoResult | Error::Prompt => {
            keyring::Error::NoStorageAccess(Box::new(e))
        }
        other => keyring::Error::PlatformFailure(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn dbus(name: &str, message: &str) -> Error {
        Error::Dbus(dbus::Error::new_custom(name, message))
    }

    fn peer_left() -> Error {
        dbus(
            "org.freedesktop.DBus.Error.NoReply",
            "Message recipient disconnected from message bus without replying",
        )
    }

    /// A session that is told apart from a new one by the number it was made with.
    struct Fake(u32);

    #[test]
    fn one_session_serves_every_call_until_it_is_gone() {
        let made = Cell::new(0);
        let connect = || {
            made.set(made.get() + 1);
            Ok(Fake(made.get()))
        };
        let mut slot = None;
        for _ in 0..3 {
            let n = asking_again_once(&mut slot, connect, |s| Ok(s.0), |_| {}).unwrap();
            assert_eq!(n, 1);
        }
        assert_eq!(made.get(), 1);
    }

    #[test]
    fn a_call_whose_session_is_gone_is_made_once_more_in_a_new_one_and_only_once() {
        for (first, paused) in [
            (peer_left(), true),
            (
                dbus(
                    "org.freedesktop.Secret.Error.NoSession",
                    "The session does not exist",
                ),
                false,
            ),
        ] {
            let made = Cell::new(0);
            let connect = || {
                made.set(made.get() + 1);
                Ok(Fake(made.get()))
            };
            let pauses = Cell::new(0);
            let pause = |d: std::time::Duration| {
                assert_eq!(d, AFTER_PEER_LEFT);
                pauses.set(pauses.get() + 1);
            };
            let mut slot = Some(Fake(0));
            let failure = Cell::new(Some(first));
            let answered = asking_again_once(
                &mut slot,
                connect,
                |s| match failure.take() {
                    Some(e) => Err(e),
                    None => Ok(s.0),
                },
                pause,
            );
            assert_eq!(answered.unwrap(), 1, "answered in the new session");
            assert_eq!((made.get(), pauses.get()), (1, u32::from(paused)));

            // Gone twice: the second failure is the caller's, and no session is kept.
            let calls = Cell::new(0);
            let twice = asking_again_once(
                &mut slot,
                || Ok(Fake(9)),
                |_| -> Result<(), _> {
                    calls.set(calls.get() + 1);
                    Err(peer_left())
                },
                |_| {},
            );
            assert!(twice.is_err());
            assert_eq!(calls.get(), 2);
            assert!(slot.is_none());
        }
    }

    #[test]
    fn a_refusal_or_a_time_out_is_not_asked_again_and_keeps_the_session() {
        for refusal in [
            Error::Locked,
            Error::Prompt,
            dbus(
                "org.freedesktop.DBus.Error.NoReply",
                "Did not receive a reply. Possible causes include: the remote application did not send a reply",
            ),
            dbus(
                "org.freedesktop.Secret.Error.IsLocked",
                "Cannot create an item in a locked collection",
            ),
        ] {
            let calls = Cell::new(0);
            let mut slot = Some(Fake(0));
            let failure = Cell::new(Some(refusal));
            let answered = asking_again_once(
                &mut slot,
                || Ok(Fake(1)),
                |_| -> Result<(), _> {
                    calls.set(calls.get() + 1);
                    Err(failure.take().unwrap_or(Error::Parse))
                },
                |_| panic!("no pause"),
            );
            assert!(answered.is_err());
            assert_eq!(calls.get(), 1);
            assert!(matches!(slot, Some(Fake(0))), "the session is kept");
        }
    }

    #[test]
    fn failures_map_as_keyring_maps_them() {
        assert!(matches!(
            keyring_error(Error::Locked),
            keyring::Error::NoStorageAccess(_)
        ));
        assert!(matches!(
            keyring_error(Error::Unavailable),
            keyring::Error::PlatformFailure(_)
        ));
    }
}
