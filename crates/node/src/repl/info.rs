//! INFO's replication section, with Redis's field names and order, so that the
//! management service and existing tools (Sentinel-style scripts, exporters) read
//! it unchanged.

use super::state::LinkState;
use super::Role;
use crate::server::Shared;
use std::fmt::Write;

pub fn section(srv: &Shared) -> String {
    let settings = srv.settings();
    let st = srv.repl.lock();
    let mut o = String::from("# Replication\r\n");
    let offset = st.offset();
    match &st.role {
        Role::Primary => {
            let _ = write!(o, "role:master\r\n");
        }
        Role::Replica { host, port } => {
            let link = st.link.as_ref();
            let state = link.map_or(LinkState::Connect, |l| l.state);
            let up = state == LinkState::Connected;
            let last_io_ms = link.map_or(-1, |l| l.last_io.elapsed().as_millis() as i64);
            let last_io = if last_io_ms < 0 {
                -1
            } else {
                last_io_ms / 1000
            };
            let _ = write!(
                o,
                "role:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{offset}\r\nslave_repl_offset:{offset}\r\n",
                if up { "up" } else { "down" },
                if up { last_io } else { -1 },
                u8::from(state == LinkState::Sync),
            );
            if up {
                // Ours, beside Redis's whole seconds: the management service takes a
                // replica's word that its primary went silent without waiting for
                // the next second to tick over.
                let _ = write!(o, "master_last_io_ms_ago:{last_io_ms}\r\n");
            }
            if !up {
                let since = link.map_or(0, |l| l.down_since.elapsed().as_secs());
                let _ = write!(o, "master_link_down_since_seconds:{since}\r\n");
            }
            let _ = write!(
                o,
                "slave_priority:100\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
                u8::from(settings.repl.read_only)
            );
        }
    }
    let _ = write!(o, "connected_slaves:{}\r\n", st.replicas.len());
    for (i, r) in st.replicas.values().enumerate() {
        let _ = write!(
            o,
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            r.ip,
            r.listening_port,
            r.state,
            r.ack_offset,
            r.ack_time.elapsed().as_secs()
        );
    }
    let (active, size, first, histlen) = match st.backlog() {
        Some(b) => (1, b.capacity(), b.first(), b.len()),
        None => (0, settings.repl.backlog_size, 0, 0),
    };
    let _ = write!(
        o,
        "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{offset}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{active}\r\nrepl_backlog_size:{size}\r\nrepl_backlog_first_byte_offset:{first}\r\nrepl_backlog_histlen:{histlen}\r\n",
        st.failover.phase.word(),
        st.replid,
        st.replid2,
        st.second_offset,
    );
    o
}
