//! Output directories and atomic writes.
//!
//! Policy (docs/outputs.md): an existing output directory that already holds files is refused
//! unless `--force`; every file is first written to `.<name>.tmp-<pid>` in the same
//! directory and then renamed, so a reader never sees half a file and an interrupted
//! run leaves the previous file intact.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Errors of the output layer.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The directory exists and is not empty, and `--force` was not given.
    #[error("output directory {dir} already exists and is not empty; use --force to overwrite its files, or choose another --out")]
    Exists {
        /// The directory.
        dir: PathBuf,
    },
    /// The path exists but is not a directory.
    #[error("output path {dir} exists and is not a directory")]
    NotADirectory {
        /// The path.
        dir: PathBuf,
    },
    /// An I/O failure while creating or writing.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// A directory that receives a command's results.
#[derive(Debug, Clone)]
pub struct OutputDir {
    dir: PathBuf,
}

impl OutputDir {
    /// Prepare `dir` for writing: create it (with parents) if missing; refuse an existing
    /// non-empty directory unless `force`.
    pub fn prepare(dir: &Path, force: bool) -> Result<Self, OutputError> {
        if dir.exists() {
            if !dir.is_dir() {
                return Err(OutputError::NotADirectory { dir: dir.into() });
            }
            let non_empty = fs::read_dir(dir)
                .map_err(|source| OutputError::Io {
                    path: dir.into(),
                    source,
                })?
                .next()
                .is_some();
            if non_empty && !force {
                return Err(OutputError::Exists { dir: dir.into() });
            }
        } else {
            fs::create_dir_all(dir).map_err(|source| OutputError::Io {
                path: dir.into(),
                source,
            })?;
        }
        Ok(OutputDir { dir: dir.into() })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Path of a file inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Write `bytes` to `name` atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
        let target = self.file(name);
        write_atomic(&target, bytes)?;
        Ok(target)
    }

    /// Write a file produced by `fill` atomically: `fill` writes into a buffer.
    pub fn write_with<F>(&self, name: &str, fill: F) -> Result<PathBuf, OutputError>
    where
        F: FnOnce(&mut Vec<u8>) -> io::Result<()>,
    {
        let mut buf = Vec::new();
        fill(&mut buf).map_err(|source| OutputError::Io {
            path: self.file(name),
            source,
        })?;
        self.write(name, &buf)
    }
}

/// The temporary name of `target` while it is written: `.<name>.tmp-<pid>` in the same
/// directory.
fn temporary_path(target: &Path) -> PathBuf {
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Write `bytes` to `target` through a temporary file in the same directory and a rename.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io_err = |source| OutputError::Io {
        path: target.into(),
        source,
    };
    let tmp = temporary_path(target);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err)
}

/// A file written in a stream through a temporary name in the same directory, renamed
/// to its final name by [`AtomicFile::commit`]; dropped without a commit (an error
/// on the way), the temporary file is removed and any previous file is left intact.
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    out: Option<io::BufWriter<fs::File>>,
}

impl AtomicFile {
    /// Start writing `target` (through `.<name>.tmp-<pid>`).
    pub fn create(target: &Path) -> Result<Self, OutputError> {
        let tmp = temporary_path(target);
        let file = fs::File::create(&tmp).map_err(|source| OutputError::Io {
            path: target.into(),
            source,
        })?;
        Ok(AtomicFile {
            target: target.into(),
            tmp,
            out: Some(io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// An I/O error on this file.
    pub fn error(&self, source: io::Error) -> OutputError {
        OutputError::Io {
            path: self.target.clone(),
            source,
        }
    }

    /// Flush, sync and rename to the final name.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let result = (|| {
            if let Some(w) = self.out.take() {
                let file = w.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
            }
            fs::rename(&self.tmp, &self.target)
        })();
        result.map_err(|e| self.error(e))?;
        Ok(self.target.clone())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The path of `file` relative to the directory `dir` (both resolved to absolute,
/// canonical paths first), e.g. `../models/m.model`; `None` when either cannot be
/// resolved or they share no root (another drive).
pub fn relative_path(dir: &Path, file: &Path) -> Option<PathBuf> {
    let dir = fs::canonicalize(dir).ok()?;
    let file = fs::canonicalize(file).ok()?;
    let d: Vec<_> = dir.components().collect();
    let f: Vec<_> = file.components().collect();
    if d.first() != f.first() {
        return None;
    }
    let common = d.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &f[common..] {
        rel.push(c);
    }
    Some(rel)
}

/// SHA-256 of a byte string, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file's contents, lower-case hex. The file is read in pieces, so hashing
/// a large output (a `simulation.csv` of several hundred MB) takes no memory.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut io::BufReader::new(fs::File::open(path)?), &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_file_read_in_pieces_equals_the_hash_of_its_bytes() {
        // 3 MB, more than any read buffer, so the streamed hash spans many pieces
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        fs::write(&path, &bytes).unwrap();
        assert_eq!(sha256_file(&path).unwrap(), sha256_hex(&bytes));
    }

    #[test]
    fn sha256_of_abc_matches_fips_180_2_example() {
        // FIPS 180-2, Appendix B.1: SHA-256("abc").
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn existing_non_empty_directory_needs_force() {
        let tmp = tempfile::tempdir().unwrap();
        let out = OutputDir::prepare(tmp.path(), false).unwrap();
        out.write("a.csv", b"x\n1\n").unwrap();
        let err = OutputDir::prepare(tmp.path(), false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        let again = OutputDir::prepare(tmp.path(), true).unwrap();
        again.write("a.csv", b"x\n2\n").unwrap();
        assert_eq!(fs::read(tmp.path().join("a.csv")).unwrap(), b"x\n2\n");
        // no temporary file is left behind
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_file_appears_only_on_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("big.csv");
        fs::write(&target, b"old\n").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new\n").unwrap();
        // the previous file is intact until the commit
        assert_eq!(fs::read(&target).unwrap(), b"old\n");
        f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new\n");
        // an abandoned file leaves neither a temporary file nor a change
        let mut g = AtomicFile::create(&target).unwrap();
        g.write_all(b"partial").unwrap();
        drop(g);
        assert_eq!(fs::read(&target).unwrap(), b"new\n");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn relative_path_goes_up_then_down() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("fits/a")).unwrap();
        fs::create_dir_all(tmp.path().join("models")).unwrap();
        fs::write(tmp.path().join("models/m.model"), b"x").unwrap();
        let rel = relative_path(
            &tmp.path().join("fits/a"),
            &tmp.path().join("models/m.model"),
        );
        assert_eq!(rel, Some(PathBuf::from("../../models/m.model")));
    }
}
