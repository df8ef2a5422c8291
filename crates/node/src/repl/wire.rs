//! RESP helpers for the replication stream: commands are always arrays of bulk
//! strings, written the way Redis writes them, so offsets agree byte for byte.

/// Appends `args` as a RESP array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    let mut num = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(num.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(num.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// A fresh 40-character replication ID (hex, as Redis makes them).
pub fn new_replid() -> String {
    (0..40)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_redis() {
        let mut out = Vec::new();
        encode_command(&mut out, &["SELECT", "0"]);
        assert_eq!(out, b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n");
        assert_eq!(new_replid().len(), 40);
    }
}
