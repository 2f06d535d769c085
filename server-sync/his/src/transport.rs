//! HTTP shared by both clients: one reqwest client with the call's time
//! limit, errors sorted by whether the request can have reached HIS, and
//! answers read with a size limit.

use std::time::Duration;

use crate::error::HisError;

/// Larger answers are refused unread (a price list of thousands of items is
/// well under this).
pub(crate) const MAX_ANSWER: usize = 4 * 1024 * 1024;

pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, HisError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .build()
        .map_err(|e| HisError::Config(e.to_string()))
}

pub(crate) fn check_url(url: &str) -> Result<(), HisError> {
    match url.split_once("://") {
        Some(("http" | "https", rest)) if !rest.is_empty() => Ok(()),
        _ => Err(HisError::Config(format!("not an http(s) URL: {url}"))),
    }
}

pub(crate) fn map_send_error(e: reqwest::Error, timeout: Duration) -> HisError {
    if e.is_timeout() {
        HisError::Timeout(timeout)
    } else if e.is_connect() {
        HisError::Unreachable(without_url(&e))
    } else if e.is_builder() {
        HisError::Config(without_url(&e))
    } else {
        HisError::ConnectionLost(without_url(&e))
    }
}

/// reqwest's message, without the URL (a path may carry a key; keep logs
/// to the cause).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s
            .replace(&format!(" ({url})"), "")
            .replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The status and body of an answer, read within `MAX_ANSWER`.
pub(crate) async fn read_answer(
    mut resp: reqwest::Response,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), HisError> {
    let status = resp.status().as_u16();
    if resp.content_length().is_some_and(|n| n > MAX_ANSWER as u64) {
        return Err(HisError::Malformed("answer too large".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| map_send_error(e, timeout))? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(HisError::Malformed("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}
