//! The unix socket's file: a stale one left by a previous run is cleared before binding, the new
//! one is opened to every user, and it is removed again when the exporter stops.
//!
//! Why mode 0o666: sending to a unix socket needs write permission on its file, and Nginx's
//! workers run as another user than the exporter (in compose, in another container). Who may
//! reach the file is decided by its directory instead, a volume shared only by the two.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use crate::startup::StartupError;

/// Read and write for everyone; nobody executes a socket.
pub const MODE: u32 = 0o666;

/// Removes a socket file at `path` that no process receives on any more (a crash, `docker kill`,
/// a power cut), so that binding succeeds. Anything else at `path` stops the start: a regular
/// file or a directory is someone's data, and a live socket is another exporter's input.
pub fn clear_stale(path: &Path) -> Result<(), StartupError> {
    let fs_error = |action, source| StartupError::SocketFile {
        action,
        path: path.to_owned(),
        source,
    };
    // symlink_metadata: a symlink is refused as "not a socket", never followed and never removed.
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(fs_error("inspect", source)),
    };
    if !metadata.file_type().is_socket() {
        return Err(StartupError::NotASocket {
            path: path.to_owned(),
        });
    }
    // The file outlives its process; only a socket that is still bound accepts a connection.
    let probe = UnixDatagram::unbound().map_err(|source| fs_error("probe", source))?;
    match probe.connect(path) {
        Ok(()) => Err(StartupError::SocketInUse {
            path: path.to_owned(),
        }),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
            match fs::remove_file(path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a stale syslog socket");
                    Ok(())
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(fs_error("remove the stale socket", source)),
            }
        }
        // Removed between the two checks: nothing left to clear.
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(fs_error("probe", source)),
    }
}

/// The file of a socket this process bound; dropping it removes the file.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    /// Device and inode at bind time: after an overlapping restart the path may already belong
    /// to the successor's socket, which must not be removed from under it.
    identity: (u64, u64),
}

impl SocketFile {
    /// Takes ownership of the socket file just bound at `path` and sets its mode to [`MODE`]
    /// (explicitly, since the file was created through the process umask).
    pub fn open_to_all(path: &Path) -> Result<Self, StartupError> {
        let fs_error = |action, source| StartupError::SocketFile {
            action,
            path: path.to_owned(),
            source,
        };
        let metadata = fs::symlink_metadata(path).map_err(|source| fs_error("inspect", source))?;
        let file = Self {
            path: path.to_owned(),
            identity: (metadata.dev(), metadata.ino()),
        };
        // On failure `file` is dropped, which removes the socket again.
        fs::set_permissions(path, fs::Permissions::from_mode(MODE))
            .map_err(|source| fs_error("set the mode of", source))?;
        Ok(file)
    }

    /// Where the socket is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_socket() && (m.dev(), m.ino()) == self.identity);
        if !ours {
            return;
        }
        match fs::remove_file(&self.path) {
            Ok(()) => tracing::debug!(path = %self.path.display(), "removed the syslog socket"),
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "cannot remove the syslog socket")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("ale-socket-file-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("create temp dir");
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_missing_path_is_fine() {
        let dir = TempDir::new("missing");
        assert!(clear_stale(&dir.0.join("syslog.sock")).is_ok());
    }

    #[test]
    fn a_stale_socket_is_removed() {
        let dir = TempDir::new("stale");
        let path = dir.0.join("syslog.sock");
        drop(UnixDatagram::bind(&path).expect("bind"));
        assert!(path.exists(), "the file outlives the socket");
        clear_stale(&path).expect("stale socket cleared");
        assert!(!path.exists());
    }

    #[test]
    fn a_live_socket_is_left_alone() {
        let dir = TempDir::new("live");
        let path = dir.0.join("syslog.sock");
        let _live = UnixDatagram::bind(&path).expect("bind");
        let err = clear_stale(&path).expect_err("in use");
        assert!(matches!(err, StartupError::SocketInUse { .. }), "{err}");
        assert!(path.exists());
    }

    #[test]
    fn anything_but_a_socket_is_refused_and_kept() {
        let dir = TempDir::new("other");
        let file = dir.0.join("file");
        fs::write(&file, "data").expect("write");
        let subdir = dir.0.join("dir");
        fs::create_dir(&subdir).expect("mkdir");
        let link = dir.0.join("link");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        for path in [&file, &subdir, &link] {
            let err = clear_stale(path).expect_err("refused");
            assert!(matches!(err, StartupError::NotASocket { .. }), "{err}");
            let message = err.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(
                message.contains(crate::config::SYSLOG_ADDR_VAR),
                "{message}"
            );
            assert!(
                fs::symlink_metadata(path).is_ok(),
                "{} kept",
                path.display()
            );
        }
        assert_eq!(fs::read_to_string(&file).expect("read"), "data");
    }

    #[test]
    fn the_socket_is_opened_to_all_and_removed_on_drop() {
        let dir = TempDir::new("owned");
        let path = dir.0.join("syslog.sock");
        let _socket = UnixDatagram::bind(&path).expect("bind");
        let file = SocketFile::open_to_all(&path).expect("chmod");
        let mode = fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, MODE);
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn a_successors_socket_is_not_removed() {
        let dir = TempDir::new("successor");
        let path = dir.0.join("syslog.sock");
        let ours = UnixDatagram::bind(&path).expect("bind");
        let file = SocketFile::open_to_all(&path).expect("chmod");
        // A successor replaces our file with its own socket before we stop. (`ours` stays open
        // meanwhile so that its inode cannot be reused for the successor's file.)
        fs::remove_file(&path).expect("unlink");
        let _theirs = UnixDatagram::bind(&path).expect("rebind");
        drop(file);
        assert!(path.exists(), "the successor's socket survives");
        drop(ours);
    }
}
