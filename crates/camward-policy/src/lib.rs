//! Password policy and generator.
//!
//! The rule set is the union of both hardening guides (`../shared/hardening-catalog.md`,
//! control `password-policy`):
//! - Canon: at least 10 characters, upper and lower case, no common words or easy strings;
//! - i-PRO: at least three of upper / lower / digit / symbol, must not contain the user name;
//!
//! plus zxcvbn (score ≥ 3, with the user name, model and host name as user inputs so a password built
//! from them is rated weak) and the device's own limits (ONVIF `MaxPasswordLength`, character bans).
//! Every failure is a [`Reason`] a person can act on, never a bare number.
//!
//! Beside it: the site plan an installer writes ([`plan`]) and the firmware catalog the user keeps
//! up to date ([`firmware`]).
pub mod draft;
pub mod firmware;
pub mod plan;

use std::fmt;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

/// The shortest password either guide accepts (Canon: 10).
pub const MIN_LENGTH: usize = 10;
/// The zxcvbn score a password must reach (3 = "safely unguessable: moderate protection from an
/// offline slow-hash scenario").
pub const MIN_SCORE: u8 = 3;

/// What the camera itself allows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceLimits {
    /// ONVIF `MaxPasswordLength` (GetServiceCapabilities), when reported.
    pub max_length: Option<usize>,
    /// Characters the camera refuses (vendor rules, e.g. quotes or colons some firmware rejects).
    pub banned: Vec<char>,
    /// Symbols the camera accepts; `None` means any printable ASCII symbol.
    pub allowed_symbols: Option<Vec<char>>,
}

/// Who and what the password is for: used to refuse passwords built from them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Context {
    /// The account's user name.
    pub user: String,
    /// The camera's model, e.g. `VB-H47`.
    pub model: Option<String>,
    /// The camera's host name.
    pub hostname: Option<String>,
}

/// Why a password is refused. `Display` is the sentence shown to a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// Fewer than [`MIN_LENGTH`] characters (Canon).
    TooShort {
        /// Characters in the password.
        length: usize,
        /// The minimum.
        min: usize,
    },
    /// Longer than the camera accepts.
    TooLong {
        /// Characters in the password.
        length: usize,
        /// The camera's maximum.
        max: usize,
    },
    /// No upper-case letter (Canon requires both cases).
    NoUpperCase,
    /// No lower-case letter.
    NoLowerCase,
    /// Fewer than three of upper / lower / digit / symbol (i-PRO).
    TooFewCharacterKinds {
        /// How many kinds the password has.
        kinds: u8,
    },
    /// Contains the user name (i-PRO), in any case.
    ContainsUserName,
    /// Contains the camera's model or host name.
    ContainsDeviceName {
        /// Which name.
        name: String,
    },
    /// A character the camera refuses.
    BannedCharacter {
        /// The character.
        character: char,
    },
    /// Not printable ASCII; many cameras mangle other characters.
    NonAscii,
    /// zxcvbn finds it guessable (common words, keyboard patterns, sequences, dates…).
    Guessable {
        /// zxcvbn score 0–4.
        score: u8,
        /// zxcvbn's warning, when it has one (e.g. "This is a top-10 common password.").
        warning: Option<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::TooShort { length, min } => {
                write!(f, "too short: {length} characters, at least {min} are needed")
            }
            Reason::TooLong { length, max } => {
                write!(f, "too long for this camera: {length} characters, it accepts at most {max}")
            }
            Reason::NoUpperCase => f.write_str("needs an upper-case letter"),
            Reason::NoLowerCase => f.write_str("needs a lower-case letter"),
            Reason::TooFewCharacterKinds { kinds } => write!(
                f,
                "uses {kinds} of the four kinds of character; use at least three of upper case, lower case, digits and symbols"
            ),
            Reason::ContainsUserName => f.write_str("contains the user name"),
            Reason::ContainsDeviceName { name } => write!(f, "contains the camera's name {name:?}"),
            Reason::BannedCharacter { character } => {
                write!(f, "contains {character:?}, which this camera does not accept")
            }
            Reason::NonAscii => f.write_str(
                "contains characters outside printable ASCII, which cameras often mangle",
            ),
            Reason::Guessable { warning, .. } => match warning {
                Some(w) => write!(f, "easy to guess: {w}"),
                None => f.write_str("easy to guess: avoid common words, names, dates and keyboard patterns"),
            },
        }
    }
}

/// The result of checking a password: empty `reasons` means accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// zxcvbn score 0–4.
    pub score: u8,
    /// Every rule the password breaks.
    pub reasons: Vec<Reason>,
}

impl Verdict {
    /// True when no rule is broken.
    pub fn is_ok(&self) -> bool {
        self.reasons.is_empty()
    }
}

fn is_symbol(c: char) -> bool {
    c.is_ascii_punctuation() || c == ' '
}

/// Checks `password` against both guides, zxcvbn and the camera's limits.
pub fn check(password: &str, ctx: &Context, limits: &DeviceLimits) -> Verdict {
    let mut reasons = Vec::new();
    let length = password.chars().count();
    if length < MIN_LENGTH {
        reasons.push(Reason::TooShort {
            length,
            min: MIN_LENGTH,
        });
    }
    if let Some(max) = limits.max_length {
        if length > max {
            reasons.push(Reason::TooLong { length, max });
        }
    }
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let symbol = password.chars().any(is_symbol);
    if !upper {
        reasons.push(Reason::NoUpperCase);
    }
    if !lower {
        reasons.push(Reason::NoLowerCase);
    }
    let kinds = [upper, lower, digit, symbol].iter().filter(|k| **k).count() as u8;
    if kinds < 3 {
        reasons.push(Reason::TooFewCharacterKinds { kinds });
    }
    let folded = password.to_lowercase();
    if !ctx.user.is_empty() && folded.contains(&ctx.user.to_lowercase()) {
        reasons.push(Reason::ContainsUserName);
    }
    for name in [&ctx.model, &ctx.hostname].into_iter().flatten() {
        // Names of three characters or fewer ("VB") would refuse too much for too little.
        if name.chars().count() > 3 && folded.contains(&name.to_lowercase()) {
            reasons.push(Reason::ContainsDeviceName { name: name.clone() });
        }
    }
    if password
        .chars()
        .any(|c| !(c.is_ascii_graphic() || c == ' '))
    {
        reasons.push(Reason::NonAscii);
    }
    let mut seen = Vec::new();
    for c in password.chars() {
        let banned = limits.banned.contains(&c)
            || (is_symbol(c)
                && limits
                    .allowed_symbols
                    .as_ref()
                    .is_some_and(|allowed| !allowed.contains(&c)));
        if banned && !seen.contains(&c) {
            seen.push(c);
            reasons.push(Reason::BannedCharacter { character: c });
        }
    }
    let mut inputs: Vec<&str> = vec![ctx.user.as_str()];
    inputs.extend(ctx.model.as_deref());
    inputs.extend(ctx.hostname.as_deref());
    let (score, warning) = strength::rate(password, &inputs);
    if score < MIN_SCORE {
        reasons.push(Reason::Guessable { score, warning });
    }
    Verdict { score, reasons }
}

/// zxcvbn's rating, remembered for the passwords this process rated last.
///
/// zxcvbn is the dearest part of a check (0.2–1 ms for a 20-character password, against
/// microseconds for the rules), and a commission rates the same password three times: when it is
/// generated, and in the audits before and after. The memory holds no password: each entry is
/// found by a SHA-256 over a random key drawn once per process, the password and the user inputs,
/// so an entry cannot be matched to a password without that key, which never leaves this module.
mod strength {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use rand::RngCore;
    use sha2::{Digest, Sha256};

    /// Enough for a few batches of cameras; when full, the memory starts again empty.
    const CAPACITY: usize = 4096;

    /// zxcvbn's score and warning.
    type Rating = (u8, Option<String>);

    struct Memory {
        key: [u8; 32],
        rated: Mutex<HashMap<[u8; 32], Rating>>,
    }

    fn memory() -> &'static Memory {
        static MEMORY: OnceLock<Memory> = OnceLock::new();
        MEMORY.get_or_init(|| {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            Memory {
                key,
                rated: Mutex::new(HashMap::new()),
            }
        })
    }

    /// Length-prefixed fields, so that no two different inputs hash the same bytes.
    fn id(key: &[u8; 32], password: &str, inputs: &[&str]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(key);
        for field in std::iter::once(password).chain(inputs.iter().copied()) {
            h.update((field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
        }
        h.finalize().into()
    }

    /// The zxcvbn score and warning of `password` with `inputs` as user inputs.
    pub(super) fn rate(password: &str, inputs: &[&str]) -> Rating {
        let memory = memory();
        let id = id(&memory.key, password, inputs);
        let known = memory
            .rated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
            .cloned();
        if let Some(known) = known {
            return known;
        }
        let entropy = zxcvbn::zxcvbn(password, inputs);
        let score = u8::from(entropy.score());
        let warning = entropy
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| w.to_string());
        let mut map = memory
            .rated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(id, (score, warning.clone()));
        (score, warning)
    }

    /// Whether a rating of `password` with `inputs` is in memory.
    #[cfg(test)]
    pub(super) fn is_remembered(password: &str, inputs: &[&str]) -> bool {
        let memory = memory();
        memory
            .rated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(&id(&memory.key, password, inputs))
    }
}

/// Builds zxcvbn's dictionaries and matchers, which it does once, on first use: 16–20 ms of CPU
/// (`cargo bench -p camward-cli --bench commission` saw the first camera's password take 19 ms
/// to choose, the next ones under 1 ms). A batch calls this on a blocking thread as it starts,
/// so no camera waits for it between two round trips, nor a worker thread spins meanwhile.
/// Later calls return at once.
pub fn warm_up() {
    static WARM: std::sync::Once = std::sync::Once::new();
    WARM.call_once(|| {
        // A throwaway string, never a password: only the side effect counts.
        let _ = zxcvbn::zxcvbn("camward warm-up", &[]);
    });
}

/// Symbols the generator uses by default: unambiguous and accepted by the cameras we know
/// (no quotes, backslash, colon, ampersand, angle brackets or space, which some firmware or
/// URL-based APIs mishandle).
pub const DEFAULT_SYMBOLS: &[char] = &['!', '#', '%', '+', '-', '=', '?', '@', '^', '_', '~', '*'];

/// Generates a password that passes [`check`] for this camera: random characters from all four
/// kinds, length `min(20, max_length)`. Each call is independent, so every camera gets its own.
pub fn generate(ctx: &Context, limits: &DeviceLimits) -> String {
    generate_with(&mut rand::rngs::OsRng, ctx, limits)
}

/// [`generate`] with a caller's random source (tests use a seeded one).
pub fn generate_with<R: Rng + ?Sized>(rng: &mut R, ctx: &Context, limits: &DeviceLimits) -> String {
    // Look-alike characters (l/1/I, O/0) are left out: people read these passwords off a screen.
    let uppers: Vec<char> = ('A'..='Z').filter(|c| !matches!(c, 'I' | 'O')).collect();
    let lowers: Vec<char> = ('a'..='z').filter(|c| !matches!(c, 'l' | 'o')).collect();
    let digits: Vec<char> = ('2'..='9').collect();
    let symbols: Vec<char> = DEFAULT_SYMBOLS
        .iter()
        .copied()
        .filter(|c| !limits.banned.contains(c))
        .filter(|c| {
            limits
                .allowed_symbols
                .as_ref()
                .is_none_or(|a| a.contains(c))
        })
        .collect();
    let keep = |set: Vec<char>| -> Vec<char> {
        set.into_iter()
            .filter(|c| !limits.banned.contains(c))
            .collect()
    };
    let classes: Vec<Vec<char>> = [keep(uppers), keep(lowers), keep(digits), symbols]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let length = limits.max_length.map_or(20, |m| m.min(20)).max(MIN_LENGTH);
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    loop {
        let mut chars: Vec<char> = classes
            .iter()
            .filter_map(|class| class.choose(rng).copied())
            .collect();
        while chars.len() < length {
            if let Some(c) = all.choose(rng) {
                chars.push(*c);
            }
        }
        chars.shuffle(rng);
        let candidate: String = chars.into_iter().collect();
        // Random 20-character strings essentially always pass; the loop guards the rare draw that
        // happens to spell the user name or a keyboard pattern.
        if check(&candidate, ctx, limits).is_ok() {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ctx(user: &str) -> Context {
        Context {
            user: user.into(),
            model: Some("VB-H47".into()),
            hostname: Some("lobby-cam".into()),
        }
    }

    fn reasons(pw: &str) -> Vec<Reason> {
        check(pw, &ctx("operator"), &DeviceLimits::default()).reasons
    }

    #[test]
    fn canon_rules_length_and_both_cases() {
        assert!(reasons("Tq7#vLm2").contains(&Reason::TooShort { length: 8, min: 10 }));
        assert!(reasons("tq7#vlm2xw9!").contains(&Reason::NoUpperCase));
        assert!(reasons("TQ7#VLM2XW9!").contains(&Reason::NoLowerCase));
        assert!(
            reasons("Tq7#vLm2Xw9!").is_empty(),
            "{:?}",
            reasons("Tq7#vLm2Xw9!")
        );
    }

    #[test]
    fn ipro_rules_three_kinds_and_no_user_name() {
        // Upper and lower only: two kinds, refused; adding digits makes three.
        assert!(reasons("QuietHarborLantern").contains(&Reason::TooFewCharacterKinds { kinds: 2 }));
        assert!(!reasons("QuietHarbor7Lantern")
            .iter()
            .any(|r| matches!(r, Reason::TooFewCharacterKinds { .. })));
        let with_user = reasons("Operator#7Zq!x");
        assert!(
            with_user.contains(&Reason::ContainsUserName),
            "{with_user:?}"
        );
        assert_eq!(
            Reason::ContainsUserName.to_string(),
            "contains the user name"
        );
    }

    #[test]
    fn common_words_and_easy_strings_are_guessable() {
        for weak in [
            "Password123!",
            "Qwerty12345!",
            "Aa1!Aa1!Aa1!",
            "Iloveyou123!",
        ] {
            let r = reasons(weak);
            assert!(
                r.iter().any(|x| matches!(x, Reason::Guessable { .. })),
                "{weak} should be guessable: {r:?}"
            );
        }
        let r = reasons("Password123!");
        let text = r
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        assert!(text.contains("easy to guess"), "{text}");
    }

    #[test]
    fn device_names_and_limits() {
        let r = reasons("Lobby-Cam#2026x");
        assert!(
            r.contains(&Reason::ContainsDeviceName {
                name: "lobby-cam".into()
            }),
            "{r:?}"
        );
        let limits = DeviceLimits {
            max_length: Some(12),
            banned: vec![':'],
            allowed_symbols: None,
        };
        let r = check("Tq7:vLm2Xw9!Zp", &ctx("admin"), &limits).reasons;
        assert!(r.contains(&Reason::TooLong {
            length: 14,
            max: 12
        }));
        assert!(r.contains(&Reason::BannedCharacter { character: ':' }));
        assert_eq!(
            Reason::TooLong {
                length: 14,
                max: 12
            }
            .to_string(),
            "too long for this camera: 14 characters, it accepts at most 12"
        );
    }

    #[test]
    fn a_remembered_rating_is_the_rating_of_that_password_and_those_inputs() {
        // Weak here because it spells the host name; with another host name zxcvbn rates it on
        // its own. A string no other test uses, so no other test's checks are remembered for it.
        let weak = "Lobby-cam-2024!";
        let lobby = ["admin", "VB-H47", "lobby-cam"];
        let gate = ["admin", "VB-H47", "gate"];
        assert!(!strength::is_remembered(weak, &lobby));
        let first = check(weak, &ctx("admin"), &DeviceLimits::default());
        assert!(strength::is_remembered(weak, &lobby));
        assert!(
            !strength::is_remembered(weak, &gate),
            "other inputs are another entry"
        );
        assert!(
            !strength::is_remembered("lobby-cam-2024!", &lobby),
            "another password too"
        );
        assert_eq!(check(weak, &ctx("admin"), &DeviceLimits::default()), first);
        assert_eq!(first.score, u8::from(zxcvbn::zxcvbn(weak, &lobby).score()));
        let other = Context {
            hostname: Some("gate".into()),
            ..ctx("admin")
        };
        let rated = check(weak, &other, &DeviceLimits::default());
        assert_eq!(rated.score, u8::from(zxcvbn::zxcvbn(weak, &gate).score()));
        assert!(rated.score > first.score, "{rated:?} against {first:?}");
    }

    #[test]
    fn non_ascii_is_refused() {
        assert!(reasons("Tq7#vLm2Xw9!é").contains(&Reason::NonAscii));
    }

    #[test]
    fn generated_passwords_pass_and_are_unique() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let limits = DeviceLimits {
            max_length: Some(16),
            banned: vec!['#', '%'],
            allowed_symbols: None,
        };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let pw = generate_with(&mut rng, &ctx("admin"), &limits);
            assert_eq!(pw.chars().count(), 16);
            assert!(!pw.contains('#') && !pw.contains('%'));
            let verdict = check(&pw, &ctx("admin"), &limits);
            assert!(verdict.is_ok(), "{pw}: {:?}", verdict.reasons);
            assert!(seen.insert(pw), "duplicate password generated");
        }
    }

    #[test]
    fn generator_respects_a_symbol_allow_list() {
        let limits = DeviceLimits {
            max_length: None,
            banned: vec![],
            allowed_symbols: Some(vec!['_', '-']),
        };
        let pw = generate(&ctx("admin"), &limits);
        assert!(
            pw.chars()
                .filter(|c| is_symbol(*c))
                .all(|c| c == '_' || c == '-'),
            "{pw}"
        );
        assert!(check(&pw, &ctx("admin"), &limits).is_ok());
    }
}
