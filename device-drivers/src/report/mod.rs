//! The A4 report printer: PDF jobs to CUPS over IPP. IPP has no
//! idempotency, so every job carries its own id in `job-name`, and
//! [`IppPrinter::submit_once`] looks for an earlier submission of that name
//! before sending the document again.

pub mod ipp;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ipp::{Request, Response, Value, op, tag};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report printer unreachable: {0}")]
    Io(#[from] io::Error),
    #[error("report printer URI must be ipp://host[:port]/path, not {0:?}")]
    Uri(String),
    #[error("unexpected HTTP answer from the print server: {0}")]
    Http(String),
    #[error(transparent)]
    Ipp(#[from] ipp::IppError),
    #[error("the print server refused: {status:#06x} {message}")]
    Refused { status: u16, message: String },
}

/// RFC 8011 job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Held,
    Processing,
    Stopped,
    Canceled,
    Aborted,
    Completed,
    Unknown(i32),
}

impl JobState {
    fn from_ipp(v: i32) -> Self {
        match v {
            3 => Self::Pending,
            4 => Self::Held,
            5 => Self::Processing,
            6 => Self::Stopped,
            7 => Self::Canceled,
            8 => Self::Aborted,
            9 => Self::Completed,
            n => Self::Unknown(n),
        }
    }

    /// Will this job still print (or has it)?
    pub fn alive(self) -> bool {
        !matches!(self, Self::Canceled | Self::Aborted)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub id: i32,
    pub name: String,
    pub state: JobState,
    /// Pages (impressions) printed so far, when the server says.
    pub pages_completed: Option<i32>,
}

/// A CUPS queue, e.g. `ipp://localhost:631/printers/REPORTS`.
#[derive(Debug, Clone)]
pub struct IppPrinter {
    uri: String,
    host: String,
    port: u16,
    path: String,
    user: String,
    timeout: Duration,
}

const JOB_ATTRS: [&str; 4] = [
    "job-id",
    "job-name",
    "job-state",
    "job-impressions-completed",
];

impl IppPrinter {
    pub fn new(uri: &str, user: &str) -> Result<Self, ReportError> {
        let rest = uri
            .strip_prefix("ipp://")
            .ok_or_else(|| ReportError::Uri(uri.into()))?;
        let (authority, path) = rest
            .split_once('/')
            .ok_or_else(|| ReportError::Uri(uri.into()))?;
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| ReportError::Uri(uri.into()))?,
            ),
            None => (authority.to_string(), 631),
        };
        if host.is_empty() || path.is_empty() {
            return Err(ReportError::Uri(uri.into()));
        }
        Ok(Self {
            uri: uri.into(),
            host,
            port,
            path: format!("/{path}"),
            user: user.into(),
            timeout: Duration::from_secs(10),
        })
    }

    fn call(&self, body: &[u8]) -> Result<Response, ReportError> {
        let mut s = TcpStream::connect((self.host.as_str(), self.port))?;
        s.set_read_timeout(Some(self.timeout))?;
        s.set_write_timeout(Some(self.timeout))?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            self.host,
            self.port,
            body.len()
        );
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let resp = ipp::parse(&http_body(&raw)?)?;
        if !resp.ok() {
            return Err(ReportError::Refused {
                status: resp.status,
                message: resp.message().unwrap_or("").into(),
            });
        }
        Ok(resp)
    }

    fn request(&self, operation: u16) -> Request {
        let mut r = Request::new(operation, next_request_id(), &self.uri);
        r.attr(tag::NAME, "requesting-user-name", self.user.as_bytes());
        r
    }

    /// Submits a PDF under `job_name` (the job's own id).
    pub fn submit(&self, job_name: &str, pdf: &[u8]) -> Result<i32, ReportError> {
        self.submit_pages(job_name, pdf, None)
    }

    /// Submits only pages `first..=last` of a PDF (CUPS applies
    /// `page-ranges`): what is left of a report after a part of it printed.
    pub fn submit_pages(
        &self,
        job_name: &str,
        pdf: &[u8],
        pages: Option<(i32, i32)>,
    ) -> Result<i32, ReportError> {
        let mut r = self.request(op::PRINT_JOB);
        r.attr(tag::NAME, "job-name", job_name.as_bytes()).attr(
            tag::MIME,
            "document-format",
            b"application/pdf",
        );
        if let Some((first, last)) = pages {
            r.group(tag::JOB).range("page-ranges", first, last);
        }
        let resp = self.call(&r.finish(pdf))?;
        resp.groups(tag::JOB)
            .find_map(|g| g.get("job-id").and_then(Value::as_int))
            .ok_or_else(|| ReportError::Http("Print-Job answer without a job-id".into()))
    }

    pub fn job(&self, id: i32) -> Result<JobInfo, ReportError> {
        let mut r = self.request(op::GET_JOB_ATTRIBUTES);
        r.int("job-id", id);
        requested(&mut r);
        let resp = self.call(&r.finish(b""))?;
        resp.groups(tag::JOB)
            .find_map(job_info)
            .ok_or_else(|| ReportError::Http("no job attributes".into()))
    }

    /// Every job of this queue CUPS still knows, finished ones included.
    /// CUPS answers a Get-Jobs with at most 500 jobs, the oldest first: a
    /// longer history is read page by page (`first-job-id`, `limit`), or
    /// the newest jobs, the ones a kiosk asks after, would never be seen.
    pub fn jobs(&self) -> Result<Vec<JobInfo>, ReportError> {
        const PAGE: usize = 500;
        let mut all: Vec<JobInfo> = Vec::new();
        let mut first = 1;
        loop {
            let mut r = self.request(op::GET_JOBS);
            r.attr(tag::KEYWORD, "which-jobs", b"all");
            r.int("first-job-id", first);
            r.int("limit", PAGE as i32);
            requested(&mut r);
            let resp = self.call(&r.finish(b""))?;
            let page: Vec<JobInfo> = resp.groups(tag::JOB).filter_map(job_info).collect();
            let (n, last) = (page.len(), page.iter().map(|j| j.id).max());
            all.extend(page);
            match last {
                Some(id) if n >= PAGE && id >= first => first = id + 1,
                _ => break,
            }
        }
        all.sort_by_key(|j| j.id);
        all.dedup_by_key(|j| j.id);
        Ok(all)
    }

    /// Every job of this queue with this name, finished ones included; and
    /// the jobs that resubmitted part of it (named `<name>@p<first page>`).
    pub fn find(&self, job_name: &str) -> Result<Vec<JobInfo>, ReportError> {
        Ok(self
            .jobs()?
            .into_iter()
            .filter(|j| {
                j.name == job_name
                    || j.name
                        .strip_prefix(job_name)
                        .and_then(|rest| rest.strip_prefix("@p"))
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .collect())
    }

    /// Submits unless a live job of this name exists already (after a
    /// crash between submitting and journaling, the job is not sent twice).
    pub fn submit_once(&self, job_name: &str, pdf: &[u8]) -> Result<JobInfo, ReportError> {
        if let Some(j) = self.find(job_name)?.into_iter().find(|j| j.state.alive()) {
            return Ok(j);
        }
        let id = self.submit(job_name, pdf)?;
        self.job(id)
    }
}

pub use exam_domain::documents::pdf_pages;

/// A small but valid PDF with one page of text per entry (correct xref
/// offsets): test pages, and the documents of the tests and the demo.
pub fn sample_pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    let mut objs: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            (0..n)
                .map(|i| format!("{} 0 R", 4 + 2 * i))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
    ];
    for (i, text) in pages.iter().enumerate() {
        let content = format!("BT /F1 24 Tf 72 760 Td ({text}) Tj ET");
        objs.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>", 5 + 2 * i));
        objs.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn requested(r: &mut Request) {
    r.attr(
        tag::KEYWORD,
        "requested-attributes",
        JOB_ATTRS[0].as_bytes(),
    );
    for a in &JOB_ATTRS[1..] {
        r.also(tag::KEYWORD, a.as_bytes());
    }
}

fn job_info(g: &ipp::Group) -> Option<JobInfo> {
    Some(JobInfo {
        id: g.get("job-id")?.as_int()?,
        name: g
            .get("job-name")
            .and_then(Value::as_text)
            .unwrap_or("")
            .into(),
        state: JobState::from_ipp(g.get("job-state")?.as_int()?),
        pages_completed: g.get("job-impressions-completed").and_then(Value::as_int),
    })
}

fn next_request_id() -> u32 {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The body of an HTTP/1.1 response (Content-Length, chunked, or to EOF).
pub fn http_body(raw: &[u8]) -> Result<Vec<u8>, ReportError> {
    let mut rest = raw;
    // Skip interim 1xx answers.
    loop {
        let end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| ReportError::Http("no header end".into()))?;
        let head = String::from_utf8_lossy(&rest[..end]).to_string();
        let body = &rest[end + 4..];
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ReportError::Http("no status".into()))?;
        if (100..200).contains(&status) {
            rest = body;
            continue;
        }
        if status != 200 {
            return Err(ReportError::Http(head.lines().next().unwrap_or("").into()));
        }
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_ascii_lowercase())
            })
        };
        if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            let mut out = Vec::new();
            let mut b = body;
            loop {
                let line_end = b
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .ok_or_else(|| ReportError::Http("bad chunk".into()))?;
                let size = usize::from_str_radix(
                    String::from_utf8_lossy(&b[..line_end])
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim(),
                    16,
                )
                .map_err(|_| ReportError::Http("bad chunk size".into()))?;
                b = &b[line_end + 2..];
                if size == 0 {
                    return Ok(out);
                }
                if size.checked_add(2).is_none_or(|n| b.len() < n) {
                    return Err(ReportError::Http("truncated chunk".into()));
                }
                out.extend_from_slice(&b[..size]);
                b = &b[size + 2..];
            }
        }
        return match header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            Some(n) if body.len() >= n => Ok(body[..n].to_vec()),
            Some(_) => Err(ReportError::Http("truncated body".into())),
            None => Ok(body.to_vec()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_http_bodies() {
        let p = IppPrinter::new("ipp://localhost:631/printers/REPORTS", "kiosk").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.path.as_str()),
            ("localhost", 631, "/printers/REPORTS")
        );
        assert!(IppPrinter::new("http://x/y", "k").is_err());
        assert!(IppPrinter::new("ipp://x", "k").is_err());
        let chunked = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(http_body(chunked).unwrap(), b"abcde");
        assert_eq!(
            http_body(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxyz").unwrap(),
            b"xy"
        );
        assert!(http_body(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
        let huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab";
        assert!(
            http_body(huge).is_err(),
            "an absurd chunk size is refused, not a panic"
        );
        assert!(http_body(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nxyz").is_err());
    }

    /// A stand-in for cupsd's Get-Jobs: a history of `total` jobs, answered
    /// as CUPS does, at most 500 at a time from `first-job-id` on.
    fn fake_cups(total: i32) -> u16 {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let mut s = s.unwrap();
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let body = loop {
                    let n = s.read(&mut buf).unwrap();
                    raw.extend_from_slice(&buf[..n]);
                    if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&raw[..at]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if raw.len() >= at + 4 + len {
                            break raw[at + 4..at + 4 + len].to_vec();
                        }
                    }
                };
                let req = ipp::parse(&body).unwrap();
                let op = req.groups(tag::OPERATION).next().unwrap();
                let int = |name| op.get(name).and_then(Value::as_int);
                let first = int("first-job-id").unwrap_or(1).max(1);
                let limit = int("limit").unwrap_or(500).clamp(1, 500);
                let mut resp = Request::new(0, 1, "ipp://fake/printers/R");
                for id in (first..=total).take(limit as usize) {
                    resp.group(tag::JOB)
                        .int("job-id", id)
                        .attr(tag::NAME, "job-name", format!("job-{id}").as_bytes())
                        .int("job-state", 9);
                }
                let out = resp.finish(b"");
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\n\r\n",
                    out.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&out);
            }
        });
        port
    }

    #[test]
    fn the_whole_job_history_is_read_past_cups_answers_of_500() {
        let port = fake_cups(1234);
        let p = IppPrinter::new(&format!("ipp://127.0.0.1:{port}/printers/R"), "k").unwrap();
        let jobs = p.jobs().unwrap();
        assert_eq!(jobs.len(), 1234, "every job, once");
        assert!(jobs.windows(2).all(|w| w[0].id < w[1].id));
        // The newest job, the one a kiosk asks after, is found.
        let newest = p.find("job-1234").unwrap();
        assert_eq!(newest.len(), 1);
        assert_eq!(newest[0].state, JobState::Completed);
        let short = fake_cups(3);
        let p = IppPrinter::new(&format!("ipp://127.0.0.1:{short}/printers/R"), "k").unwrap();
        assert_eq!(p.jobs().unwrap().len(), 3);
    }
}
