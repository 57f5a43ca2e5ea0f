//! HMAC request signing and HTTP dates, exactly as the Luigi's Box private APIs expect.
//!
//! `Authorization: <client-name> <tracker_id>:<digest>` where
//! `digest = base64(HMAC-SHA256(private key, METHOD \n CONTENT_TYPE \n DATE \n PATH))`.
//! For the multipart import endpoint the signed content type is `multipart/form-data`
//! without the boundary, and PATH carries no query string.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::{DEFAULT_CLIENT_NAME, PrivateKey};

/// The content type that is signed for the multipart import endpoint.
pub const SIGNED_CONTENT_TYPE: &str = "multipart/form-data";

/// The string that is signed: `METHOD\nCONTENT_TYPE\nDATE\nPATH` (no trailing newline; the
/// query string, if any, is dropped from `path`).
pub fn string_to_sign(method: &str, content_type: &str, date: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    format!("{method}\n{content_type}\n{date}\n{path}")
}

/// The digest: standard base64 (with padding) of HMAC-SHA256 over [`string_to_sign`].
/// Always 44 characters.
pub fn digest(
    key: &PrivateKey,
    method: &str,
    content_type: &str,
    date: &str,
    path: &str,
) -> String {
    let message = string_to_sign(method, content_type, date, path);
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose()) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cold]
fn unreachable_hmac() -> ! {
    // HMAC's key length is unrestricted; reaching this is a bug in the hmac crate.
    panic!("HMAC-SHA256 rejected a key length")
}

/// The `Authorization` header value with the default client name `ApiAuth`:
/// `ApiAuth <tracker_id>:<digest>`.
pub fn sign(
    tracker_id: &str,
    key: &PrivateKey,
    method: &str,
    content_type: &str,
    date: &str,
    path: &str,
) -> String {
    sign_as(
        DEFAULT_CLIENT_NAME,
        tracker_id,
        key,
        method,
        content_type,
        date,
        path,
    )
}

/// [`sign`] with a chosen client name (the server ignores it; it names the application).
pub fn sign_as(
    client_name: &str,
    tracker_id: &str,
    key: &PrivateKey,
    method: &str,
    content_type: &str,
    date: &str,
    path: &str,
) -> String {
    let d = digest(key, method, content_type, date, path);
    format!("{client_name} {tracker_id}:{d}")
}

/// Format a time as an HTTP date (`Thu, 29 Jun 2017 12:11:16 GMT`).
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// Parse an HTTP date; `None` when malformed.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

/// `now` shifted by a signed number of milliseconds (the measured server clock offset).
pub fn shifted(now: SystemTime, offset_ms: i64) -> SystemTime {
    let d = Duration::from_millis(offset_ms.unsigned_abs());
    if offset_ms >= 0 {
        now.checked_add(d).unwrap_or(now)
    } else {
        now.checked_sub(d).unwrap_or(now)
    }
}

/// The parts of an `Authorization` header: client name, tracker id, digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParts<'a> {
    /// The client name (ignored by the service).
    pub client: &'a str,
    /// The tracker id.
    pub tracker_id: &'a str,
    /// The base64 digest.
    pub digest: &'a str,
}

/// Split an `Authorization` header value `<client> <tracker_id>:<digest>`; `None` when it
/// doesn't have that form.
pub fn parse_authorization(value: &str) -> Option<AuthParts<'_>> {
    let (client, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim_start();
    let (tracker_id, digest) = rest.rsplit_once(':')?;
    if client.is_empty() || tracker_id.is_empty() || digest.is_empty() || digest.contains(' ') {
        return None;
    }
    Some(AuthParts {
        client,
        tracker_id,
        digest,
    })
}

/// Compare two strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Thu, 29 Jun 2017 12:11:16 GMT";

    #[test]
    fn multipart_test_vector() {
        let key = PrivateKey::new("secret");
        let d = digest(
            &key,
            "POST",
            "multipart/form-data",
            DATE,
            "/v1/interactions/1292-9381/files",
        );
        assert_eq!(d, "Xyq2uEGn/Drp12nChpmnUJ6ouLZ/60AIlj5v1W6b9rI=");
        assert_eq!(d.len(), 44);
        assert_eq!(
            sign(
                "1292-9381",
                &key,
                "POST",
                SIGNED_CONTENT_TYPE,
                DATE,
                "/v1/interactions/1292-9381/files"
            ),
            "ApiAuth 1292-9381:Xyq2uEGn/Drp12nChpmnUJ6ouLZ/60AIlj5v1W6b9rI="
        );
    }

    #[test]
    fn content_api_test_vector() {
        let key = PrivateKey::new("secret");
        let d = digest(
            &key,
            "POST",
            "application/json; charset=utf-8",
            DATE,
            "/v1/content",
        );
        assert_eq!(d, "6DyKg257unB1yLVi5aPuy+Xqy9xII5wuGJtG71gMX2w=");
    }

    #[test]
    fn query_string_is_not_signed() {
        let key = PrivateKey::new("secret");
        let a = digest(
            &key,
            "POST",
            SIGNED_CONTENT_TYPE,
            DATE,
            "/v1/interactions/1292-9381/files",
        );
        let b = digest(
            &key,
            "POST",
            SIGNED_CONTENT_TYPE,
            DATE,
            "/v1/interactions/1292-9381/files?x=1",
        );
        assert_eq!(a, b);
        assert_eq!(
            string_to_sign("POST", "multipart/form-data", DATE, "/a?b"),
            "POST\nmultipart/form-data\nThu, 29 Jun 2017 12:11:16 GMT\n/a"
        );
    }

    #[test]
    fn client_name_is_used() {
        let key = PrivateKey::new("secret");
        let v = sign_as(
            "shop-sync",
            "1-2",
            &key,
            "POST",
            SIGNED_CONTENT_TYPE,
            DATE,
            "/x",
        );
        assert!(v.starts_with("shop-sync 1-2:"), "{v}");
        assert_eq!(v.len(), "shop-sync 1-2:".len() + 44);
    }

    #[test]
    fn http_date_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_498_738_276);
        assert_eq!(http_date(t), DATE);
        assert_eq!(parse_http_date(DATE), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(shifted(t, 2500), t + Duration::from_millis(2500));
        assert_eq!(shifted(t, -1000), t - Duration::from_secs(1));
    }

    #[test]
    fn authorization_parsing() {
        let p = parse_authorization("ApiAuth 1292-9381:abc=").expect("parses");
        assert_eq!(p.client, "ApiAuth");
        assert_eq!(p.tracker_id, "1292-9381");
        assert_eq!(p.digest, "abc=");
        assert_eq!(parse_authorization("ApiAuth 1292-9381"), None);
        assert_eq!(parse_authorization("1292-9381:abc"), None);
        assert_eq!(parse_authorization("ApiAuth :abc"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
