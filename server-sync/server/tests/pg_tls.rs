//! PostgreSQL over TLS (issue 17 item 1): the link to the store is
//! encrypted and the server's certificate verified (`sslmode=verify-full`),
//! a certificate from another CA is refused, and the service itself runs
//! on such a link. `scripts/test` makes the local PostgreSQL serve TLS with
//! a test CA and exports that CA as `EXAM_TEST_PG_CA`; without it the test
//! fails (it never skips).

#![allow(clippy::unwrap_used)]

use sqlx::Connection;
use sqlx::postgres::PgConnection;

fn admin_url() -> String {
    std::env::var("EXAM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn test_ca() -> String {
    let ca = std::env::var("EXAM_TEST_PG_CA").unwrap_or_else(|_| {
        panic!(
            "EXAM_TEST_PG_CA is not set: it names the CA of the test PostgreSQL's certificate. \
             scripts/test sets PostgreSQL up for TLS and exports it"
        )
    });
    assert!(
        std::path::Path::new(&ca).is_file(),
        "EXAM_TEST_PG_CA={ca}: no such file (run scripts/test)"
    );
    ca
}

/// `url` with TLS parameters added (and its host replaced when given).
fn verified(url: &str, ca: &str, host: Option<&str>) -> String {
    let mut url = url.to_string();
    if let Some(host) = host {
        url = url.replacen("@127.0.0.1", &format!("@{host}"), 1);
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=verify-full&sslrootcert={ca}")
}

async fn encrypted(c: &mut PgConnection) -> (bool, Option<String>) {
    sqlx::query_as("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(c)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_store_link_is_verified_tls() {
    let (admin, ca) = (admin_url(), test_ca());
    for host in [None, Some("localhost")] {
        let url = verified(&admin, &ca, host);
        let mut c = PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("verify-full to {host:?}: {e}"));
        let (ssl, version) = encrypted(&mut c).await;
        assert!(ssl, "the link is encrypted ({host:?})");
        assert!(
            version.as_deref().is_some_and(|v| v.starts_with("TLSv1.")),
            "{version:?}"
        );
        c.close().await.unwrap();
    }

    // A CA that did not sign the server's certificate: refused.
    let dir = tempfile::tempdir().unwrap();
    let other = exam_server::tls::dev::issue(&[], chrono::Utc::now().date_naive()).unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, &other.ca_pem).unwrap();
    let wrong = verified(&admin, other_ca.to_str().unwrap(), None);
    let e = PgConnection::connect(&wrong).await.unwrap_err();
    assert!(
        e.to_string().to_lowercase().contains("certificate")
            || format!("{e:?}").to_lowercase().contains("certificate"),
        "{e}"
    );
}

#[tokio::test]
async fn the_service_runs_on_a_verified_tls_store() {
    let (admin, ca) = (admin_url(), test_ca());
    let mut c = PgConnection::connect(&verified(&admin, &ca, None))
        .await
        .unwrap();
    let name = format!(
        "exam_tls_{}",
        hex::encode(exam_protocol::auth::random_bytes::<6>())
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut c)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("data.key");
    exam_vault::KeyRing::generate()
        .unwrap()
        .write_new_file(&key)
        .unwrap();
    let server = exam_server::start(exam_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: verified(&format!("{base}/{name}"), &ca, None),
        data_key_file: Some(key),
        ..exam_server::Config::default()
    })
    .await
    .unwrap();
    let r = reqwest::get(format!("{}/healthz", server.url()))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Every connection the service holds to its store is encrypted.
    let (n, all_ssl): (i64, Option<bool>) = sqlx::query_as(
        "SELECT count(*), bool_and(s.ssl) FROM pg_stat_activity a \
         JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1",
    )
    .bind(&name)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(n > 0, "the service is connected");
    assert_eq!(all_ssl, Some(true), "{n} connections, not all encrypted");
    server.stop().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut c)
    .await
    .unwrap();
}
