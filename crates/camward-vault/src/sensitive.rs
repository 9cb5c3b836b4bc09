//! A value that must not leak through logs, `Debug`, or serialization.
use std::fmt;

use zeroize::Zeroize;

/// A secret. `Debug` and `Display` print `<redacted>`; serializing it is an error, so a secret cannot
/// slip into a JSON report or an IPC payload by accident. Read it with [`Sensitive::expose`].
/// The inner value is zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Call sites are the places to review for leaks.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: Zeroize> Drop for Sensitive<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> serde::Serialize for Sensitive<T> {
    fn serialize<S: serde::Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refusing to serialize a secret"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Sensitive::new(String::from("hunter2-Secret!"));
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.expose(), "hunter2-Secret!");
    }

    #[test]
    fn serialization_is_refused() {
        #[derive(serde::Serialize)]
        struct Report {
            user: String,
            password: Sensitive<String>,
        }
        let r = Report {
            user: "admin".into(),
            password: Sensitive::new("x-Secret-9".into()),
        };
        let err = serde_json::to_string(&r).expect_err("a secret must not serialize");
        assert!(err.to_string().contains("refusing to serialize a secret"));
    }
}
