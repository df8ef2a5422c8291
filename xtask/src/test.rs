//! `cargo xtask test`: the README's test command. Installs what the tests need when
//! it is missing (Debian's redis-server and redis-tools, the redis Python package),
//! then runs every test in the workspace.

use anyhow::{bail, Context};
use std::process::Command;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only check and install the test dependencies; do not run the tests.
    #[arg(long)]
    pub deps_only: bool,
    /// Extra arguments passed to `cargo test` (after `--`).
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Debian's redis-server and redis-tools (redis-cli, redis-benchmark).
fn ensure_redis() -> anyhow::Result<()> {
    let missing: Vec<&str> = ["redis-server", "redis-cli", "redis-benchmark"]
        .into_iter()
        .filter(|t| !on_path(t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "xtask: {} missing; installing redis-server and redis-tools",
        missing.join(", ")
    );
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut c = Command::new(sudo.first().copied().unwrap_or("apt-get"));
        if !sudo.is_empty() {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-qq"]))?;
    run(&mut apt(&[
        "install",
        "-y",
        "-qq",
        "redis-server",
        "redis-tools",
    ]))
    .context("install redis-server and redis-tools (Debian packages) by hand, then run again")?;
    // The package may start a system redis on 6379; the tests use their own ports.
    Ok(())
}

/// The redis Python package, for the redis-py client tests.
fn ensure_redis_py() -> anyhow::Result<()> {
    let has = || {
        Command::new("python3")
            .args(["-c", "import redis"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if has() {
        return Ok(());
    }
    eprintln!("xtask: the redis Python package is missing; installing it with pip");
    let plain = run(Command::new("python3").args(["-m", "pip", "install", "-q", "redis"]));
    if plain.is_err() {
        // Debian's own python refuses pip installs without this flag (PEP 668).
        run(Command::new("python3").args([
            "-m",
            "pip",
            "install",
            "-q",
            "--break-system-packages",
            "redis",
        ]))?;
    }
    if !has() {
        bail!("`import redis` still fails after installing it");
    }
    Ok(())
}

pub fn run_tests(args: Args) -> anyhow::Result<()> {
    ensure_redis()?;
    ensure_redis_py()?;
    if args.deps_only {
        return Ok(());
    }
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["test", "--workspace"]);
    if !args.cargo_args.is_empty() {
        cmd.arg("--").args(&args.cargo_args);
    }
    run(&mut cmd)
}
