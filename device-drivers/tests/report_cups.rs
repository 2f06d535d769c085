//! A4 reports through a real CUPS (cupsd with the cups-pdf virtual
//! printer): submit with the job's own id as job-name, follow the job, find
//! it again by name (also after cupsd restarts), never submit it twice.

use std::time::{Duration, Instant};

use device_drivers::report::{IppPrinter, JobState, ReportError, sample_pdf};

/// The tests share one cupsd and one restarts it: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn uri() -> String {
    std::env::var("REPORT_PRINTER_URI")
        .unwrap_or_else(|_| "ipp://localhost:631/printers/REPORTS".into())
}

/// The queue, or None (skip) outside CI when no CUPS runs here.
fn printer() -> Option<IppPrinter> {
    let p = IppPrinter::new(&uri(), "kiosk").unwrap();
    match p.find("probe") {
        Ok(_) => Some(p),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("no CUPS queue at {} ({e}); skipping", uri());
            None
        }
        Err(e) => panic!("CI must run cupsd with the REPORTS queue: {e}"),
    }
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
    let Some(p) = printer() else { return };
    let name = format!(
        "report-{}",
        std::process::id() as u64 * 1_000_003 + Instant::now().elapsed().subsec_nanos() as u64
    );
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
    if restart_cupsd() {
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
}

/// Restarts the local cupsd when this test may (root, local queue).
fn restart_cupsd() -> bool {
    let local = uri().contains("//localhost");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !local || !root {
        return false;
    }
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
            return true;
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
    let Some(_) = printer() else { return };
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
    let Some(p) = printer() else { return };
    let name = format!(
        "range-{}-{}",
        std::process::id(),
        Instant::now().elapsed().subsec_nanos()
    );
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
    if !dir.is_dir() {
        eprintln!("no cups-pdf output folder here; page count not checked");
        return;
    }
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
