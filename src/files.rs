//! Files lbimport writes hold purchase data and user ids: they are created readable by their
//! owner only. Used by every layer that writes (conversion, splitting, the configuration, the
//! history); depends on nothing in lbimport.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

/// Create (or truncate) a file readable and writable by its owner only (0600 on Unix): the
/// files lbimport writes hold purchase data and user ids.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Create a directory (and parents) readable by the owner only; an existing one is left as is.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}
