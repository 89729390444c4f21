//! One size-rotating log file, as lib/logging/rotatingFile.js keeps it: the newest lines in
//! `<name>.log`, older ones in `<name>1.log` … `<name>(max_files-1).log`; a line that would
//! take the live file past `max_size` starts a new one (an empty file takes one line however
//! long). The file and its directory are created by the first line written.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// The end of line of the files (Node's `os.EOL`).
#[cfg(windows)]
pub const EOL: &str = "\r\n";
#[cfg(not(windows))]
pub const EOL: &str = "\n";

/// Bytes buffered before a write to the file: a storm's lines go out in a few large writes.
const BUFFER: usize = 64 * 1024;

/// Where one file lives and how it rotates.
#[derive(Clone, Debug)]
pub struct FileSpec {
    pub dir: PathBuf,
    /// e.g. `error.log`.
    pub file_name: String,
    /// Bytes of the live file before it rotates; 0 never rotates.
    pub max_size: u64,
    /// Files kept, the live one included (at least 1).
    pub max_files: u32,
    /// Takes handled errors logged at `error` only (not warnings).
    pub errors_only: bool,
}

/// A log file being written.
pub struct LogFile {
    pub spec: FileSpec,
    out: Option<BufWriter<File>>,
    size: u64,
    /// Set by the first failure: lines are dropped from then on rather than retried.
    broken: bool,
}

impl LogFile {
    pub fn new(spec: FileSpec) -> Self {
        LogFile {
            spec,
            out: None,
            size: 0,
            broken: false,
        }
    }

    fn path(&self, i: u32) -> PathBuf {
        if i == 0 {
            return self.spec.dir.join(&self.spec.file_name);
        }
        let name = &self.spec.file_name;
        let (stem, ext) = match name.rfind('.') {
            Some(p) if p > 0 => name.split_at(p),
            _ => (name.as_str(), ""),
        };
        self.spec.dir.join(format!("{stem}{i}{ext}"))
    }

    fn open(&mut self) -> std::io::Result<()> {
        fs::create_dir_all(&self.spec.dir)?;
        let path = self.path(0);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        self.size = file.metadata().map(|m| m.len()).unwrap_or(0);
        self.out = Some(BufWriter::with_capacity(BUFFER, file));
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        if self.spec.max_files <= 1 {
            match fs::remove_file(self.path(0)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        } else {
            for i in (1..self.spec.max_files).rev() {
                let from = self.path(i - 1);
                if from.exists() {
                    fs::rename(&from, self.path(i))?;
                }
            }
        }
        self.open()
    }

    /// Appends one line (without its end of line). `Ok(false)`: dropped, the file failed
    /// before; `Err`: it fails now (dropped too, and from now on).
    pub fn write_line(&mut self, line: &str) -> std::io::Result<bool> {
        if self.broken {
            return Ok(false);
        }
        let r = self.append(line);
        if r.is_err() {
            self.broken = true;
            self.out = None;
        }
        r.map(|()| true)
    }

    fn append(&mut self, line: &str) -> std::io::Result<()> {
        if self.out.is_none() {
            self.open()?;
        }
        let len = (line.len() + EOL.len()) as u64;
        if self.spec.max_size > 0 && self.size > 0 && self.size + len > self.spec.max_size {
            self.rotate()?;
        }
        if let Some(out) = self.out.as_mut() {
            out.write_all(line.as_bytes())?;
            out.write_all(EOL.as_bytes())?;
            self.size += len;
        }
        Ok(())
    }

    /// Hands what the buffer holds to the file.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if let Some(out) = self.out.as_mut() {
            if let Err(e) = out.flush() {
                self.broken = true;
                self.out = None;
                return Err(e);
            }
        }
        Ok(())
    }
}
