//! Advisory file locks (`flock`-style, through `std::fs::File::lock`) that serialize the
//! read-check-write sequences of concurrent lbimport processes:
//!
//! - one per tracker id around "check the history for a duplicate, record the attempt, send,
//!   record the outcome", so that two processes uploading the same file cannot both pass the
//!   duplicate guard;
//! - one beside `trackers.toml` around "re-read, merge, write", so that no update is lost.
//!
//! The lock is released when the [`FileLock`] is dropped, and by the kernel when the process
//! dies, so a killed process never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use super::store::create_private_dir;

/// An exclusive advisory lock on a file, held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// Take the lock on `path` (created 0600 if missing, its directory 0700), waiting for
    /// another holder to release it.
    pub fn acquire(path: &Path) -> io::Result<FileLock> {
        let file = open(path)?;
        file.lock()?;
        Ok(FileLock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    /// Take the lock on `path` if nobody holds it; `Ok(None)` when another process (or another
    /// handle in this one) does.
    pub fn try_acquire(path: &Path) -> io::Result<Option<FileLock>> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock {
                _file: file,
                path: path.to_path_buf(),
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// Take the lock, calling `waiting` once when another holder makes us wait.
    pub fn acquire_or_wait(path: &Path, waiting: impl FnOnce()) -> io::Result<FileLock> {
        match Self::try_acquire(path)? {
            Some(l) => Ok(l),
            None => {
                waiting();
                Self::acquire(path)
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// The lock file that serializes uploads to `tracker_id` in data directory `data_dir`.
pub fn upload_lock_path(data_dir: &Path, tracker_id: &str) -> PathBuf {
    let safe: String = tracker_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    data_dir.join("locks").join(format!("upload-{safe}.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let p = upload_lock_path(dir.path(), "1292-9381");
        assert!(p.ends_with("locks/upload-1292-9381.lock"));
        let first = FileLock::try_acquire(&p).unwrap().expect("free");
        assert!(FileLock::try_acquire(&p).unwrap().is_none(), "held");
        drop(first);
        assert!(FileLock::try_acquire(&p).unwrap().is_some(), "released");
    }

    #[test]
    fn odd_tracker_ids_stay_inside_the_locks_dir() {
        let p = upload_lock_path(Path::new("/d"), "../../etc/x");
        assert_eq!(p, Path::new("/d/locks/upload-______etc_x.lock"));
    }
}
