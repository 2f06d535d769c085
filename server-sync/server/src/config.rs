//! Configuration: defaults, then a TOML file, then `EXAM_*` environment
//! variables, then command-line flags (each overrides the one before).

use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path/to/file.db` (embedded, the default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Seed this many demo people with bookings for today (0: none).
    pub demo_people: usize,
    /// The campus demo bookings belong to.
    pub demo_campus: String,
    /// Minutes a staff session may sit idle before it ends (S1).
    pub session_idle_minutes: i64,
    /// Mark the session cookie Secure (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
    /// E3: how exam numbers are made (serial, date_serial, campus_date_serial).
    pub exam_no_rule: exam_domain::exam_no::ExamNoRule,
    /// Bookable slots each day: first and last start ("HH:MM"), length, capacity.
    pub slots: exam_domain::slot::SlotTemplate,
    /// Minutes after a slot's end before an unattended booking is released.
    pub no_show_grace_minutes: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            database_url: "sqlite://exam-server.db".into(),
            demo_people: 0,
            demo_campus: "main".into(),
            session_idle_minutes: 15,
            secure_cookies: false,
            log_json: false,
            exam_no_rule: Default::default(),
            slots: Default::default(),
            no_show_grace_minutes: 720,
        }
    }
}

impl Config {
    /// Layers the sources; `overrides` are the command-line flags given.
    pub fn load(
        file: Option<&Path>,
        overrides: impl Serialize,
    ) -> Result<Self, Box<figment::Error>> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            f = f.merge(Toml::file_exact(file));
        }
        // Only our keys: other EXAM_* variables (a test's, a shell's) are not settings.
        let env = Env::prefixed("EXAM_").only(&[
            "listen",
            "database_url",
            "demo_people",
            "demo_campus",
            "session_idle_minutes",
            "secure_cookies",
            "log_json",
        ]);
        f.merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_file_then_flags() {
        let dir = std::env::temp_dir().join(format!("exam-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndemo_people = 5\n").unwrap();
        #[derive(Serialize)]
        struct Flags {
            demo_people: usize,
        }
        let c = Config::load(Some(&file), Flags { demo_people: 7 }).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.demo_people, 7);
        std::fs::write(&file, "listn = 1\n").unwrap();
        let e = Config::load(Some(&file), Flags { demo_people: 7 }).unwrap_err();
        assert!(e.to_string().contains("listn"), "{e}");
    }
}
