//! After the drill: every acknowledged write read back through the endpoint, and
//! every counter compared with the increments acknowledged (and those whose outcome
//! is unknown).

use crate::workload::{counter, key, value, WorkerOut};
use ferrocache_client::Client;

const BATCH: usize = 500;

#[derive(Debug, Default)]
pub struct Verified {
    pub lost_writes: u64,
    /// A few of the lost keys, to look at.
    pub lost_sample: Vec<String>,
    /// Sum over counters of how far each is outside [acknowledged, acknowledged + unknown].
    pub counters_off: u64,
}

pub async fn verify(
    client: &mut Client,
    run: &str,
    outs: &[WorkerOut],
) -> anyhow::Result<Verified> {
    let mut v = Verified::default();
    for o in outs {
        for chunk in o.acks.chunks(BATCH) {
            let keys: Vec<String> = chunk.iter().map(|a| key(run, o.worker, a.seq)).collect();
            let got: Vec<Option<String>> =
                redis::cmd("MGET").arg(&keys).query_async(client).await?;
            for (a, g) in chunk.iter().zip(got) {
                if g.as_deref() != Some(value(run, o.worker, a.seq).as_str()) {
                    v.lost_writes += 1;
                    if v.lost_sample.len() < 5 {
                        v.lost_sample.push(key(run, o.worker, a.seq));
                    }
                }
            }
        }
        let n: Option<u64> = redis::cmd("GET")
            .arg(counter(run, o.worker))
            .query_async(client)
            .await?;
        v.counters_off += off_by(n.unwrap_or(0), o.incr_acked, o.incr_unknown);
    }
    Ok(v)
}

/// How far `value` lies outside `[acked, acked + unknown]`.
pub fn off_by(value: u64, acked: u64, unknown: u64) -> u64 {
    if value < acked {
        acked - value
    } else {
        value.saturating_sub(acked + unknown)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn off_by_counts_both_directions() {
        assert_eq!(super::off_by(10, 10, 0), 0);
        assert_eq!(super::off_by(11, 10, 2), 0);
        assert_eq!(super::off_by(7, 10, 2), 3);
        assert_eq!(super::off_by(14, 10, 2), 2);
    }
}
