//! The private key: a type that never shows its value by accident.

use std::fmt;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

    /// The key as text, for writing it into `trackers.toml` (crate-internal on purpose).
    pub(crate) fn expose_str(&self) -> &str {
        &self.0
    }

    /// Whether the key is empty (after trimming).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What may be shown of the key: nothing (not even its length or last characters).
    pub fn masked(&self) -> String {
        "hidden".to_string()
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

/// Most bytes of a key command's stdout we look at (a key is a few dozen characters).
const MAX_KEY_OUTPUT: usize = 64 * 1024;
/// Most characters of a failing key command's stderr we show.
const MAX_STDERR_SHOWN: usize = 300;

/// Run `sh -c CMD` and take the first line of its stdout as the key.
///
/// Stdin is closed, stdout is never shown (not even on failure), stderr is shown bounded and on
/// one line. The command runs in a process group of its own; on timeout the whole group (the
/// shell and whatever it started) is killed. The error string is meant to follow
/// `private key of tracker "…": `.
/// Kill the command's process group (its shell and every process the shell started).
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: killpg only sends a signal; the group id is the shell's pid, which leads the
        // group it was started in (`process_group(0)`) and is not reaped until `wait` below.
        let _ = unsafe { libc::killpg(pgid, libc::SIGKILL) };
        return;
    }
    let _ = child.kill();
}

pub(crate) fn run_key_command(cmd: &str, timeout: Duration) -> Result<PrivateKey, String> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not run its command with sh: {e}"))?;
    let (tx_out, rx_out) = mpsc::channel();
    let (tx_err, rx_err) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            let _ = tx_out.send(read_bounded(out, MAX_KEY_OUTPUT));
        });
    }
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            let _ = tx_err.send(read_bounded(err, 4096));
        });
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&mut child);
                let _ = child.wait();
                let limit = if timeout >= Duration::from_secs(1) {
                    format!("{} s", timeout.as_secs())
                } else {
                    format!("{} ms", timeout.as_millis())
                };
                return Err(format!(
                    "its command did not finish within {limit} and was stopped"
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for its command failed: {e}")),
        }
    };
    // Output pipes close when the command exits; a background child keeping them open must
    // not hang us, so wait at most a little longer.
    let grace = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(500));
    let stdout = rx_out.recv_timeout(grace).unwrap_or_default();
    let stderr = rx_err
        .recv_timeout(Duration::from_millis(200))
        .unwrap_or_default();
    if !status.success() {
        let code = status
            .code()
            .map(|c| format!("exit status {c}"))
            .unwrap_or_else(|| "killed by a signal".to_string());
        let shown = one_line(&stderr, &stdout);
        return Err(if shown.is_empty() {
            format!("its command failed ({code})")
        } else {
            format!("its command failed ({code}): {shown}")
        });
    }
    PrivateKey::from_first_line(&stdout).map_err(|e| format!("its command's output {e}"))
}

impl PrivateKey {
    /// The key from some output (a command's stdout, piped stdin): its first line, trimmed,
    /// as `pass show` prints it. The error completes a phrase like "stdin …" and never
    /// contains the input.
    pub fn from_first_line(bytes: &[u8]) -> Result<PrivateKey, String> {
        if bytes.len() >= MAX_KEY_OUTPUT {
            return Err("is too long for a key (a key is one short line)".to_string());
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            return Err("has no key on its first line".to_string());
        }
        Ok(PrivateKey::new(first))
    }
}

fn read_bounded(mut r: impl Read, limit: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let _ = r.by_ref().take(limit as u64).read_to_end(&mut kept);
    // Drain the rest so the writer never blocks on a full pipe.
    let _ = std::io::copy(&mut r, &mut std::io::sink());
    kept
}

/// stderr as one bounded line, with anything the command printed on stdout scrubbed out.
fn one_line(stderr: &[u8], stdout: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(stderr).into_owned();
    for line in String::from_utf8_lossy(stdout).lines() {
        let line = line.trim();
        if line.len() >= 4 {
            text = text.replace(line, "[redacted]");
        }
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let out: String = out.chars().filter(|c| !c.is_control()).collect();
    if out.chars().count() > MAX_STDERR_SHOWN {
        let mut cut: String = out.chars().take(MAX_STDERR_SHOWN).collect();
        cut.push('…');
        cut
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let k = PrivateKey::new("  sk-live-abcdefgh1234\n");
        assert_eq!(format!("{k:?}"), "PrivateKey([redacted])");
        assert_eq!(format!("{k}"), "[redacted]");
        assert_eq!(k.expose(), b"sk-live-abcdefgh1234");
        assert_eq!(k.masked(), "hidden");
        assert_eq!(PrivateKey::new("short").masked(), "hidden");
    }

    #[test]
    fn command_first_line_is_the_key() {
        let k = run_key_command(
            "printf 'k3y-value-9876\\nmetadata: x\\n'",
            Duration::from_secs(5),
        );
        assert_eq!(
            k.map(|k| k.expose().to_vec()),
            Ok(b"k3y-value-9876".to_vec())
        );
    }

    #[test]
    fn command_failure_shows_stderr_not_stdout() {
        let e = run_key_command(
            "echo TOPSECRETOUT; echo 'gpg: decryption failed' >&2; exit 3",
            Duration::from_secs(5),
        )
        .err()
        .unwrap_or_default();
        assert_eq!(
            e,
            "its command failed (exit status 3): gpg: decryption failed"
        );
    }

    #[test]
    fn command_stderr_is_bounded_and_scrubbed() {
        let e = run_key_command(
            "echo SECRETVALUE; echo SECRETVALUE >&2; head -c 5000 /dev/zero | tr '\\0' x >&2; exit 1",
            Duration::from_secs(5),
        )
        .err()
        .unwrap_or_default();
        assert!(!e.contains("SECRETVALUE"), "{e}");
        assert!(
            e.starts_with("its command failed (exit status 1): [redacted] xxx"),
            "{e}"
        );
        assert!(e.chars().count() < 400, "{}", e.len());
    }

    #[test]
    fn command_timeout() {
        let t = Instant::now();
        let e = run_key_command("sleep 5", Duration::from_millis(300))
            .err()
            .unwrap_or_default();
        assert_eq!(
            e,
            "its command did not finish within 300 ms and was stopped"
        );
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn command_timeout_stops_what_the_shell_started() {
        let marker = "7.3456";
        let e = run_key_command(
            &format!("sleep {marker}; echo key"),
            Duration::from_millis(300),
        )
        .err()
        .unwrap_or_default();
        assert!(e.contains("was stopped"), "{e}");
        let running = || {
            std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|d| std::fs::read(d.path().join("cmdline")).ok())
                .any(|c| String::from_utf8_lossy(&c).contains(marker))
        };
        let t = Instant::now();
        while running() && t.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!running(), "the command's child still runs");
    }

    #[test]
    fn command_empty_output() {
        let e = run_key_command("true", Duration::from_secs(5)).err();
        assert_eq!(
            e.as_deref(),
            Some("its command's output has no key on its first line")
        );
    }
}
