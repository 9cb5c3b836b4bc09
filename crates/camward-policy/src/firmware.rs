//! The firmware catalog: the newest known firmware per vendor and model, in a TOML file the user
//! can update (control `firmware-current` of `../shared/hardening-catalog.md`: "installed version
//! is the newest known for the model").
//!
//! # Format
//!
//! ```toml
//! updated = 2026-11-15            # when the list was last checked (a TOML local date)
//!
//! [[firmware]]
//! vendor = "Axis"                 # matched ignoring case against the camera's Manufacturer
//! model = "M3086-V"               # the exact model, or a glob with * (e.g. "DS-2CD2*")
//! latest = "11.11.73"             # the newest version known
//! released = 2026-10-02           # its release date, not after `updated`
//! notes = "https://…"             # optional: release notes, advisory
//! ```
//!
//! | key | type | required | rule |
//! |---|---|---|---|
//! | `updated` | date | yes | a date without a time |
//! | `firmware` | array of tables | no (empty catalog) | one per vendor and model pattern, no pattern twice for a vendor (ignoring case) |
//! | `vendor` | string | yes | not empty |
//! | `model` | string | yes | not empty; `*` matches any run of characters, every other character itself |
//! | `latest` | string | yes | holds at least one digit |
//! | `released` | date | yes | a date without a time, not after `updated` |
//! | `notes` | string | no | free text, usually a link |
//!
//! # Matching
//!
//! Vendor and model are compared ignoring case and surrounding blanks. When several entries match
//! a camera the most specific wins ([`FirmwareCatalog::latest_for`]): an exact model over any glob;
//! among globs, the one with more literal characters, then the one with fewer `*`; on a full tie,
//! the entry written first.
//!
//! # Versions
//!
//! [`compare_versions`] orders vendor version strings: each is cut into runs of digits (compared
//! as numbers, any length) and runs of letters (compared ignoring case); everything else separates.
//! A leading `V` / `Ver` / `Version` is ignored and trailing zero parts do not count
//! (`5.7` = `5.7.0`). At the first difference: a number is newer than letters (`1.4.2.1` >
//! `1.4.2a`), letters are newer than nothing (`1.4.2a` > `1.4.2`), except the pre-release words
//! `dev` < `alpha` < `beta` < `pre` < `preview` < `rc`, which are older than nothing
//! (`1.4.2-rc1` < `1.4.2`). A `build` suffix (Hikvision `V5.7.3build 220112`) is compared only when
//! the versions before it are equal, numerically when both have one; a version with a build is
//! newer than the same version without. The order is total: antisymmetric and transitive.
use std::cmp::Ordering;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use time::{Date, Month};
use toml::value::Datetime;

use crate::plan::{read_toml, write_located, Document, Field, TomlClass};

/// One entry of the catalog: the newest firmware known for a vendor's model (or model pattern).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareEntry {
    /// The vendor, as cameras report it in Manufacturer (compared ignoring case).
    pub vendor: String,
    /// The exact model, or a glob with `*`.
    pub model: String,
    /// The newest known version.
    pub latest: String,
    /// Its release date.
    pub released: Date,
    /// Release notes or an advisory, when given.
    pub notes: Option<String>,
}

impl FirmwareEntry {
    /// Whether `model` is a glob rather than an exact model.
    pub fn is_glob(&self) -> bool {
        self.model.contains('*')
    }

    /// Whether this entry is for the camera reporting `vendor` and `model`.
    pub fn matches(&self, vendor: &str, model: &str) -> bool {
        fold(&self.vendor) == fold(vendor) && glob_match(&fold(&self.model), &fold(model))
    }

    /// How specific the model pattern is: larger is more specific.
    fn specificity(&self) -> (bool, usize, std::cmp::Reverse<usize>) {
        let stars = self.model.chars().filter(|&c| c == '*').count();
        let literal = self.model.trim().chars().count() - stars;
        (!self.is_glob(), literal, std::cmp::Reverse(stars))
    }
}

/// What the catalog says about an installed firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirmwareStatus<'c> {
    /// No entry for this vendor and model: the catalog cannot judge it.
    Unlisted,
    /// The installed version is the latest known, or newer (then the catalog is behind).
    Current(&'c FirmwareEntry),
    /// A newer version is known.
    Outdated(&'c FirmwareEntry),
}

/// A checked firmware catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareCatalog {
    updated: Date,
    entries: Vec<FirmwareEntry>,
}

impl FirmwareCatalog {
    /// Reads a catalog from TOML text and checks it.
    pub fn parse(text: &str) -> Result<FirmwareCatalog, CatalogError> {
        let (raw, doc) = read_toml::<RawCatalog>(text).map_err(|f| CatalogError {
            line: f.line,
            field: f.field,
            message: f.message,
            kind: match f.class {
                TomlClass::Syntax => CatalogErrorKind::Syntax,
                TomlClass::UnknownField => CatalogErrorKind::UnknownField,
                TomlClass::MissingField => CatalogErrorKind::MissingField,
                TomlClass::WrongType | TomlClass::UnknownValue => CatalogErrorKind::WrongType,
                TomlClass::Other => CatalogErrorKind::InvalidValue,
            },
        })?;
        check(raw, &doc)
    }

    /// Reads and checks the catalog in file `path`.
    pub fn load(path: &Path) -> Result<FirmwareCatalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            line: None,
            field: String::new(),
            message: format!("cannot read {}: {e}", path.display()),
            kind: CatalogErrorKind::Io,
        })?;
        FirmwareCatalog::parse(&text)
    }

    /// When the catalog was last checked.
    pub fn updated(&self) -> Date {
        self.updated
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[FirmwareEntry] {
        &self.entries
    }

    /// The most specific entry for the camera reporting `vendor` and `model` (see the module
    /// documentation for the order), if any.
    pub fn latest_for(&self, vendor: &str, model: &str) -> Option<&FirmwareEntry> {
        let mut best: Option<&FirmwareEntry> = None;
        for entry in self.entries.iter().filter(|e| e.matches(vendor, model)) {
            if best.is_none_or(|b| entry.specificity() > b.specificity()) {
                best = Some(entry);
            }
        }
        best
    }

    /// Judges the `installed` firmware of the camera reporting `vendor` and `model`.
    pub fn status(&self, vendor: &str, model: &str, installed: &str) -> FirmwareStatus<'_> {
        match self.latest_for(vendor, model) {
            None => FirmwareStatus::Unlisted,
            Some(entry) if compare_versions(installed, &entry.latest) == Ordering::Less => {
                FirmwareStatus::Outdated(entry)
            }
            Some(entry) => FirmwareStatus::Current(entry),
        }
    }
}

/// What kind of problem a [`CatalogError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CatalogErrorKind {
    /// Not valid TOML.
    Syntax,
    /// A key the format does not have.
    UnknownField,
    /// A required key is absent.
    MissingField,
    /// A value of the wrong type.
    WrongType,
    /// A value of the right type that is not acceptable (empty vendor, version without digits).
    InvalidValue,
    /// A date with a time, an impossible date, or a release after `updated`.
    InvalidDate,
    /// The same vendor and model twice.
    Duplicate,
    /// The file could not be read.
    Io,
}

impl CatalogErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            CatalogErrorKind::Syntax => "firmware_catalog_syntax",
            CatalogErrorKind::UnknownField => "firmware_catalog_unknown_field",
            CatalogErrorKind::MissingField => "firmware_catalog_missing_field",
            CatalogErrorKind::WrongType => "firmware_catalog_wrong_type",
            CatalogErrorKind::InvalidValue => "firmware_catalog_invalid_value",
            CatalogErrorKind::InvalidDate => "firmware_catalog_invalid_date",
            CatalogErrorKind::Duplicate => "firmware_catalog_duplicate",
            CatalogErrorKind::Io => "firmware_catalog_io",
        }
    }
}

/// A firmware catalog that cannot be used, with where and why.
///
/// `Display`: `firmware catalog line 9, firmware[1].latest: 'latest' has no digit; …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogError {
    /// The 1-based line the problem is on, when there is one.
    pub line: Option<usize>,
    /// The field path, e.g. `firmware[1].released`; empty when no field is concerned.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
    /// What kind of problem it is.
    pub kind: CatalogErrorKind,
}

impl CatalogError {
    /// A stable code for logs, JSON and the UI (e.g. `firmware_catalog_duplicate`).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_located(f, "firmware catalog", self.line, &self.field, &self.message)
    }
}

impl std::error::Error for CatalogError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    updated: Datetime,
    #[serde(default)]
    firmware: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    vendor: String,
    model: String,
    latest: String,
    released: Datetime,
    notes: Option<String>,
}

fn check(raw: RawCatalog, doc: &Document<'_>) -> Result<FirmwareCatalog, CatalogError> {
    let err = |kind, field: &Field, message: String| CatalogError {
        line: doc.line(field),
        field: field.to_string(),
        message,
        kind,
    };
    let date = |value: &Datetime, field: &Field| -> Result<Date, CatalogError> {
        let plain = match (value.date, value.time, value.offset) {
            (Some(d), None, None) => Some(d),
            _ => None,
        };
        let converted = plain.and_then(|d| {
            let month = Month::try_from(d.month).ok()?;
            Date::from_calendar_date(i32::from(d.year), month, d.day).ok()
        });
        converted.ok_or_else(|| {
            err(
                CatalogErrorKind::InvalidDate,
                field,
                format!("{value} is not a date like 2026-10-02 (no time of day)"),
            )
        })
    };
    let root = Field::root();
    let updated = date(&raw.updated, &root.key("updated"))?;
    let list = root.key("firmware");
    let mut entries: Vec<FirmwareEntry> = Vec::new();
    for (i, e) in raw.firmware.into_iter().enumerate() {
        let at = list.index(i);
        for (name, value) in [("vendor", &e.vendor), ("model", &e.model)] {
            if value.trim().is_empty() {
                return Err(err(
                    CatalogErrorKind::InvalidValue,
                    &at.key(name),
                    format!("the {name} is empty"),
                ));
            }
        }
        if !e.latest.chars().any(|c| c.is_ascii_digit()) {
            return Err(err(
                CatalogErrorKind::InvalidValue,
                &at.key("latest"),
                format!("'{}' is not a version: it has no digit", e.latest),
            ));
        }
        let released = date(&e.released, &at.key("released"))?;
        if released > updated {
            return Err(err(
                CatalogErrorKind::InvalidDate,
                &at.key("released"),
                format!("{released} is after the catalog's updated date {updated}"),
            ));
        }
        if let Some(first) = entries
            .iter()
            .position(|o| fold(&o.vendor) == fold(&e.vendor) && fold(&o.model) == fold(&e.model))
        {
            return Err(err(
                CatalogErrorKind::Duplicate,
                &at.key("model"),
                format!(
                    "{} '{}' is listed twice (first at {}; vendor and model are compared ignoring case)",
                    e.vendor.trim(),
                    e.model.trim(),
                    list.index(first)
                ),
            ));
        }
        entries.push(FirmwareEntry {
            vendor: e.vendor.trim().to_string(),
            model: e.model.trim().to_string(),
            latest: e.latest.trim().to_string(),
            released,
            notes: e.notes,
        });
    }
    Ok(FirmwareCatalog { updated, entries })
}

/// The form names are compared in: trimmed, lower case.
fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters (none included).
/// Greedy with one backtrack point, so linear-time in practice and never exponential.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Orders two vendor version strings (see the module documentation): `Less` when `a` is older.
///
/// ```
/// use std::cmp::Ordering;
/// use camward_policy::firmware::compare_versions;
/// assert_eq!(compare_versions("5.7.3", "5.7.10"), Ordering::Less);
/// assert_eq!(compare_versions("V5.5.0build 200813", "V5.7.3build 220112"), Ordering::Less);
/// assert_eq!(compare_versions("1.4.2a", "1.4.2"), Ordering::Greater);
/// assert_eq!(compare_versions("v11.11.73", "11.11.73"), Ordering::Equal);
/// ```
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (a, b) = (VersionKey::of(a), VersionKey::of(b));
    compare_tokens(&a.main, &b.main).then_with(|| match (&a.build, &b.build) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => compare_tokens(x, y),
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// Digits without leading zeros (zero is the empty string).
    Num(String),
    /// Letters, lower case.
    Word(String),
}

struct VersionKey {
    main: Vec<Token>,
    build: Option<Vec<Token>>,
}

/// The pre-release words, oldest first.
const PRE_RELEASE: &[&str] = &["dev", "alpha", "beta", "pre", "preview", "rc"];

impl VersionKey {
    fn of(version: &str) -> VersionKey {
        let mut tokens = Vec::new();
        let mut chars = version.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                tokens.push(Token::Num(digits.trim_start_matches('0').to_string()));
            } else if c.is_alphabetic() {
                let mut word = String::new();
                while let Some(l) = chars.next_if(|c| c.is_alphabetic()) {
                    word.extend(l.to_lowercase());
                }
                tokens.push(Token::Word(word));
            } else {
                chars.next();
            }
        }
        let lead = tokens
            .iter()
            .take_while(
                |t| matches!(t, Token::Word(w) if ["v", "ver", "version"].contains(&w.as_str())),
            )
            .count();
        tokens.drain(..lead);
        let (mut main, build) = match tokens
            .iter()
            .position(|t| matches!(t, Token::Word(w) if w == "build"))
        {
            Some(at) => {
                let build = tokens.split_off(at + 1);
                tokens.pop();
                (tokens, Some(build))
            }
            None => (tokens, None),
        };
        while matches!(main.last(), Some(Token::Num(n)) if n.is_empty()) {
            main.pop();
        }
        VersionKey { main, build }
    }
}

/// Compares token sequences position by position; a missing token ("nothing") ranks between the
/// pre-release words and every other token.
fn compare_tokens(a: &[Token], b: &[Token]) -> Ordering {
    fn pre_release(w: &str) -> Option<usize> {
        PRE_RELEASE.iter().position(|p| *p == w)
    }
    fn rank(t: Option<&Token>) -> u8 {
        match t {
            Some(Token::Word(w)) if pre_release(w).is_some() => 0,
            None => 1,
            Some(Token::Word(_)) => 2,
            Some(Token::Num(_)) => 3,
        }
    }
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        let order = rank(x).cmp(&rank(y)).then_with(|| match (x, y) {
            (Some(Token::Num(x)), Some(Token::Num(y))) => {
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (Some(Token::Word(x)), Some(Token::Word(y))) => {
                pre_release(x).cmp(&pre_release(y)).then_with(|| x.cmp(y))
            }
            _ => Ordering::Equal,
        });
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering::{Equal, Greater, Less};

    const EXAMPLE: &str = include_str!("../data/firmware-catalog.example.toml");

    const BASE: &str = r#"updated = 2026-11-15

[[firmware]]
vendor = "Axis"
model = "M3086-V"
latest = "11.11.73"
released = 2026-10-02

[[firmware]]
vendor = "Hikvision"
model = "DS-2CD2*"
latest = "V5.7.3build 220112"
released = 2022-01-12
notes = "https://example.net/notes"
"#;

    fn edit(n: usize, new: &str) -> String {
        let mut lines: Vec<&str> = BASE.lines().collect();
        lines[n - 1] = new;
        lines.join("\n") + "\n"
    }

    #[track_caller]
    fn fails(text: &str, code: &str, line: Option<usize>, field: &str) -> CatalogError {
        let e = FirmwareCatalog::parse(text).expect_err("the catalog must be refused");
        assert_eq!(e.code(), code, "{e}");
        assert_eq!(e.line, line, "{e}");
        assert_eq!(e.field, field, "{e}");
        let place = match (line, field) {
            (Some(l), "") => format!("firmware catalog line {l}: "),
            (Some(l), f) => format!("firmware catalog line {l}, {f}: "),
            (None, "") => "firmware catalog: ".to_string(),
            (None, f) => format!("firmware catalog, {f}: "),
        };
        assert!(e.to_string().starts_with(&place), "{e}");
        e
    }

    #[test]
    fn a_catalog_is_read() {
        let c = FirmwareCatalog::parse(BASE).unwrap();
        assert_eq!(
            c.updated(),
            Date::from_calendar_date(2026, Month::November, 15).unwrap()
        );
        assert_eq!(c.entries().len(), 2);
        let axis = c.latest_for("AXIS", "M3086-V").unwrap();
        assert_eq!(axis.latest, "11.11.73");
        assert_eq!(axis.released.to_string(), "2026-10-02");
        assert!(axis.notes.is_none());
        let hik = c.latest_for("HIKVISION", "DS-2CD2143G2-I").unwrap();
        assert!(hik.is_glob());
        assert_eq!(hik.notes.as_deref(), Some("https://example.net/notes"));
        assert!(c.latest_for("Hikvision", "DS-2CD3").is_none());
        assert!(c.latest_for("Canon", "M3086-V").is_none());
        assert!(matches!(
            c.status("Axis", "M3086-V", "11.10.61"),
            FirmwareStatus::Outdated(_)
        ));
        assert!(matches!(
            c.status("Axis", "M3086-V", "11.11.73"),
            FirmwareStatus::Current(_)
        ));
        assert!(matches!(
            c.status("Axis", "M3086-V", "12.0.1"),
            FirmwareStatus::Current(_)
        ));
        assert_eq!(c.status("Axis", "Q1615", "1.0"), FirmwareStatus::Unlisted);
    }

    #[test]
    fn the_example_catalog_lists_camsim_with_a_newer_version() {
        let c = FirmwareCatalog::parse(EXAMPLE).unwrap();
        // camsim reports Manufacturer "Camsim", Model "CS-2000", FirmwareVersion "1.4.2" for every
        // flavour (crates/camsim/src/server.rs).
        let entry = c.latest_for("Camsim", "CS-2000").unwrap();
        assert_eq!(compare_versions("1.4.2", &entry.latest), Less);
        assert!(matches!(
            c.status("Camsim", "CS-2000", "1.4.2"),
            FirmwareStatus::Outdated(_)
        ));
        assert!(c.entries().len() >= 4);
    }

    #[test]
    fn the_most_specific_entry_wins() {
        let text = r#"updated = 2026-11-15
[[firmware]]
vendor = "Hikvision"
model = "*"
latest = "1"
released = 2026-01-01
[[firmware]]
vendor = "Hikvision"
model = "DS-2CD2*"
latest = "2"
released = 2026-01-01
[[firmware]]
vendor = "Hikvision"
model = "DS-2CD21*"
latest = "3"
released = 2026-01-01
[[firmware]]
vendor = "Hikvision"
model = "DS-2CD2143G2-I"
latest = "4"
released = 2026-01-01
[[firmware]]
vendor = "Hikvision"
model = "DS-*-I"
latest = "5"
released = 2026-01-01
[[firmware]]
vendor = "Hikvision"
model = "DS-**-X"
latest = "6"
released = 2026-01-01
[[firmware]]
vendor = "Hikvision"
model = "DS-*-X"
latest = "7"
released = 2026-01-01
"#;
        let c = FirmwareCatalog::parse(text).unwrap();
        let latest = |model| c.latest_for("hikvision", model).map(|e| e.latest.as_str());
        assert_eq!(latest("DS-2CD2143G2-I"), Some("4"), "exact over any glob");
        assert_eq!(latest("ds-2cd2143g2-i"), Some("4"), "ignoring case");
        assert_eq!(
            latest("DS-2CD2185G0-I"),
            Some("3"),
            "longer glob over shorter"
        );
        assert_eq!(latest("DS-2CD2385G1"), Some("2"));
        assert_eq!(latest("DS-7608NI"), Some("1"));
        assert_eq!(
            latest("DS-7608-X"),
            Some("7"),
            "fewer stars on equal literals"
        );
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob_match("ds-2cd2*", "ds-2cd2"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(!glob_match("m3086-v", "m3086-ve"));
        assert!(glob_match("*-v", "m3086-v-v"));
        assert!(!glob_match(&"a*".repeat(30), &"a".repeat(29)), "no blow-up");
    }

    #[test]
    fn versions_are_ordered_sensibly() {
        let cases = [
            ("5.7.3", "5.7.10", Less),
            ("5.7.10", "5.7.3", Greater),
            ("V5.5.0build 200813", "V5.7.3build 220112", Less),
            ("V5.7.3build 220112", "V5.7.3build 230101", Less),
            ("V5.7.3 build 220112", "v5.7.3build220112", Equal),
            ("V5.7.3", "V5.7.3build 220112", Less),
            ("1.4.2", "1.4.2a", Less),
            ("1.4.2a", "1.4.2b", Less),
            ("1.4.2a", "1.4.2.1", Less),
            ("1.4.2-rc1", "1.4.2", Less),
            ("1.4.2-beta", "1.4.2-rc1", Less),
            ("1.4.2-alpha", "1.4.2-beta", Less),
            ("v1.4.2", "1.4.2", Equal),
            ("Ver.1.4.2", "1.4.2", Equal),
            ("5.7", "5.7.0", Equal),
            ("1.02", "1.2", Equal),
            ("11.11.73", "11.11.073", Equal),
            ("10.12.153", "11.0.89", Less),
            ("2.820.0000000.11.R", "2.820.0000000.9.R", Greater),
            (
                "99999999999999999999999.1",
                "99999999999999999999998.9",
                Greater,
            ),
            ("", "0.1", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn syntax_errors_name_their_line() {
        fails(
            &edit(6, "latest = \"11.11.73"),
            "firmware_catalog_syntax",
            Some(6),
            "firmware[0].latest",
        );
        fails(
            &edit(9, "[[firmware]"),
            "firmware_catalog_syntax",
            Some(9),
            "firmware",
        );
        fails(
            &edit(11, "model = DS-2CD2*"),
            "firmware_catalog_syntax",
            Some(11),
            "firmware[1].model",
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = fails(
            &edit(12, "lastest = \"1.0\""),
            "firmware_catalog_unknown_field",
            Some(12),
            "firmware[1].lastest",
        );
        assert!(e.message.contains("latest"), "{e}");
        fails(
            &edit(2, "source = \"vendor sites\""),
            "firmware_catalog_unknown_field",
            Some(2),
            "source",
        );
    }

    #[test]
    fn missing_fields_are_named() {
        fails(
            &edit(6, ""),
            "firmware_catalog_missing_field",
            Some(3),
            "firmware[0].latest",
        );
        fails(
            &edit(1, ""),
            "firmware_catalog_missing_field",
            None,
            "updated",
        );
        fails(
            &edit(13, ""),
            "firmware_catalog_missing_field",
            Some(9),
            "firmware[1].released",
        );
    }

    #[test]
    fn wrong_types_are_refused() {
        fails(
            &edit(6, "latest = 11.11"),
            "firmware_catalog_wrong_type",
            Some(6),
            "firmware[0].latest",
        );
        fails(
            &edit(7, "released = 20261002"),
            "firmware_catalog_wrong_type",
            Some(7),
            "firmware[0].released",
        );
        fails(
            "updated = 2026-11-15\nfirmware = 3\n",
            "firmware_catalog_wrong_type",
            Some(2),
            "firmware",
        );
        fails(
            "updated = \"2026-11-15\"\n",
            "firmware_catalog_wrong_type",
            Some(1),
            "updated",
        );
    }

    #[test]
    fn dates_are_checked() {
        fails(
            &edit(7, "released = 2026-10-02T10:00:00Z"),
            "firmware_catalog_invalid_date",
            Some(7),
            "firmware[0].released",
        );
        fails(
            &edit(1, "updated = 10:00:00"),
            "firmware_catalog_invalid_date",
            Some(1),
            "updated",
        );
        let e = fails(
            &edit(7, "released = 2026-12-24"),
            "firmware_catalog_invalid_date",
            Some(7),
            "firmware[0].released",
        );
        assert!(e.message.contains("after"), "{e}");
    }

    #[test]
    fn values_are_checked() {
        fails(
            &edit(4, "vendor = \" \""),
            "firmware_catalog_invalid_value",
            Some(4),
            "firmware[0].vendor",
        );
        fails(
            &edit(5, "model = \"\""),
            "firmware_catalog_invalid_value",
            Some(5),
            "firmware[0].model",
        );
        let e = fails(
            &edit(12, "latest = \"latest\""),
            "firmware_catalog_invalid_value",
            Some(12),
            "firmware[1].latest",
        );
        assert!(e.message.contains("no digit"), "{e}");
    }

    #[test]
    fn duplicates_are_refused() {
        let text = edit(10, "vendor = \"AXIS\"").replace("DS-2CD2*", "m3086-v");
        let e = fails(
            &text,
            "firmware_catalog_duplicate",
            Some(11),
            "firmware[1].model",
        );
        assert!(e.message.contains("firmware[0]"), "{e}");
    }

    #[test]
    fn an_empty_catalog_is_valid() {
        let c = FirmwareCatalog::parse("updated = 2026-11-15\n").unwrap();
        assert!(c.entries().is_empty());
        assert_eq!(c.status("Axis", "M3086-V", "1"), FirmwareStatus::Unlisted);
    }

    #[test]
    fn load_reports_an_unreadable_file() {
        let e = FirmwareCatalog::load(Path::new("/nonexistent/firmware.toml")).unwrap_err();
        assert_eq!(e.code(), "firmware_catalog_io");
        assert!(
            e.to_string().starts_with("firmware catalog: cannot read"),
            "{e}"
        );
    }

    /// Version strings shaped like vendors' (and some that are not).
    fn version() -> impl Strategy<Value = String> {
        prop_oneof![
            "[vV]?(ver\\.? ?)?[0-9]{1,3}(\\.[0-9]{1,3}){0,4}",
            "[vV]?[0-9]{1,2}(\\.[0-9a-c]{1,3}){0,3}([-_.]?(rc|beta|alpha|dev|pre|a|b|LTS)[0-9]?)?",
            "[vV]?[0-9]\\.[0-9]\\.[0-9]{1,2}( ?build ?[0-9]{0,6})?",
            "[0-9.]{0,8}",
            // Few, short tokens, so that equal prefixes, zeros and suffixes meet often.
            "((0|00|1|01|2|10|a|b|rc|beta|build|v)[. -]?){0,5}",
            ".{0,12}",
        ]
    }

    /// Well-formed catalogs with values right and wrong, so generated texts reach the checks.
    fn plausible_catalog() -> impl Strategy<Value = String> {
        let date = || {
            prop_oneof![
                8 => (2019u32..2027, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
                1 => Just("2026-10-02T10:00:00Z".to_string()),
                1 => Just("\"2026-10-02\"".to_string()),
            ]
        };
        let entry = (
            prop_oneof![8 => proptest::sample::select(&["Axis", "AXIS", "Hikvision", "Camsim"][..]), 1 => Just(" ")],
            prop_oneof![
                8 => proptest::sample::select(&["M3086-V", "DS-2CD2*", "DS-*", "*", "CS-2000", "ds-2cd2*"][..]),
                1 => Just(""),
            ],
            version(),
            date(),
            proptest::option::of(Just("https://example.net")),
        );
        (date(), proptest::collection::vec(entry, 0..5)).prop_map(|(updated, entries)| {
            let mut t = format!("updated = {updated}\n");
            for (vendor, model, latest, released, notes) in entries {
                t += &format!(
                    "[[firmware]]\nvendor = {vendor:?}\nmodel = {model:?}\nlatest = {latest:?}\nreleased = {released}\n"
                );
                if let Some(notes) = notes {
                    t += &format!("notes = {notes:?}\n");
                }
            }
            t
        })
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let _ = FirmwareCatalog::parse(&text);
        }

        #[test]
        fn plausible_catalogs_are_checked_without_panics(text in plausible_catalog()) {
            match FirmwareCatalog::parse(&text) {
                Err(e) => {
                    if let Some(line) = e.line {
                        prop_assert!(line >= 1 && line <= text.lines().count() + 1, "{}", e);
                    }
                }
                // Every exact model is found, by an entry that is exact too.
                Ok(c) => {
                    for e in c.entries().iter().filter(|e| !e.is_glob()) {
                        let found = c.latest_for(&e.vendor.to_uppercase(), &e.model);
                        prop_assert!(found.is_some_and(|f| !f.is_glob()), "{:?}", e);
                    }
                }
            }
        }

        #[test]
        fn compare_versions_is_antisymmetric(a in version(), b in version()) {
            prop_assert_eq!(compare_versions(&a, &b), compare_versions(&b, &a).reverse());
            prop_assert_eq!(compare_versions(&a, &a), Equal);
        }

        #[test]
        fn compare_versions_is_transitive(a in version(), b in version(), c in version()) {
            let v = [&a, &b, &c];
            for (x, y, z) in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)] {
                let (x, y, z) = (v[x], v[y], v[z]);
                if compare_versions(x, y) != Greater && compare_versions(y, z) != Greater {
                    prop_assert_ne!(compare_versions(x, z), Greater, "{} <= {} <= {}", x, y, z);
                }
                if compare_versions(x, y) == Equal {
                    prop_assert_eq!(compare_versions(x, z), compare_versions(y, z), "{} = {}", x, y);
                }
            }
        }
    }
}
