//! RDB persistence against the real binary and a real `redis-server` 7.0: files
//! and DUMP payloads move between the two in both directions with identical
//! contents (values, TTLs, OBJECT ENCODING); a node restarted on its directory gets
//! its data back; BGSAVE serves writers while it runs and writes a point-in-time
//! copy; corrupt and truncated files are refused at start.
//!
//! - `data`: a dataset covering every type in small and large encodings, and a
//!   reader that describes a server's whole contents for comparison;
//! - `files`: SAVE in one server, load in the other; corrupt files;
//! - `lifecycle`: restart, SIGTERM with `save` points, the schedule, BGSAVE under load;
//! - `dump`: DUMP in one server, RESTORE in the other, with every option.

mod persistence {
    pub mod data;
    mod dump;
    mod files;
    mod lifecycle;
}
