//! `cargo xtask`: project chores written in Rust instead of shell scripts
//! (see `.cargo/config.toml` for the alias). Each chore is one subcommand whose
//! module exposes `Args` (clap) and `run(Args) -> anyhow::Result<()>`.

mod bench;
mod bench_endpoint;
mod bench_memory;
mod bench_repl;
mod bench_repl_client;
mod bench_repl_parts;
mod bench_repl_save;
mod bench_report;
mod bench_run;
mod bench_server;
mod bench_switch;
mod command_table;
mod drill_matrix;
mod test;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "ferrocache project chores"
)]
struct Cli {
    #[command(subcommand)]
    command: Chore,
}

#[derive(Debug, Subcommand)]
enum Chore {
    /// Benchmark ferrocache against redis-server with redis-benchmark and write
    /// docs/benchmarks.md.
    Bench(bench::Args),
    /// Benchmark replication (FAILOVER pause, full sync, throughput with a
    /// replica, RDB load) beside redis-server; writes docs/benchmarks-replication.md.
    BenchReplication(bench_repl::Args),
    /// Run every drill scenario through the endpoint and direct, on both engines,
    /// with the release binary; writes the table in docs/resilience.md.
    DrillMatrix(drill_matrix::Args),
    /// Regenerate the command table from a live redis-server.
    CommandTable(command_table::Args),
    /// Install what the tests need (redis-server, redis-tools, redis-py) and run them all.
    Test(test::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Chore::Bench(args) => bench::run(args),
        Chore::BenchReplication(args) => bench_repl::run(args),
        Chore::CommandTable(args) => command_table::run(args),
        Chore::DrillMatrix(args) => drill_matrix::run(args),
        Chore::Test(args) => test::run_tests(args),
    }
}
