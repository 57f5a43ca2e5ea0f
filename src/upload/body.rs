//! What is sent: the file (or a converted copy of it), framed as `multipart/form-data` with one
//! part named `file`, streamed from disk with an exact `Content-Length`.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::read::Format;

/// The file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The user's file, sent as is.
    File {
        /// The file on disk.
        path: PathBuf,
        /// Its format; decides the extension of the uploaded filename.
        format: Format,
    },
    /// A file whose sha256 is already known (e.g. from the validation report), so callers
    /// need not hash it again for the duplicate guard or the history.
    Hashed {
        /// The file on disk.
        path: PathBuf,
        /// Its format.
        format: Format,
        /// Lowercase hex sha256 of its bytes.
        sha256: String,
    },
    /// A transformed copy (cleaned or normalised output) sent in place of the user's file.
    /// The uploaded filename is derived from `source`, the bytes come from `path`.
    Converted {
        /// The converted file that is actually sent.
        path: PathBuf,
        /// The user's original file (only its name is used).
        source: PathBuf,
        /// The converted file's format.
        format: Format,
        /// Lowercase hex sha256 of the converted bytes, if known.
        sha256: Option<String>,
    },
}

impl Body {
    /// The file whose bytes are sent.
    pub fn path(&self) -> &Path {
        match self {
            Body::File { path, .. } | Body::Hashed { path, .. } | Body::Converted { path, .. } => {
                path
            }
        }
    }

    /// The file the user knows this upload by (the original for a converted body).
    pub fn display_path(&self) -> &Path {
        match self {
            Body::Converted { source, .. } => source,
            other => other.path(),
        }
    }

    /// The format, which decides the filename's extension.
    pub fn format(&self) -> Format {
        match self {
            Body::File { format, .. }
            | Body::Hashed { format, .. }
            | Body::Converted { format, .. } => *format,
        }
    }

    /// The sha256 of the bytes sent, when the caller supplied it.
    pub fn sha256(&self) -> Option<&str> {
        match self {
            Body::Hashed { sha256, .. } => Some(sha256),
            Body::Converted { sha256, .. } => sha256.as_deref(),
            Body::File { .. } => None,
        }
    }

    /// The filename put in the multipart part: the display file's stem, reduced to safe
    /// characters, with `.csv` or `.json` per the format (whatever the local file is called).
    pub fn filename(&self) -> String {
        let stem = self
            .display_path()
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut safe: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect();
        let trimmed = safe.trim_matches(|c| c == '.' || c == '_').to_string();
        safe = if trimmed.is_empty() {
            "purchases".to_string()
        } else {
            trimmed
        };
        format!("{safe}.{}", self.format().extension())
    }
}

/// The multipart framing around the file: everything except the file's bytes, so the exact
/// `Content-Length` is known before sending.
#[derive(Debug, Clone)]
pub struct Multipart {
    boundary: String,
    head: Bytes,
    tail: Bytes,
    file_len: u64,
}

impl Multipart {
    /// Framing for one part `file` with this filename and file length, with a fresh boundary.
    pub fn new(filename: &str, file_len: u64) -> Self {
        Self::with_boundary(fresh_boundary(), filename, file_len)
    }

    /// Framing with a given boundary (tests).
    pub fn with_boundary(boundary: String, filename: &str, file_len: u64) -> Self {
        let filename: String = filename
            .chars()
            .map(|c| {
                if c == '"' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        Multipart {
            boundary,
            head: Bytes::from(head),
            tail: Bytes::from(tail),
            file_len,
        }
    }

    /// The boundary.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The `Content-Type` header value, with the boundary.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The exact body length: framing plus the file.
    pub fn content_length(&self) -> u64 {
        self.head.len() as u64 + self.file_len + self.tail.len() as u64
    }

    /// The file's length.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The body as a stream of chunks read from `file` (`chunk` bytes at a time). Every byte
    /// handed to the HTTP stack is added to `sent`. If the file turns out shorter or longer
    /// than announced the stream fails and the reason is left in `local_error`.
    pub fn stream(
        &self,
        file: tokio::fs::File,
        chunk: usize,
        sent: Arc<AtomicU64>,
        local_error: Arc<Mutex<Option<String>>>,
    ) -> BodyStream {
        BodyStream {
            head: Some(self.head.clone()),
            tail: Some(self.tail.clone()),
            reader: Some(ReaderStream::with_capacity(
                file.take(self.file_len.saturating_add(1)),
                chunk.max(4096),
            )),
            remaining: self.file_len,
            sent,
            local_error,
            expect: None,
        }
    }
}

fn fresh_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = Sha256::new();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let local = 0u8;
    h.update((&local as *const u8 as usize).to_le_bytes());
    let hex = crate::config::history::to_hex(&h.finalize());
    format!("lbimport-{}", &hex[..32])
}

/// The streamed multipart body (see [`Multipart::stream`]).
pub struct BodyStream {
    head: Option<Bytes>,
    tail: Option<Bytes>,
    reader: Option<ReaderStream<tokio::io::Take<tokio::fs::File>>>,
    remaining: u64,
    sent: Arc<AtomicU64>,
    local_error: Arc<Mutex<Option<String>>>,
    /// The sha256 the file must have (the validated bytes) and the hash of what was read.
    expect: Option<(String, Sha256)>,
}

impl BodyStream {
    /// Hash the file's bytes as they are sent and, when they don't hash to `sha256` (the
    /// validated bytes), fail the stream before the closing boundary: a multipart body without
    /// its closing boundary is incomplete, so the service imports nothing from it.
    pub fn expect_sha256(mut self, sha256: Option<String>) -> Self {
        self.expect = sha256.map(|s| (s.to_ascii_lowercase(), Sha256::new()));
        self
    }

    fn fail(&mut self, msg: String) -> Poll<Option<io::Result<Bytes>>> {
        self.reader = None;
        self.tail = None;
        if let Ok(mut g) = self.local_error.lock() {
            *g = Some(msg.clone());
        }
        Poll::Ready(Some(Err(io::Error::other(msg))))
    }

    fn count(&self, b: Bytes) -> Poll<Option<io::Result<Bytes>>> {
        self.sent.fetch_add(b.len() as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(b)))
    }
}

impl Stream for BodyStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(h) = self.head.take() {
            return self.count(h);
        }
        if let Some(reader) = self.reader.as_mut() {
            match Pin::new(reader).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(b))) => {
                    if b.len() as u64 > self.remaining {
                        return self.fail(
                            "the file grew while it was being uploaded; upload it again once it \
                             no longer changes"
                                .into(),
                        );
                    }
                    self.remaining -= b.len() as u64;
                    if let Some((_, h)) = self.expect.as_mut() {
                        h.update(&b);
                    }
                    return self.count(b);
                }
                Poll::Ready(Some(Err(e))) => {
                    return self.fail(format!("could not read the file: {e}"));
                }
                Poll::Ready(None) => {
                    self.reader = None;
                    if self.remaining > 0 {
                        let r = self.remaining;
                        return self.fail(format!(
                            "the file shrank by {r} bytes while it was being uploaded; upload \
                             it again once it no longer changes"
                        ));
                    }
                    if let Some((want, h)) = self.expect.take() {
                        let got = crate::config::history::to_hex(&h.finalize());
                        if got != want {
                            return self.fail(format!(
                                "the file changed while it was being uploaded (sha256 {}…, \
                                 validated {}…): stopped before the end of the request, so \
                                 nothing was imported; validate and upload it again once it no \
                                 longer changes",
                                &got[..12],
                                &want[..want.len().min(12)]
                            ));
                        }
                    }
                }
            }
        }
        match self.tail.take() {
            Some(t) => self.count(t),
            None => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filename_follows_the_format() {
        let b = Body::File {
            path: "/tmp/My Orders (2024).txt".into(),
            format: Format::Csv,
        };
        assert_eq!(b.filename(), "My_Orders__2024.csv");
        let c = Body::Converted {
            path: "/data/converted/abc.json".into(),
            source: "/home/u/export.xlsx.csv".into(),
            format: Format::Json,
            sha256: None,
        };
        assert_eq!(c.filename(), "export.xlsx.json");
        assert_eq!(c.display_path(), Path::new("/home/u/export.xlsx.csv"));
        assert_eq!(c.path(), Path::new("/data/converted/abc.json"));
        let d = Body::File {
            path: "/tmp/\"\"".into(),
            format: Format::Json,
        };
        assert_eq!(d.filename(), "purchases.json");
    }

    #[test]
    fn content_length_is_exact() {
        let m = Multipart::with_boundary("B".into(), "a.csv", 10);
        let expected = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: application/octet-stream\r\n\r\n".len()
            + 10
            + "\r\n--B--\r\n".len();
        assert_eq!(m.content_length(), expected as u64);
        assert_eq!(m.content_type(), "multipart/form-data; boundary=B");
        let fresh = Multipart::new("a.csv", 1);
        assert!(fresh.boundary().starts_with("lbimport-"));
        assert_eq!(fresh.boundary().len(), "lbimport-".len() + 32);
        assert_ne!(fresh.boundary(), Multipart::new("a.csv", 1).boundary());
    }

    #[tokio::test]
    async fn stream_yields_framing_and_file_and_counts() {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.csv");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).expect("write");
        let m = Multipart::with_boundary("B".into(), "x.csv", data.len() as u64);
        let sent = Arc::new(AtomicU64::new(0));
        let err = Arc::new(Mutex::new(None));
        let f = tokio::fs::File::open(&p).await.expect("open");
        let mut s = m.stream(f, 8192, sent.clone(), err.clone());
        let mut all = Vec::new();
        while let Some(c) = s.next().await {
            all.extend_from_slice(&c.expect("chunk"));
        }
        assert_eq!(all.len() as u64, m.content_length());
        assert_eq!(sent.load(Ordering::Relaxed), m.content_length());
        let head_len = all.len() - data.len() - "\r\n--B--\r\n".len();
        assert_eq!(&all[head_len..head_len + data.len()], &data[..]);
        assert!(all.ends_with(b"\r\n--B--\r\n"));
    }

    #[tokio::test]
    async fn changed_file_fails_the_stream() {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.csv");
        std::fs::write(&p, b"12345").expect("write");
        let m = Multipart::with_boundary("B".into(), "x.csv", 10);
        let err = Arc::new(Mutex::new(None));
        let f = tokio::fs::File::open(&p).await.expect("open");
        let mut s = m.stream(f, 8192, Arc::new(AtomicU64::new(0)), err.clone());
        let mut failed = false;
        while let Some(c) = s.next().await {
            if c.is_err() {
                failed = true;
            }
        }
        assert!(failed);
        let msg = err.lock().expect("lock").clone().unwrap_or_default();
        assert!(msg.contains("shrank by 5 bytes"), "{msg}");
    }

    #[tokio::test]
    async fn same_size_change_stops_before_the_closing_boundary() {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.csv");
        std::fs::write(&p, b"1,/p/1\n").expect("write");
        let validated = crate::config::sha256_file(&p).expect("hash");
        std::fs::write(&p, b"1,/p/2\n").expect("write");
        let m = Multipart::with_boundary("B".into(), "x.csv", 7);
        let err = Arc::new(Mutex::new(None));
        let f = tokio::fs::File::open(&p).await.expect("open");
        let mut s = m
            .stream(f, 8192, Arc::new(AtomicU64::new(0)), err.clone())
            .expect_sha256(Some(validated.clone()));
        let mut all = Vec::new();
        let mut failed = false;
        while let Some(c) = s.next().await {
            match c {
                Ok(b) => all.extend_from_slice(&b),
                Err(_) => failed = true,
            }
        }
        assert!(failed);
        assert!(!all.ends_with(b"--B--\r\n"), "no closing boundary");
        let msg = err.lock().expect("lock").clone().unwrap_or_default();
        assert!(msg.contains("changed while it was being uploaded"), "{msg}");
        // The unchanged bytes pass.
        std::fs::write(&p, b"1,/p/1\n").expect("write");
        let f = tokio::fs::File::open(&p).await.expect("open");
        let mut s = m
            .stream(f, 8192, Arc::new(AtomicU64::new(0)), err.clone())
            .expect_sha256(Some(validated));
        let mut all = Vec::new();
        while let Some(c) = s.next().await {
            all.extend_from_slice(&c.expect("chunk"));
        }
        assert!(all.ends_with(b"\r\n--B--\r\n"));
    }
}
