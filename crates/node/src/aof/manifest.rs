//! The AOF manifest, in Redis 7's format: one line per file,
//! `file <name> seq <n> type <b|h|i>`, the base first, then the incremental files
//! in order. It is replaced only whole (temporary file, fsync, rename), so a crash
//! leaves either the old set of files or the new one.

use anyhow::{anyhow, bail, Context};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub seq: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<Entry>,
    pub incrs: Vec<Entry>,
}

impl Manifest {
    pub fn path(dir: &Path, filename: &str) -> PathBuf {
        dir.join(format!("{filename}.manifest"))
    }

    pub fn base_name(filename: &str, seq: u64) -> String {
        format!("{filename}.{seq}.base.rdb")
    }

    pub fn incr_name(filename: &str, seq: u64) -> String {
        format!("{filename}.{seq}.incr.aof")
    }

    pub fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(1, |b| b.seq + 1)
    }

    pub fn next_incr_seq(&self) -> u64 {
        self.incrs.iter().map(|e| e.seq).max().unwrap_or(0) + 1
    }

    /// Every file the manifest names.
    pub fn files(&self) -> impl Iterator<Item = &Entry> {
        self.base.iter().chain(self.incrs.iter())
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(b) = &self.base {
            out.push_str(&format!("file {} seq {} type b\n", b.name, b.seq));
        }
        for i in &self.incrs {
            out.push_str(&format!("file {} seq {} type i\n", i.name, i.seq));
        }
        out
    }

    /// Parses a manifest; history entries (type h) are ignored, as Redis deletes
    /// those files anyway.
    pub fn parse(text: &str) -> anyhow::Result<Manifest> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() < 6 || !words.len().is_multiple_of(2) {
                bail!("Invalid AOF manifest file format (line {})", n + 1);
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair[0] {
                    "file" => name = Some(pair[1]),
                    "seq" => seq = pair[1].parse::<u64>().ok(),
                    "type" => kind = Some(pair[1]),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                bail!("Invalid AOF manifest file format (line {})", n + 1);
            };
            if name.contains('/') {
                bail!("File can't be a path, just a filename (line {})", n + 1);
            }
            let entry = Entry {
                name: name.to_string(),
                seq,
            };
            match kind {
                "b" => {
                    if m.base.is_some() {
                        bail!("Found duplicate base file information (line {})", n + 1);
                    }
                    m.base = Some(entry);
                }
                "i" => {
                    if m.incrs.last().is_some_and(|l| l.seq >= seq) {
                        bail!("Found a non-monotonic sequence number (line {})", n + 1);
                    }
                    m.incrs.push(entry);
                }
                "h" => {}
                other => bail!("Unknown AOF file type '{other}' (line {})", n + 1),
            }
        }
        Ok(m)
    }

    /// Reads `dir`/`filename`.manifest; None if there is none.
    pub fn read(dir: &Path, filename: &str) -> anyhow::Result<Option<Manifest>> {
        let path = Manifest::path(dir, filename);
        match std::fs::read_to_string(&path) {
            Ok(text) => Manifest::parse(&text)
                .map(Some)
                .with_context(|| format!("cannot use {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow!(e)).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Replaces the manifest on disk atomically.
    pub fn persist(&self, dir: &Path, filename: &str) -> anyhow::Result<()> {
        let text = self.render();
        crate::persist::file::write_atomic(&Manifest::path(dir, filename), |out| {
            use std::io::Write;
            out.write_all(text.as_bytes())?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_redis_format() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\n\
                    file appendonly.aof.1.incr.aof seq 1 type h\n\
                    file appendonly.aof.3.incr.aof seq 3 type i\n\
                    file appendonly.aof.4.incr.aof seq 4 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().seq, 2);
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.next_incr_seq(), 5);
        assert_eq!(
            m.render(),
            "file appendonly.aof.2.base.rdb seq 2 type b\n\
             file appendonly.aof.3.incr.aof seq 3 type i\n\
             file appendonly.aof.4.incr.aof seq 4 type i\n"
        );
        assert!(Manifest::parse("file x seq 1\n").is_err());
        assert!(Manifest::parse("file ../x seq 1 type b\n").is_err());
        assert!(Manifest::parse("file a seq 1 type b\nfile b seq 2 type b\n").is_err());
    }
}
