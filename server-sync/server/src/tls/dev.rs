//! Development certificates: a throw-away CA and a server certificate it
//! signed, for the demo, the tests and a trial install
//! (`exam-server tls-dev-cert`). Production certificates come from the
//! hospital's CA; nothing here is meant for them.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

use super::TlsError;

/// The names a development certificate is for when none are given: the
/// loopback names, so a service on 127.0.0.1 or `localhost` is reachable.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A development CA and one server certificate signed by it, as PEM. The
/// CA's private key is not kept: another server certificate needs a new
/// pair (and the kiosks the new CA).
#[derive(Clone)]
pub struct DevPki {
    /// The CA certificate: what clients trust (a kiosk's `server_ca`).
    pub ca_pem: String,
    /// The server's certificate (the service's `tls_cert`).
    pub cert_pem: String,
    /// The server's private key, PKCS#8 (the service's `tls_key`).
    pub key_pem: String,
    /// The names in the server certificate (DNS names and IP addresses).
    pub hosts: Vec<String>,
}

impl std::fmt::Debug for DevPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is secret: never in a log line.
        f.debug_struct("DevPki")
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

/// Where [`DevPki::write`] put each file.
#[derive(Debug, Clone)]
pub struct DevPkiFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn serial() -> SerialNumber {
    let mut b = exam_protocol::auth::random_bytes::<16>();
    // A positive INTEGER, never zero (RFC 5280 4.1.2.2).
    b[0] = (b[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&b)
}

/// Month and day come from a valid date, so rcgen's range checks hold.
macro_rules! ymd {
    ($d:expr) => {
        rcgen::date_time_ymd($d.year(), $d.month() as u8, $d.day() as u8)
    };
}

/// Issues a development CA and a server certificate for `hosts` (DNS names
/// or IP addresses; the loopback names when empty), valid from yesterday
/// (`today` passed in) for 397 days, the longest browsers accept.
pub fn issue(hosts: &[String], today: NaiveDate) -> Result<DevPki, TlsError> {
    let hosts: Vec<String> = if hosts.is_empty() {
        LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect()
    } else {
        hosts.to_vec()
    };
    let (from, until) = (today - chrono::Days::new(1), today + chrono::Days::new(397));
    let tag = hex_tag();

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(
        DnType::CommonName,
        format!("exam-kiosk development CA {tag}"),
    );
    ca.distinguished_name
        .push(DnType::OrganizationName, "exam-kiosk development");
    // It signs server certificates only, never another CA.
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = ymd!(from);
    ca.not_after = ymd!(until);
    ca.serial_number = Some(serial());
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(hosts.clone())?;
    leaf.distinguished_name
        .push(DnType::CommonName, hosts[0].clone());
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = ymd!(from);
    leaf.not_after = ymd!(until);
    leaf.serial_number = Some(serial());
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok(DevPki {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        hosts,
    })
}

fn hex_tag() -> String {
    exam_protocol::auth::random_bytes::<4>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl DevPki {
    /// Writes `ca.pem`, `server.pem` and `server-key.pem` (mode 0600) into
    /// `dir`, creating it.
    pub fn write(&self, dir: &Path) -> Result<DevPkiFiles, TlsError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TlsError::Read { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let files = DevPkiFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
        };
        std::fs::write(&files.ca, &self.ca_pem).map_err(io(&files.ca))?;
        std::fs::write(&files.cert, &self.cert_pem).map_err(io(&files.cert))?;
        write_private(&files.key, self.key_pem.as_bytes()).map_err(io(&files.key))?;
        Ok(files)
    }
}

/// Writes a file only its owner can read (a private key), replacing it.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_a_ca_and_a_server_certificate_that_load() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let pki = issue(&[], today).unwrap();
        assert_eq!(pki.hosts, ["localhost", "127.0.0.1", "::1"]);
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.key_pem.contains("PRIVATE KEY"));
        assert!(
            !format!("{pki:?}").contains("PRIVATE"),
            "the key is not in Debug"
        );
        let dir = tempfile::tempdir().unwrap();
        let files = pki.write(dir.path()).unwrap();
        super::super::load_server_config(&files.cert, &files.key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Two issues are two CAs.
        assert_ne!(issue(&[], today).unwrap().ca_pem, pki.ca_pem);
    }
}
