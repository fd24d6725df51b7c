//! Private files and folders: patient data is readable by its owner only.
//!
//! On unix the modes say so (files 0600, folders 0700). Windows has no mode bits: a new file
//! or folder takes the access control list its parent passes down, and the monitor sets none
//! of its own (no ACL crate). Its sessions live under the user's profile, in the app-data
//! folder (`%APPDATA%\apheresis-monitor\apheresis-monitor\data\sessions`), whose inherited
//! ACL gives access only to the user, SYSTEM and the administrators; a session folder chosen
//! elsewhere gets that folder's ACL (RELIABILITY.md).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates a new file readable and writable by the owner only (0600 on unix; on Windows the
/// ACL its folder passes down). Fails if the file exists: a recording is never overwritten.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).read(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates a folder and its parents, each new one private to the owner (0700 on unix; on
/// Windows the ACL its parent passes down).
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    if path.as_os_str().is_empty() || path.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Makes a rename or a file creation in `dir` durable. On Windows a folder cannot be opened
/// as a file to flush it; NTFS journals its metadata, so there is nothing to do.
// Off unix there is nothing to sync, so the result is always Ok there.
#[cfg_attr(not(unix), allow(clippy::unnecessary_wraps))]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
