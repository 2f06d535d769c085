//! The service's data keys (issue 17 item 9, S2): loaded before the store
//! is opened, from `data_key_file` or the `EXAM_DATA_KEY` environment
//! variable. There is no start without them: the store keeps every
//! personal datum sealed, and a service that could not open them could not
//! work (nor should it write anything in clear instead).
//!
//! The same keys open a sealed `database_url` (`exam-server seal-secret`):
//! the password to the store need not sit in clear in the configuration.

use std::sync::Arc;

use exam_vault::{KeyRing, VaultError};

use crate::config::Config;
use crate::db::Db;

/// The key ring the configuration names (file first, else the environment).
pub fn load(config: &Config) -> Result<KeyRing, VaultError> {
    KeyRing::load(config.data_key_file.as_deref(), exam_vault::DEFAULT_ENV)
}

/// The database URL to connect with: opened when sealed; a plain one with
/// a password is taken, with a warning (the password is not logged).
pub fn database_url(configured: &str, keys: &KeyRing) -> Result<String, VaultError> {
    if configured.starts_with(exam_vault::SEALED_PREFIX) {
        return keys.reveal_config(configured);
    }
    if has_password(configured) {
        tracing::warn!(
            "database_url holds a password in clear: seal it with `exam-server seal-secret` \
             (S2: no secret in plain configuration)"
        );
    }
    Ok(configured.to_string())
}

/// True when a URL carries a password (`scheme://user:password@host`, or a
/// `password=` parameter).
pub fn has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let userinfo = authority.rsplit_once('@').map(|(u, _)| u);
    userinfo.is_some_and(|u| u.split_once(':').is_some_and(|(_, p)| !p.is_empty()))
        || url
            .split_once('?')
            .is_some_and(|(_, q)| q.split('&').any(|kv| kv.starts_with("password=")))
}

/// Opens the configured store with its keys (the subcommands' way in;
/// `start` does the same in its own order).
pub async fn open_store(config: &Config) -> Result<Db, crate::StartError> {
    let keys = Arc::new(load(config)?);
    let url = database_url(&config.database_url, &keys)?;
    crate::tls::check_database_url(&url)?;
    Ok(Db::connect(&url, keys).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_noticed() {
        assert!(has_password("postgres://exam:s3cret@db/exam"));
        assert!(has_password("postgres://db/exam?user=exam&password=x"));
        assert!(!has_password("postgres://exam@db/exam"));
        assert!(!has_password("postgres://exam:@db/exam"));
        assert!(!has_password("sqlite:///var/lib/exam/exam.db"));
        assert!(!has_password("sqlite://exam.db?mode=rwc"));
    }

    #[test]
    fn a_sealed_url_opens_with_the_keys_only() {
        let keys = KeyRing::generate().unwrap();
        let url = "postgres://exam:s3cret@db/exam";
        let sealed = keys.seal_config(url).unwrap();
        assert_eq!(database_url(&sealed, &keys).unwrap(), url);
        assert!(database_url(&sealed, &KeyRing::generate().unwrap()).is_err());
        assert_eq!(database_url(url, &keys).unwrap(), url);
    }
}
