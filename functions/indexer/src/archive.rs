//! Reading a repository archive as it streams in (docs/index.md, "Source"): gzip'd tar
//! (GitHub, GitLab, Bitbucket Cloud) or zip (Azure DevOps), one entry at a time, never the
//! whole archive in memory, nothing written to disk.
//!
//! Caps: compressed bytes read, unpacked bytes walked, indexable files, and source bytes
//! handed on — past any of them the job fails with `too_large` naming the cap (never a
//! silent partial index). A file over the per-file cap is skipped and counted. Entry
//! paths are checked: an absolute path, a `..` component, or a link that leads out of the
//! archive fails the job (`archive_invalid`); links inside it are not followed (skipped).

use std::io::{self, Read};

/// The archive formats the providers serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// gzip'd tar whose entries sit under one top directory (`owner-repo-sha/…`).
    TarGz,
    /// zip whose entries are the repository's paths (Azure DevOps, `$format=zip`).
    Zip,
}

/// The caps of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Compressed bytes read from the provider.
    pub archive_bytes: u64,
    /// Unpacked bytes walked (every entry, read or skipped): a gzip bomb stops here.
    pub unpacked_bytes: u64,
    /// Files handed on for parsing.
    pub files: u32,
    /// Bytes of one file: a larger one is skipped and counted.
    pub file_bytes: u64,
    /// Bytes of all files handed on.
    pub source_bytes: u64,
}

/// Why an archive was not read through.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A cap was hit: its name (`AGNUS_INDEX_MAX_…`) and value.
    #[error("the repository is over the index cap {cap} ({limit})")]
    TooLarge { cap: &'static str, limit: u64 },
    /// Not a readable archive (truncated, corrupt, not the format asked for).
    #[error("the archive is not readable: {0}")]
    Invalid(String),
    /// An entry would lead out of the archive.
    #[error("the archive holds an unsafe entry: {0}")]
    Unsafe(String),
    /// The download itself failed (the provider, the network).
    #[error("the download failed: {0}")]
    Download(String),
    /// The job was stopped (the visitor said so).
    #[error("stopped: {0}")]
    Stopped(String),
}

/// What the walk saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Files handed on.
    pub files: u32,
    /// Files over the per-file cap or refused by the filter, and links.
    pub skipped: u32,
    pub source_bytes: u64,
}

/// Counts the bytes that pass, failing past `limit` (the error carries a marker the caller
/// turns into [`ArchiveError::TooLarge`]).
struct Counted<R> {
    inner: R,
    read: u64,
    limit: u64,
}

const OVER_CAP: &str = "agnus-index: over the cap";

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(OVER_CAP));
        }
        Ok(n)
    }
}

/// Which cap an `OVER_CAP` error came from: the innermost counter that is over.
fn io_error(e: io::Error, archive: (u64, u64), unpacked: (u64, u64)) -> ArchiveError {
    let over = e.get_ref().is_some_and(|inner| inner.to_string() == OVER_CAP);
    if over && archive.0 > archive.1 {
        return ArchiveError::TooLarge {
            cap: "AGNUS_INDEX_MAX_ARCHIVE_BYTES",
            limit: archive.1,
        };
    }
    if over {
        return ArchiveError::TooLarge {
            cap: "AGNUS_INDEX_MAX_ARCHIVE_BYTES (unpacked: 4x)",
            limit: unpacked.1,
        };
    }
    match e.kind() {
        // The download side reports its own failures as `Other` with a message.
        io::ErrorKind::Other if e.to_string().starts_with("download: ") => {
            ArchiveError::Download(e.to_string().trim_start_matches("download: ").to_owned())
        }
        _ => ArchiveError::Invalid(e.to_string()),
    }
}

/// A path inside the repository: the archive's entry name without its top directory
/// (tar), `/`-separated, no empty, `.` or `..` component. `Err`: the entry leads out.
pub fn repo_path(name: &str, strip_top: bool) -> Result<Option<String>, ArchiveError> {
    if name.starts_with('/') || name.starts_with('\\') || name.contains('\0') || name.as_bytes().get(1) == Some(&b':') {
        return Err(ArchiveError::Unsafe(format!("absolute path {name:?}")));
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => continue,
            ".." => return Err(ArchiveError::Unsafe(format!("path with '..': {name:?}"))),
            p => parts.push(p),
        }
    }
    if strip_top && !parts.is_empty() {
        parts.remove(0);
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Does a link at `path` pointing at `target` stay inside the archive?
fn link_stays_inside(path: &str, target: &str) -> bool {
    if target.starts_with('/') || target.starts_with('\\') {
        return false;
    }
    let mut depth = path.split('/').count() as i64 - 1;
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

/// Walks `reader` (the download), calling `want(path, size)` for each regular file
/// (`false`: skip it unread) and `visit(path, bytes)` for each file read.
pub fn walk<R: Read>(
    format: Format,
    reader: R,
    caps: &Caps,
    mut want: impl FnMut(&str, u64) -> bool,
    mut visit: impl FnMut(&str, Vec<u8>) -> Result<(), ArchiveError>,
) -> Result<Tally, ArchiveError> {
    let mut compressed = Counted {
        inner: reader,
        read: 0,
        limit: caps.archive_bytes,
    };
    let mut tally = Tally::default();
    let mut take = |path: &str, size: u64, entry: &mut dyn Read, tally: &mut Tally| -> Result<(), ArchiveError> {
        if size > caps.file_bytes || !want(path, size) {
            tally.skipped += 1;
            return Ok(());
        }
        if tally.files >= caps.files {
            return Err(ArchiveError::TooLarge {
                cap: "AGNUS_INDEX_MAX_FILES",
                limit: u64::from(caps.files),
            });
        }
        // Read at most one byte past the claimed size: an entry never brings more than it
        // said, whatever its header claims.
        let mut bytes = Vec::with_capacity(size.min(caps.file_bytes) as usize);
        entry
            .take(caps.file_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ArchiveError::Invalid(e.to_string()))?;
        if bytes.len() as u64 > caps.file_bytes {
            tally.skipped += 1;
            return Ok(());
        }
        tally.files += 1;
        tally.source_bytes += bytes.len() as u64;
        if tally.source_bytes > caps.source_bytes {
            return Err(ArchiveError::TooLarge {
                cap: "AGNUS_INDEX_MAX_SOURCE_BYTES",
                limit: caps.source_bytes,
            });
        }
        visit(path, bytes)
    };
    match format {
        Format::TarGz => {
            let gz = flate2::read::GzDecoder::new(&mut compressed);
            let mut unpacked = Counted {
                inner: gz,
                read: 0,
                limit: caps.unpacked_bytes,
            };
            // Read to the gzip trailer after the tar's end: its length and checksum are what
            // tell a truncated download from a whole one.
            let result = walk_tar(&mut unpacked, &mut tally, &mut take)
                .and_then(|()| io::copy(&mut unpacked, &mut io::sink()).map(|_| ()).map_err(Walk::Io));
            let counters = (
                (unpacked.inner.get_ref().read, caps.archive_bytes),
                (unpacked.read, caps.unpacked_bytes),
            );
            result.map_err(|e| match e {
                Walk::Io(e) => io_error(e, counters.0, counters.1),
                Walk::Archive(e) => e,
            })?;
        }
        Format::Zip => {
            let result = walk_zip(&mut compressed, caps, &mut tally, &mut take);
            let counters = ((compressed.read, caps.archive_bytes), (0, caps.unpacked_bytes));
            result.map_err(|e| match e {
                Walk::Io(e) => io_error(e, counters.0, counters.1),
                Walk::Archive(e) => e,
            })?;
        }
    }
    Ok(tally)
}

enum Walk {
    Io(io::Error),
    Archive(ArchiveError),
}

impl From<io::Error> for Walk {
    fn from(e: io::Error) -> Self {
        Walk::Io(e)
    }
}
impl From<ArchiveError> for Walk {
    fn from(e: ArchiveError) -> Self {
        Walk::Archive(e)
    }
}

type Take<'a> = dyn FnMut(&str, u64, &mut dyn Read, &mut Tally) -> Result<(), ArchiveError> + 'a;

fn walk_tar<R: Read>(reader: R, tally: &mut Tally, take: &mut Take<'_>) -> Result<(), Walk> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
            continue;
        }
        let Some(path) = repo_path(&name, true)? else { continue };
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            let inside = if kind.is_hard_link() {
                // A hard link names another entry of the archive (with its top directory).
                repo_path(&target, true).is_ok()
            } else {
                link_stays_inside(&path, &target)
            };
            if !inside {
                return Err(ArchiveError::Unsafe(format!("link {path:?} leads out of the archive")).into());
            }
            tally.skipped += 1;
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let size = entry.header().size()?;
        take(&path, size, &mut entry, tally)?;
    }
    Ok(())
}

fn walk_zip<R: Read>(reader: &mut R, caps: &Caps, tally: &mut Tally, take: &mut Take<'_>) -> Result<(), Walk> {
    let mut unpacked: u64 = 0;
    loop {
        let entry = zip::read::read_zipfile_from_stream(reader).map_err(|e| match e {
            zip::result::ZipError::Io(e) => Walk::Io(e),
            other => Walk::Archive(ArchiveError::Invalid(other.to_string())),
        })?;
        let Some(mut entry) = entry else { break };
        let name = entry.name().to_owned();
        let size = entry.size();
        unpacked = unpacked.saturating_add(size);
        if unpacked > caps.unpacked_bytes {
            return Err(ArchiveError::TooLarge {
                cap: "AGNUS_INDEX_MAX_ARCHIVE_BYTES (unpacked: 4x)",
                limit: caps.unpacked_bytes,
            }
            .into());
        }
        let Some(path) = repo_path(&name, false)? else { continue };
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            let mut target = String::new();
            (&mut entry).take(4096).read_to_string(&mut target).map_err(Walk::Io)?;
            if !link_stays_inside(&path, &target) {
                return Err(ArchiveError::Unsafe(format!("link {path:?} leads out of the archive")).into());
            }
            tally.skipped += 1;
            continue;
        }
        take(&path, size, &mut entry, tally)?;
        // What the entry did not read is drained when it drops (bounded by its size).
    }
    Ok(())
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
