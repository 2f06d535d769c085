//! Signing in the way a browser does: the sign-in form's token and cookie,
//! the captcha when the page asks for it (its answer read from the
//! service, since a test cannot read the picture), the second factor from
//! the account's secret (as an authenticator app computes it), and the
//! enrolment of one.

#![allow(clippy::unwrap_used)]

use super::Harness;

/// A loopback address not handed out before in this process
/// (127.0.200.1 onwards), for a client of its own.
pub fn next_loopback() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("127.0.{}.{}", 200 + (n / 250) % 50, n % 250 + 1)
}

/// The sign-in form as served: its hidden token and its cookie.
#[derive(Debug, Clone)]
pub struct LoginForm {
    pub token: String,
    /// `exam_login=…`, for the `cookie` header.
    pub cookie: String,
    /// The page asked for the captcha.
    pub captcha: bool,
}

/// `name=value` of the `Set-Cookie` header that sets `name`.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The value of `<input … name="{name}" value="…">` in a page.
pub fn field(html: &str, name: &str) -> Option<String> {
    let i = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    Some(html[i..].split('"').next()?.to_string())
}

/// The code an authenticator app shows for `secret_b32`, for a step not
/// used yet (`last_used`): now, or the next step (accepted as drift).
pub fn totp_code(secret_b32: &str, last_used: Option<i64>) -> String {
    let secret = exam_server::totp::base32_decode(secret_b32).unwrap();
    let now = chrono::Utc::now().timestamp();
    let step = exam_server::totp::step(now);
    let t = if last_used.is_some_and(|l| l >= step) {
        now + 30
    } else {
        now
    };
    exam_server::totp::code_at(&secret, t)
}

impl Harness {
    /// `GET /login` with `client`.
    pub async fn login_form(&self, client: &reqwest::Client) -> LoginForm {
        let r = client
            .get(format!("{}/login", self.url))
            .send()
            .await
            .unwrap();
        let cookie = set_cookie(&r, "exam_login").expect("the sign-in form sets its cookie");
        let html = r.text().await.unwrap();
        LoginForm {
            token: field(&html, "form").expect("the form's token"),
            captcha: html.contains("id=\"captcha\""),
            cookie,
        }
    }

    /// Fetches the form's captcha picture (as the page does) and returns
    /// its answer.
    pub async fn solve_captcha(&self, client: &reqwest::Client, form: &LoginForm) -> String {
        let r = client
            .get(format!("{}/login/captcha", self.url))
            .header("cookie", &form.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "the captcha picture");
        assert_eq!(r.headers()["content-type"], "image/png");
        self.server
            .state
            .login
            .captcha_answer_for_tests(&form.token)
            .expect("a captcha was issued to the form")
    }

    /// `POST /login` of `form` with `client`.
    pub async fn post_login(
        &self,
        client: &reqwest::Client,
        form: &LoginForm,
        user: &str,
        password: &str,
        captcha: Option<&str>,
    ) -> reqwest::Response {
        let mut fields = vec![
            ("username", user),
            ("password", password),
            ("form", &form.token),
        ];
        if let Some(c) = captcha {
            fields.push(("captcha", c));
        }
        client
            .post(format!("{}/login", self.url))
            .header("cookie", &form.cookie)
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// Signs `user` in with `client` as a browser would (captcha if asked,
    /// second factor if enrolled); the session cookie and where it landed.
    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        user: &str,
        password: &str,
    ) -> (String, String) {
        let form = self.login_form(client).await;
        let answer = if form.captcha {
            Some(self.solve_captcha(client, &form).await)
        } else {
            None
        };
        let mut r = self
            .post_login(client, &form, user, password, answer.as_deref())
            .await;
        if r.status().as_u16() == 200 {
            // The name had failed elsewhere: the page asks for the captcha now.
            let html = r.text().await.unwrap();
            assert!(html.contains("id=\"captcha\""), "sign-in of {user}: {html}");
            let answer = self.solve_captcha(client, &form).await;
            r = self
                .post_login(client, &form, user, password, Some(&answer))
                .await;
        }
        assert_eq!(r.status().as_u16(), 303, "sign-in of {user}");
        let cookie = set_cookie(&r, "exam_sid").expect("a session cookie");
        let to = location(&r);
        if to != "/login/code" {
            return (cookie, to);
        }
        let u = self.db().user_by_name(user).await.unwrap().unwrap();
        let code = totp_code(u.totp_secret.as_deref().unwrap(), u.totp_last_step);
        let r = client
            .post(format!("{}/login/code", self.url))
            .header("cookie", format!("{cookie}; {}", form.cookie))
            .form(&[("code", code.as_str()), ("form", form.token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "second factor of {user}");
        (
            set_cookie(&r, "exam_sid").expect("a new session cookie"),
            location(&r),
        )
    }

    /// Enrols a second factor for the session `cookie` (at `/account/totp`)
    /// and returns its secret (base32).
    pub async fn enrol_totp(&self, client: &reqwest::Client, cookie: &str) -> String {
        let html = client
            .get(format!("{}/account/totp", self.url))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let i = html
            .find("id=\"totp-secret\">")
            .expect("the secret on the page")
            + 17;
        let secret: String = html[i..].split('<').next().unwrap().replace(' ', "");
        let csrf = field(&html, "csrf").unwrap();
        let code = totp_code(&secret, None);
        let r = client
            .post(format!("{}/account/totp", self.url))
            .header("cookie", cookie)
            .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            303,
            "enrolment: {}",
            r.text().await.unwrap()
        );
        secret
    }
}

impl Harness {
    /// Runs one statement on the store over a connection of its own (to
    /// move a session's clock, or to try what the schema refuses).
    pub async fn sql(&self, statement: &str) -> Result<u64, sqlx::Error> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(&self.server.state.config.database_url).await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&mut c)
            .await?
            .rows_affected();
        c.close().await?;
        Ok(n)
    }

    /// The first column of the first row of `query`, as text.
    pub async fn sql_text(&self, query: &str) -> Option<String> {
        use sqlx::{Connection, Row};
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(&self.server.state.config.database_url)
            .await
            .unwrap();
        let row = sqlx::query(sqlx::AssertSqlSafe(query.to_string()))
            .fetch_optional(&mut c)
            .await
            .unwrap();
        row.and_then(|r| r.try_get::<Option<String>, _>(0).ok().flatten())
    }

    /// A client whose requests come from `ip` (any 127.x.y.z reaches the
    /// service on loopback), so a test can be many addresses.
    pub fn client_from(&self, ip: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    }
}
