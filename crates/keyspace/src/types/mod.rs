//! The aggregate data types, one file each. Every type keeps the encoding name Redis
//! would report for the same data (OBJECT ENCODING), because tools look at it; the
//! switch from the compact to the general encoding is one-way, as in Redis.

pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use zset::ZSet;
