//! TLS for the endpoint's TLS ports: a certificate and key from PEM files, or a
//! self-signed pair generated once into the data directory and reused after.

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Where the TLS identity comes from.
#[derive(Debug, Clone)]
pub enum Identity {
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// Generate (or reuse) `gateway-cert.pem`/`gateway-key.pem` in this directory.
    SelfSigned {
        dir: PathBuf,
    },
}

/// Builds the acceptor, generating the self-signed pair if needed.
pub fn acceptor(identity: &Identity) -> anyhow::Result<TlsAcceptor> {
    let (cert, key) = match identity {
        Identity::Files { cert, key } => (cert.clone(), key.clone()),
        Identity::SelfSigned { dir } => self_signed(dir)?,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .with_context(|| format!("cannot read certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("invalid certificate in {}", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("no certificate in {}", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(&key)
        .with_context(|| format!("cannot read private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and key do not form a usable pair")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The paths of the self-signed pair in `dir`, created on first use.
fn self_signed(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cert = dir.join("gateway-cert.pem");
    let key = dir.join("gateway-key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let pair = rcgen::generate_simple_self_signed(names).context("generating a certificate")?;
    std::fs::write(&cert, pair.cert.pem())
        .with_context(|| format!("cannot write {}", cert.display()))?;
    write_private(&key, pair.key_pair.serialize_pem().as_bytes())?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
    Ok((cert, key))
}

/// Writes the key readable by its owner only.
fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(data)?;
    Ok(())
}
