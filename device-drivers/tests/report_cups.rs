//! A4 reports through a real CUPS (cupsd with the cups-pdf virtual
//! printer): submit with the job's own id as job-name, follow the job, find
//! it again by name (also after cupsd restarts), never submit it twice.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use device_drivers::report::{IppPrinter, JobState, ReportError, sample_pdf};

/// The tests share one cupsd and one restarts it: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn uri() -> String {
    std::env::var("REPORT_PRINTER_URI")
        .unwrap_or_else(|_| "ipp://localhost:631/printers/REPORTS".into())
}

/// The queue. `scripts/test` installs and starts cupsd with the cups-pdf
/// REPORTS queue, so a missing one fails the test (never a silent skip).
fn printer() -> IppPrinter {
    let p = IppPrinter::new(&uri(), "kiosk").unwrap();
    if let Err(e) = p.find("probe") {
        panic!(
            "no CUPS queue at {} ({e}): start cupsd with the cups-pdf REPORTS queue \
             (scripts/test does: cupsd; lpadmin -p REPORTS -v cups-pdf:/ -E ...), \
             or set REPORT_PRINTER_URI",
            uri()
        );
    }
    p
}

/// A job name CUPS has never seen. CUPS keeps its job history (across
/// restarts too), so a name that repeats an earlier run's (a reused process
/// id) would find that run's completed job and pass without printing: the
/// name holds the wall clock in nanoseconds, the process id and a counter,
/// and the queue is asked that it is unknown.
fn fresh_name(p: &IppPrinter, what: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("{what}-{nanos}-{}-{n}", std::process::id());
    let known = p.find(&name).unwrap();
    assert!(
        known.is_empty(),
        "job name {name} is new to CUPS: {known:?}"
    );
    name
}

fn wait_done(p: &IppPrinter, id: i32) -> JobState {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let j = p.job(id).unwrap();
        if matches!(
            j.state,
            JobState::Completed | JobState::Aborted | JobState::Canceled
        ) || Instant::now() > deadline
        {
            return j.state;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_report_prints_once_and_is_found_again_by_its_id() {
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let p = printer();
    let name = fresh_name(&p, "report");
    let doc = sample_pdf(&["Health examination report", "Page 2: results"]);
    let first = p.submit_once(&name, &doc).unwrap();
    assert_eq!(first.name, name);
    assert_eq!(wait_done(&p, first.id), JobState::Completed);
    // The kiosk restarts not knowing whether its submission went through:
    // the job is found by name, not sent again.
    let again = p.submit_once(&name, &doc).unwrap();
    assert_eq!(again.id, first.id);
    let found = p.find(&name).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].state, JobState::Completed);
    eprintln!(
        "job {} completed, pages reported: {:?}",
        found[0].id, found[0].pages_completed
    );

    // CUPS keeps its job history across its own restarts (PreserveJobHistory),
    // so a kiosk asking after a restart of the print server still finds it.
    restart_cupsd();
    let after = p.find(&name).unwrap();
    assert_eq!(
        after.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![first.id],
        "found after cupsd restarted"
    );
    assert_eq!(
        p.submit_once(&name, &doc).unwrap().id,
        first.id,
        "and still not sent twice"
    );
}

/// Restarts the local cupsd. Like `scripts/test`, which starts cupsd as
/// root (or through sudo), this needs root and the local queue: anything
/// else fails, since the restart is half of what the test proves.
fn restart_cupsd() {
    let local = uri().contains("//localhost");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    assert!(
        local,
        "the cupsd-restart check needs the local queue, not {} \
         (unset REPORT_PRINTER_URI)",
        uri()
    );
    assert!(
        root,
        "the cupsd-restart check restarts cupsd and needs root: run the tests \
         as root (as CI does), e.g. sudo -E scripts/test"
    );
    let _ = std::process::Command::new("pkill")
        .args(["-x", "cupsd"])
        .status();
    for _ in 0..50 {
        let alive = std::process::Command::new("pgrep")
            .args(["-x", "cupsd"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !alive {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::process::Command::new("cupsd")
        .status()
        .expect("cupsd starts");
    let p = IppPrinter::new(&uri(), "kiosk").unwrap();
    for _ in 0..100 {
        if p.find("probe").is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("cupsd did not come back");
}

#[test]
fn clear_errors_for_a_wrong_queue_or_no_server() {
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = printer();
    let wrong = IppPrinter::new("ipp://localhost:631/printers/NO_SUCH_QUEUE", "kiosk").unwrap();
    match wrong.submit("x", &sample_pdf(&["x"])) {
        Err(ReportError::Refused { status, .. }) => {
            assert_eq!(status, 0x0406, "client-error-not-found")
        }
        Err(ReportError::Http(m)) => assert!(m.contains("404"), "{m}"),
        other => panic!("{other:?}"),
    }
    let down = IppPrinter::new("ipp://127.0.0.1:9/printers/REPORTS", "kiosk").unwrap();
    assert!(matches!(down.find("x"), Err(ReportError::Io(_))));
}

/// What is left of a report goes out as a page range: CUPS prints only
/// those pages (checked in the PDF that cups-pdf writes), and the partial
/// job is found under the report's own name.
#[test]
fn a_page_range_prints_only_the_pages_left() {
    use device_drivers::report::pdf_pages;
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let p = printer();
    let name = fresh_name(&p, "range");
    let doc = sample_pdf(&["Report page 1", "Report page 2", "Report page 3"]);
    assert_eq!(pdf_pages(&doc), Some(3));
    let id = p
        .submit_pages(&format!("{name}@p2"), &doc, Some((2, 3)))
        .unwrap();
    assert_eq!(wait_done(&p, id), JobState::Completed);
    let found = p.find(&name).unwrap();
    assert_eq!(found.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    // cups-pdf's output for an unknown user goes to its anonymous folder.
    let dir = std::path::Path::new("/var/spool/cups-pdf/ANONYMOUS");
    assert!(
        dir.is_dir(),
        "no cups-pdf output folder {}: install printer-driver-cups-pdf and add the \
         REPORTS queue as scripts/test does (the page count is what this test checks)",
        dir.display()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let out = loop {
        let hit = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().contains(&name));
        if let Some(e) = hit {
            break std::fs::read(e.path()).unwrap();
        }
        assert!(Instant::now() < deadline, "no cups-pdf output for {name}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(pdf_pages(&out), Some(2), "pages 2 and 3 only");
}
