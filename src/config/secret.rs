//! The private key: a type that never shows its value by accident.

use std::fmt;

/// A tracker's private key. `Debug` and `Display` print `[redacted]`; the bytes are reachable
/// only through [`PrivateKey::expose`], for signing.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(String);

impl PrivateKey {
    /// Wrap a key (surrounding whitespace, e.g. a trailing newline from a command, is trimmed).
    pub fn new(key: impl Into<String>) -> Self {
        let k: String = key.into();
        PrivateKey(k.trim().to_string())
    }

    /// The key's bytes, for HMAC signing only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// A masked form safe to show: `stored (…abcd)` style last four characters.
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        if n <= 8 {
            "…".to_string()
        } else {
            let tail: String = self.0.chars().skip(n - 4).collect();
            format!("…{tail}")
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

impl fmt::Display for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
