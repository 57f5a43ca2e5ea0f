//! Upload: HMAC signing, a streamed multipart body with an exact length, progress, deadline,
//! stall detection, cancellation, clock-skew correction, careful retries and typed outcomes.
//!
//! ```no_run
//! # async fn demo(key: lbimport::config::PrivateKey) {
//! use lbimport::upload::{self, Body, Settings, UploadRequest};
//! let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
//! let cancel = tokio_util::sync::CancellationToken::new();
//! let req = UploadRequest {
//!     base_url: "https://live.luigisbox.com".into(),
//!     tracker_id: "1292-9381".into(),
//!     key,
//!     client_name: "ApiAuth".into(),
//!     body: Body::File { path: "orders.csv".into(), format: lbimport::read::Format::Csv },
//!     settings: Settings::default(),
//! };
//! let job = tokio::spawn(upload::run(req, Some(tx), cancel.clone()));
//! while let Some(ev) = rx.recv().await { println!("{ev:?}"); }
//! let outcome = job.await;
//! # }
//! ```

mod body;
mod client;
mod display;
pub mod guard;
mod sign;

use std::time::Duration;

pub use body::{Body, BodyStream, Multipart};
pub use client::{RequestPreview, install_crypto_provider, measure_clock_skew, preview, run};
pub use display::{MAX_BODY_SHOWN, clean_body_for_display, explain_status};
pub use sign::{
    AuthParts, SIGNED_CONTENT_TYPE, constant_time_eq, digest, http_date, parse_authorization,
    parse_http_date, shifted, sign, sign_as, string_to_sign,
};

use crate::config::PrivateKey;

pub use crate::spec::endpoint_path;

/// Knobs of an upload. `Default` gives the service's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The whole upload (all attempts) must finish within this. Default 600 s.
    pub deadline: Duration,
    /// Abort when no body bytes are accepted for this long. Default 60 s.
    pub stall: Duration,
    /// Most attempts, the first included. Default 3.
    pub max_attempts: u32,
    /// Connection timeout per attempt. Default 30 s.
    pub connect_timeout: Duration,
    /// How long to wait for an answer once the whole body was sent. Default 300 s.
    pub response_timeout: Duration,
    /// First retry delay; doubles per attempt. Default 1 s.
    pub backoff: Duration,
    /// Longest retry delay (also caps `Retry-After`). Default 30 s.
    pub backoff_max: Duration,
    /// Read the server's clock first and sign with its time when ours is off. Default on.
    pub clock_check: bool,
    /// Timeout of the clock-check request. Default 5 s.
    pub clock_check_timeout: Duration,
    /// Skew above which signatures use the server's time. Default 2 s.
    pub max_skew: Duration,
    /// Bytes read from disk per chunk. Default 256 KiB.
    pub chunk_size: usize,
    /// How often `Event::Progress` is sent. Default 200 ms.
    pub progress_interval: Duration,
    /// Largest file sent; larger ones fail before connecting. Default 1 GiB.
    pub max_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deadline: Duration::from_secs(600),
            stall: Duration::from_secs(60),
            max_attempts: 3,
            connect_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(300),
            backoff: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            clock_check: true,
            clock_check_timeout: Duration::from_secs(5),
            max_skew: Duration::from_secs(2),
            chunk_size: 256 * 1024,
            progress_interval: Duration::from_millis(200),
            max_bytes: crate::validate::MAX_FILE_BYTES,
        }
    }
}

/// Everything needed for one upload.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    /// Endpoint base, e.g. `https://live.luigisbox.com` (a trailing `/` is ignored).
    pub base_url: String,
    /// The tracker id.
    pub tracker_id: String,
    /// The private key (used for signing only).
    pub key: PrivateKey,
    /// Client name in the `Authorization` header (`ApiAuth` by default).
    pub client_name: String,
    /// What to send.
    pub body: Body,
    /// Limits and timing.
    pub settings: Settings,
}

/// What happens during an upload, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The server's clock was read: `skew_ms` = server − local; `corrected` when signatures
    /// use the server's time because the skew exceeded 2 s.
    ClockSkew {
        /// Server time minus local time, in milliseconds (±500 ms: the Date header has
        /// second resolution).
        skew_ms: i64,
        /// Signatures use the corrected time.
        corrected: bool,
    },
    /// An attempt starts (1-based); `reason` says why a retry happens.
    Attempt {
        /// Attempt number, from 1.
        n: u32,
        /// Why the previous attempt is retried; `None` for the first.
        reason: Option<String>,
    },
    /// Bytes handed to the network so far in this attempt.
    Progress {
        /// Body bytes sent (framing included).
        sent: u64,
        /// Body length.
        total: u64,
        /// Smoothed rate in bytes per second.
        rate_bps: f64,
        /// Estimated time left, when the rate is known.
        eta: Option<Duration>,
        /// Time since the attempt started.
        elapsed: Duration,
    },
    /// The attempt failed in a way that is safe to retry; the next starts after `after`.
    Retrying {
        /// Wait before the next attempt.
        after: Duration,
        /// Why.
        reason: String,
    },
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The service answered 2xx: it will process the file in the background.
    Accepted {
        /// HTTP status.
        status: u16,
        /// The answer, cleaned and bounded (see [`clean_body_for_display`]).
        body: String,
        /// Duration of the successful attempt.
        duration: Duration,
        /// Bytes of the file sent.
        bytes: u64,
    },
    /// The service answered with an error status.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The answer, cleaned and bounded.
        body: String,
        /// What it means, in plain words.
        explanation: String,
    },
    /// No complete answer, and the file was not completely sent (network, deadline, stall).
    Failed {
        /// Why, in plain words.
        reason: String,
        /// Body bytes handed to the network in the last attempt.
        sent: u64,
    },
    /// Cancelled before the whole file was sent.
    Cancelled,
    /// The whole file was sent but no answer came back: the service may or may not have it.
    Unknown {
        /// What happened.
        reason: String,
    },
}

impl Outcome {
    /// The history's outcome for this result.
    pub fn history_outcome(&self) -> crate::config::Outcome {
        use crate::config::Outcome as H;
        match self {
            Outcome::Accepted { .. } => H::Accepted,
            Outcome::Rejected { .. } => H::Rejected,
            Outcome::Failed { .. } => H::Failed,
            Outcome::Cancelled => H::Cancelled,
            Outcome::Unknown { .. } => H::Unknown,
        }
    }

    /// A short explanation for the history entry: the server's answer or the reason.
    pub fn detail(&self) -> Option<String> {
        match self {
            Outcome::Accepted { body, .. } if body.trim().is_empty() => None,
            Outcome::Accepted { body, .. } => Some(body.clone()),
            Outcome::Rejected {
                body, explanation, ..
            } => Some(format!("{explanation} Server said: {body}")),
            Outcome::Failed { reason, .. } | Outcome::Unknown { reason } => Some(reason.clone()),
            Outcome::Cancelled => Some("cancelled by the user".to_string()),
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Accepted { status, .. } | Outcome::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `lbimport upload` exit status: 0 accepted, 1 rejected, 3 failed, 4 unknown,
    /// 130 cancelled.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Accepted { .. } => 0,
            Outcome::Rejected { .. } => 1,
            Outcome::Failed { .. } => 3,
            Outcome::Unknown { .. } => 4,
            Outcome::Cancelled => 130,
        }
    }

    /// One line in plain words.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Accepted {
                status,
                duration,
                bytes,
                ..
            } => format!(
                "accepted (HTTP {status}): {} sent in {:.1} s; the service processes it in the background",
                crate::units::bytes(*bytes),
                duration.as_secs_f64()
            ),
            Outcome::Rejected {
                status,
                explanation,
                ..
            } => format!("rejected (HTTP {status}): {explanation}"),
            Outcome::Failed { reason, sent } => {
                format!(
                    "failed after sending {}: {reason}",
                    crate::units::bytes(*sent)
                )
            }
            Outcome::Cancelled => {
                "cancelled before the whole file was sent; nothing was imported".into()
            }
            Outcome::Unknown { reason } => format!(
                "outcome unknown: {reason}. The service may have accepted the file; check the \
                 tracker's data in Luigi's Box before uploading it again"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_history_outcomes() {
        let a = Outcome::Accepted {
            status: 200,
            body: String::new(),
            duration: Duration::from_secs(1),
            bytes: 1_500_000,
        };
        assert_eq!(a.exit_code(), 0);
        assert_eq!(a.status(), Some(200));
        assert!(a.summary().contains("1.50 MB"));
        assert_eq!(a.history_outcome(), crate::config::Outcome::Accepted);
        let u = Outcome::Unknown { reason: "x".into() };
        assert_eq!(u.exit_code(), 4);
        assert_eq!(Outcome::Cancelled.exit_code(), 130);
        assert_eq!(
            Outcome::Failed {
                reason: "r".into(),
                sent: 0
            }
            .exit_code(),
            3
        );
        assert_eq!(crate::units::bytes(999), "999 B");
        assert_eq!(crate::units::bytes(1_000_000_000), "1.00 GB");
    }
}
