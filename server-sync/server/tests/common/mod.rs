//! Test harness: a real server on a free port, on SQLite or PostgreSQL.

// Support shared by integration tests, outside #[test] fns where clippy.toml's
// allow-unwrap-in-tests does not reach; a panic here fails the calling test.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use exam_protocol::auth::KioskKey;
use exam_server::Config;
use exam_server::db::Db;
use sqlx::Connection;

pub mod login;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Harness {
    pub server: exam_server::Server,
    pub url: String,
    pub http: reqwest::Client,
    /// The run's directory: the data key file (`data.key`) and, on SQLite,
    /// the store (`exam.db`).
    pub dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

pub fn pg_admin_url() -> String {
    std::env::var("EXAM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database. Every test runs on both stores, so a
/// missing PostgreSQL fails the test, with or without `CI`: `scripts/test`
/// installs and starts it.
pub async fn fresh_pg() -> (String, String) {
    sqlx::any::install_default_drivers();
    let admin = pg_admin_url();
    let mut conn = match sqlx::AnyConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL is not reachable at {admin} ({e}): the tests run on both stores. \
             Start it with scripts/test (it installs and starts PostgreSQL), or point \
             EXAM_TEST_PG_URL at a running server"
        ),
    };
    let name = format!(
        "exam_test_{}",
        hex::encode(exam_protocol::auth::random_bytes::<6>())
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    (format!("{base}/{name}"), name)
}

impl Harness {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// As [`Harness::start`], with `tweak` applied to the configuration.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        // The store's data keys are made here, for this run (never committed).
        let dir = tempfile::tempdir().unwrap();
        let data_key_file = dir.path().join("data.key");
        exam_vault::KeyRing::generate()
            .unwrap()
            .write_new_file(&data_key_file)
            .unwrap();
        let (database_url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("exam.db").display()),
                None,
            ),
            Backend::Postgres => {
                let (url, name) = fresh_pg().await;
                (url.clone(), Some((url, name)))
            }
        };
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url,
            data_key_file: Some(data_key_file),
            demo_people: 30,
            ..Config::default()
        };
        let mut config = config;
        tweak(&mut config);
        let server = exam_server::start(config).await.unwrap();
        let url = server.url();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            server,
            url,
            http,
            dir: Some(dir),
            pg,
        }
    }

    /// Another instance of the service on the same store (and data keys),
    /// as a second machine behind the load balancer would run it.
    pub async fn second(&self) -> exam_server::Server {
        let c = &self.server.state.config;
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: c.database_url.clone(),
            data_key_file: c.data_key_file.clone(),
            demo_people: 0,
            ..Config::default()
        };
        exam_server::start(config).await.unwrap()
    }

    pub fn db(&self) -> &Db {
        &self.server.state.db
    }

    /// The PostgreSQL test database's URL (None on SQLite).
    pub fn pg_url(&self) -> Option<&str> {
        self.pg.as_ref().map(|(url, _)| url.as_str())
    }

    /// Registers and enrols a kiosk, returning its signing key.
    pub async fn kiosk(&self, id: &str) -> KioskKey {
        self.kiosk_at(id, "main", "lobby").await
    }

    /// Registers and enrols a kiosk of `campus` and `zone`.
    pub async fn kiosk_at(&self, id: &str, campus: &str, zone: &str) -> KioskKey {
        self.db()
            .add_kiosk(id, campus, zone, "secret-for-tests-0123456789")
            .await
            .unwrap();
        let (key, _) = sync_client::SyncClient::enrol(
            &sync_client::ServiceLink::loopback_dev(&self.url).unwrap(),
            id,
            "secret-for-tests-0123456789",
            "test",
        )
        .await
        .unwrap();
        key
    }

    /// Sends a request signed by `key` at `ts_ms` (now when None).
    pub async fn signed(
        &self,
        key: &KioskKey,
        method: &str,
        path: &str,
        body: &[u8],
        ts_ms: Option<i64>,
    ) -> (u16, serde_json::Value) {
        let ts = ts_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let h = key.sign(method, path, body, ts);
        self.send_with(method, path, body, &h).await
    }

    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        h: &exam_protocol::auth::SignedHeaders,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .body(body.to_vec());
        for (k, v) in h.pairs() {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    pub async fn stop(self) {
        self.server.stop().await;
        if let Some((_, name)) = self.pg {
            let mut conn = sqlx::AnyConnection::connect(&pg_admin_url()).await.unwrap();
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// Runs each named test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let h = $crate::common::Harness::start($crate::common::Backend::Sqlite).await;
                super::$name(&h).await;
                h.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let h = $crate::common::Harness::start($crate::common::Backend::Postgres).await;
                super::$name(&h).await;
                h.stop().await;
            }
        })*
    };
}

/// A heartbeat with no devices and nothing owed, `print_waiting` parts waiting.
pub fn quiet_heartbeat(print_waiting: u64) -> exam_protocol::Heartbeat {
    exam_protocol::Heartbeat {
        app_version: "test".into(),
        devices: vec![],
        backlog: 0,
        oldest_unacked: None,
        rejected: 0,
        print_waiting,
        oldest_print_waiting: None,
        prints: vec![],
        alert: None,
    }
}

/// A signed-in staff member's session, for the workflow API.
pub struct Staff {
    pub cookie: String,
    pub csrf: String,
    pub url: String,
    pub http: reqwest::Client,
}

impl Harness {
    /// Creates `username` with `role` (password already changed) and signs in.
    pub async fn staff(&self, username: &str, role: &str) -> Staff {
        // Not on the weak-password list (a weak one is changed at sign-in).
        let pw = "Desk-Test-Pass-2026!";
        exam_server::create_staff(self.db(), username, role.parse().unwrap(), Some(pw.into()))
            .await
            .unwrap();
        // Through the sign-in form (its token), and for an administrator
        // the second factor's enrolment that must come first.
        // Each from an address of its own: a test that signs many people
        // in stays under the per-address rate (20 a minute).
        let from = self.client_from(&login::next_loopback());
        let (cookie, to) = self.sign_in_with(&from, username, pw).await;
        if to == "/account/totp" {
            self.enrol_totp(&from, &cookie).await;
        }
        // The CSRF token from a page the role may open (the auditor and
        // finance have no desk).
        let mut html = String::new();
        for page in ["/desk", "/audit", "/payments", "/guide", "/station"] {
            let r = self
                .http
                .get(format!("{}{page}", self.url))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                html = r.text().await.unwrap();
                break;
            }
        }
        let i = html.find("name=\"csrf\" content=\"").expect("csrf meta") + 21;
        let csrf = html[i..].split('"').next().unwrap().to_string();
        Staff {
            cookie,
            csrf,
            url: self.url.clone(),
            http: self.http.clone(),
        }
    }
}

impl Staff {
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn post_bytes(&self, path: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf", &self.csrf)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// A valid ID number: born `year`-03-15, odd `seq` for a man, even for a woman.
pub fn id_number(year: i32, seq: u16) -> String {
    exam_domain::IdNumber::compose(
        "321002",
        chrono::NaiveDate::from_ymd_opt(year, 3, 15).unwrap(),
        seq,
    )
    .unwrap()
    .as_str()
    .to_string()
}

/// A 1×1 grayscale PNG (a kiosk photo in tests).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B,
    0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xE5, 0x27, 0xDE, 0xFC, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The demo's bookings as a kiosk of `key`'s campus pulls them, one per person.
pub async fn one_booking_per_person(
    h: &Harness,
    key: &KioskKey,
) -> Vec<exam_protocol::BookingRecord> {
    let (s, v) = h
        .signed(
            key,
            "GET",
            &format!("{}?cursor=0&limit=1000", exam_protocol::paths::CHANGES),
            b"",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let mut seen = std::collections::HashSet::new();
    serde_json::from_value::<exam_protocol::ChangesResponse>(v)
        .unwrap()
        .records
        .into_iter()
        .filter(|r| seen.insert(r.person.id_number.as_str().to_string()))
        .collect()
}
