//! CRC-64 as Redis computes it (the "Jones" polynomial, reflected, init 0), over
//! whole RDB files and DUMP payloads.

use crc::{Crc, Digest, Table, CRC_64_REDIS};

/// Slice-by-16 tables: files can be large and this runs over every byte.
static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// The CRC-64 of `bytes`.
pub fn crc64(bytes: &[u8]) -> u64 {
    CRC64.checksum(bytes)
}

/// A running CRC-64 for data that arrives in pieces.
pub(crate) type Crc64Digest = Digest<'static, u64, Table<16>>;

pub(crate) fn digest() -> Crc64Digest {
    CRC64.digest()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_value() {
        // The check value of CRC-64/REDIS, also asserted by Redis's own crc64 test.
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        assert_eq!(crc64(b""), 0);
        let mut d = digest();
        d.update(b"1234");
        d.update(b"56789");
        assert_eq!(d.finalize(), 0xe9c6d914c4b8d9ca);
    }
}
