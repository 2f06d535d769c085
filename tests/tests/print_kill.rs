//! The power-cut harness. It runs the kiosk as a real process with a
//! simulated receipt printer, a simulated TSPL label printer, the real CUPS
//! (cups-pdf) for A4 reports and the central service, cuts it at random
//! moments while it checks people in, prints their guide sheets, lab
//! labels and published reports and syncs, restarts it, and after the last
//! run checks, from what the printers received and what the server holds:
//!
//! - every part (guide sheet, fee list, each lab label) of every journaled
//!   check-in is on paper;
//! - every copy beyond the first carries the 补打 / REPRINT mark (a marked
//!   receipt, a 补打 label right before the label) and follows the
//!   interrupted first copy (it was the part in flight);
//! - nothing on paper is unknown to the journal;
//! - every journaled A4 report was printed by CUPS exactly once, under its
//!   part's own job name (a report in flight at a cut is followed, never
//!   sent again), and the server has each report print once;
//! - every check-in the kiosk reported (it reports only after the commit)
//!   is still in the journal, and the server has each exactly once: the
//!   server's registrations are exactly the journal's check-ins, booking
//!   code by booking code, and its events exactly the journal's, by id.
//!
//! Two ways to cut: SIGKILL (the kernel keeps what the process wrote) and
//! a power cut (the journal goes through the power-cut VFS, so every write
//! not yet synced is lost with the process, as on a real power cut). Each
//! run proves which of the two it was (the kiosk's never-synced probe
//! database is empty after a power cut, whole after a SIGKILL), so a
//! power-cut series cannot silently repeat the SIGKILL series. How many
//! cuts also lost unsynced journal writes (the VFS's own count) is printed,
//! not required: with WAL and `synchronous=FULL` the journal holds unsynced
//! pages only inside a commit, and a cut at a random moment rarely lands
//! there while the kiosk waits on its printers (0 of 200 in one CI run).
//!
//! A series of 100 cuts or more must also have caught a guide sheet or fee
//! list, a lab label and an A4 report in flight, and printed receipts and
//! labels again under the mark; otherwise it proved nothing about them.
//!
//! `PRINT_KILL_CUTS=1000 cargo test --release -p e2e-tests --test print_kill -- --nocapture`
//! runs a longer series (default: 200 cuts of each kind).

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

mod common;

use device_drivers::label::{Label, LabelItem, Language};
use device_drivers::report::{IppPrinter, JobState};
use device_drivers::sim::label::parse_tspl;
use device_drivers::sim::{LabelFault, LabelSim, PrinterFault, PrinterSim};
use e2e_tests::{free_addr, start_server};
use exam_domain::demo::Rng;
use exam_server::db::CountTable;
use tokio::io::AsyncReadExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Kill,
    PowerLoss,
}

fn gb(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

fn positions(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Booking codes the kiosk said it checked in ("checked in BK… (package)").
fn reported(stdout: &str) -> impl Iterator<Item = String> + '_ {
    stdout.split("checked in ").skip(1).filter_map(|rest| {
        let code = rest.split_whitespace().next()?;
        (!code.is_empty()).then(|| code.to_string())
    })
}

/// Every booking code printed on the paper: guide sheets (`预约号：CODE`)
/// and fee lists (`体检预约：CODE`).
fn codes_on_paper(paper: &[u8]) -> BTreeSet<String> {
    let (text, _, _) = encoding_rs::GB18030.decode(paper);
    ["预约号：", "体检预约："]
        .iter()
        .flat_map(|label| {
            text.split(label)
                .skip(1)
                .filter_map(|rest| {
                    let code: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    (!code.is_empty()).then_some(code)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Below this many cuts a series may by chance catch nothing in flight;
/// from it on, the guards below must see every kind of part caught.
const GUARDED_SERIES: usize = 100;

/// What the cut left in flight: parts claimed (`sending`) by printer kind,
/// read from the journal after the kiosk died.
#[derive(Debug, Default)]
struct InFlight {
    receipt: usize,
    label: usize,
    report: usize,
}

fn in_flight(journal: &Path) -> InFlight {
    let j = offline_store::Journal::open(journal).unwrap();
    let mut stmt = j
        .connection()
        .prepare(
            "SELECT printer, count(*) FROM print_parts WHERE state = 'sending' GROUP BY printer",
        )
        .unwrap();
    let mut f = InFlight::default();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (printer, n) = row.unwrap();
        // The printer column names the kind first ("label" or "label:tspl").
        match printer.split(':').next() {
            Some("receipt") => f.receipt += n as usize,
            Some("label") => f.label += n as usize,
            Some("report") => f.report += n as usize,
            _ => panic!("unknown printer kind {printer:?} in the journal"),
        }
    }
    f
}

/// Which way the kiosk's journal went, from the evidence `e2e-kiosk` left
/// in `control` (see its docs), checked after each run; returns the writes
/// that went through the power-cut VFS and the bytes it held unsynced when
/// the process died (0 and 0 for SIGKILL). A cut can come before the
/// kiosk's first write (a slow start on a busy machine): no writes then;
/// the run to the end must have written through it.
fn check_vfs_control(mode: Cut, control: &Path) -> (u64, u64) {
    let probe = std::fs::metadata(control.join("probe.db"))
        .expect("the kiosk wrote its probe database")
        .len();
    let report = control.join("vfs-report");
    match mode {
        Cut::Kill => {
            assert!(probe > 0, "SIGKILL: the kernel kept the probe's rows");
            assert!(!report.exists(), "SIGKILL: the power-cut VFS is not in use");
            (0, 0)
        }
        Cut::PowerLoss => {
            assert_eq!(
                probe, 0,
                "power cut: the never-synced probe database must be empty, \
                 or the kiosk did not run through the power-cut VFS"
            );
            power_cut_vfs::read_report(&report)
                .expect("power cut: the VFS reports what it buffered")
        }
    }
}

fn cut_count() -> usize {
    std::env::var("PRINT_KILL_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

const SECRET: &str = "enrol-secret-for-the-cut-test";
/// New people per run, and how many of the previous run's are replayed
/// (those a cut interrupted get their turn again).
const FRESH: usize = 3;
const WINDOW: usize = 6;

/// One in this many people has a published report to print (an A4 job
/// through cups-pdf takes about a second).
const REPORT_EVERY: usize = 8;

/// When a run is cut: between these many milliseconds after its start.
/// Each patient waits at the kiosk until their documents are printed, as
/// at the touch screen: about half a second to a second a patient at the
/// slow printers, and a report picker waits about 0.6 s for CUPS. A run's
/// three new patients take two to three seconds, so a cut in this window
/// lands among them (most often while someone's documents print), and a
/// run checks in more than one patient on average (the series checks it).
const CUT_AFTER_MS: (u64, u64) = (200, 2700);

fn write_window(day: &exam_domain::demo::DemoDay, run: usize, path: &Path) {
    let from = (run * FRESH).min(day.people.len());
    let to = (from + WINDOW).min(day.people.len());
    // Report pickers first: their A4 jobs start early in the run, where
    // the cut is likely to catch one in flight.
    let reporting = (from..to)
        .filter(|i| i % REPORT_EVERY == 0)
        .map(|i| format!("report {}\n", day.people[i].id_number));
    let checking = (from..to).map(|i| format!("card {}\nwait 20\n", day.people[i].id_number));
    let script: String = reporting.chain(checking).collect();
    std::fs::write(path, script).unwrap();
}

/// Publishes a generated report (exam-report's personal report, the
/// person's name and exam number on it, a few sections: about four pages)
/// for every `REPORT_EVERY`-th person's visit.
/// What a stalled run's server still does: a write through the store's
/// writer, a read, an HTTP answer, each given five seconds.
async fn probe_server(server: &exam_server::Server) -> String {
    let limit = Duration::from_secs(5);
    let db = &server.state.db;
    let write = match tokio::time::timeout(limit, db.write()).await {
        Ok(Ok(_w)) => "taken".to_string(),
        Ok(Err(e)) => format!("error {e}"),
        Err(_) => "not taken in 5 s".into(),
    };
    let read = match tokio::time::timeout(limit, db.count(CountTable::KioskEvents)).await {
        Ok(r) => format!("{r:?}"),
        Err(_) => "no answer in 5 s".into(),
    };
    let http = match tokio::time::timeout(limit, reqwest::get(format!("{}/healthz", server.url())))
        .await
    {
        Ok(Ok(r)) => r.status().to_string(),
        Ok(Err(e)) => format!("error {e}"),
        Err(_) => "no answer in 5 s".into(),
    };
    format!(
        "store writer: {write}; kiosk events counted: {read}; GET /healthz: {http}; pools (open, idle): {:?}",
        db.pool_state()
    )
}

async fn publish_reports(db: &exam_server::db::Db, day: &exam_domain::demo::DemoDay) -> usize {
    let fonts = exam_report::Fonts::noto_sans_sc(None).unwrap();
    let mut n = 0;
    for p in day.people.iter().step_by(REPORT_EVERY) {
        let q = exam_domain::IdentityQuery::IdNumber {
            id_number: p.id_number.clone(),
        };
        let Some(b) = db.lookup(&q).await.unwrap().into_iter().next() else {
            continue;
        };
        let mut r = exam_report::sample::personal(exam_report::model::ExamKind::Health);
        r.name = p.name.clone();
        r.exam_no = b.booking.exam_no.clone();
        r.sections.truncate(4);
        r.trends.truncate(2);
        let pdf = exam_report::personal(&fonts, &r).unwrap();
        db.publish_report("report-office", b.booking.id, None, &pdf)
            .await
            .unwrap();
        n += 1;
    }
    n
}

/// Every journaled report part was printed by CUPS exactly once, under its
/// own name, whole. Returns how many.
fn check_reports(
    parts: &[(String, i64, String, Vec<u8>)],
    jobs: &[(String, String)],
    cups: &IppPrinter,
) -> usize {
    let all = cups.jobs().unwrap();
    let reports: Vec<_> = jobs.iter().filter(|(_, kind)| kind == "report").collect();
    for (job, _) in &reports {
        let name = format!("{job}-0");
        let found: Vec<_> = all.iter().filter(|j| j.name.starts_with(&name)).collect();
        let done: Vec<_> = found
            .iter()
            .filter(|j| j.state == JobState::Completed)
            .collect();
        assert_eq!(
            done.len(),
            1,
            "report part {name} printed exactly once by CUPS: {found:?}"
        );
        assert_eq!(done[0].name, name, "whole, not a page range");
    }
    assert_eq!(
        parts.iter().filter(|p| p.2 == "report").count(),
        reports.len(),
        "one part per report"
    );
    reports.len()
}

fn barcode(l: &Label) -> Option<&str> {
    l.items.iter().find_map(|i| match i {
        LabelItem::Code128 { data, .. } => Some(data.as_str()),
        _ => None,
    })
}

fn is_reprint_label(l: &Label) -> bool {
    l.items
        .iter()
        .any(|i| matches!(i, LabelItem::Text { text, .. } if text.contains("补打")))
}

/// The label roll: every journaled label on it; each extra copy right
/// after a 补打 label and after its interrupted first copy; nothing the
/// journal does not know. Returns (label parts, extra copies, marks).
fn check_labels(parts: &[(String, i64, String, Vec<u8>)], roll: &[Label]) -> (usize, usize, usize) {
    let mut wanted = BTreeSet::new();
    let mut extra = 0;
    let labels: Vec<_> = parts.iter().filter(|p| p.2 == "label:tspl").collect();
    for (code, idx, _, body) in &labels {
        let part = parse_tspl(&String::from_utf8_lossy(body)).unwrap();
        let want = barcode(&part)
            .expect("a lab label has a barcode")
            .to_string();
        let at: Vec<usize> = (0..roll.len())
            .filter(|&i| barcode(&roll[i]) == Some(want.as_str()))
            .collect();
        assert!(
            !at.is_empty(),
            "label {idx} of {code} ({want}) never printed"
        );
        extra += at.len() - 1;
        for &later in &at[1..] {
            assert!(
                is_reprint_label(&roll[later - 1]),
                "every extra copy of label {want} comes right after a 补打 label"
            );
            assert!(at[0] < later - 1, "and after its first, interrupted copy");
        }
        wanted.insert(want);
    }
    let unknown: Vec<_> = roll
        .iter()
        .filter_map(barcode)
        .filter(|b| !wanted.contains(*b))
        .collect();
    assert!(
        unknown.is_empty(),
        "labels unknown to the journal: {unknown:?}"
    );
    let marks = roll.iter().filter(|l| is_reprint_label(l)).count();
    (labels.len(), extra, marks)
}

async fn cut_series(mode: Cut) {
    let cuts = cut_count();
    let dir = tempfile::tempdir().unwrap();
    let people = FRESH * cuts * 2 + WINDOW;
    let server = start_server(&dir.path().join("exam.db"), free_addr(), people)
        .await
        .unwrap();
    server
        .state
        .db
        .add_kiosk("K-CUT", "main", "lobby", SECRET)
        .await
        .unwrap();
    let sim = PrinterSim::new();
    // A slow printer widens the window in which a part is in flight.
    sim.inject(PrinterFault::Slow(Duration::from_millis(30)));
    let printer = format!("tcp://{}", sim.listen_tcp().unwrap());
    let labels = LabelSim::new();
    labels.inject(LabelFault::Slow(Duration::from_millis(20)));
    let label_printer = format!("tcp://{}", labels.listen_tcp(Language::Tspl).unwrap());
    let day = e2e_tests::demo_day(people);
    let (report_uri, cups) = e2e_tests::report_queue();
    let published = publish_reports(&server.state.db, &day).await;
    let script = dir.path().join("script.txt");
    let journal = dir.path().join("kiosk.db");
    let control = dir.path().join("control");
    std::fs::create_dir(&control).unwrap();
    let kiosk = |script: &Path| {
        let mut c = common::kiosk_command(
            &journal,
            &server.url(),
            "K-CUT",
            SECRET,
            script,
            &[
                "--receipt-printer",
                &printer,
                "--label-printer",
                &label_printer,
                "--label-language",
                "tspl",
            ],
        );
        c.args(["--report-printer", &report_uri]);
        if mode == Cut::PowerLoss {
            c.env("E2E_POWER_CUT", "1");
        }
        c.env("E2E_VFS_CONTROL", &control);
        c
    };

    let mut rng = Rng::new(cuts as u64 + mode as u64);
    let mut said = BTreeSet::new();
    let (mut done_cuts, mut finished_runs) = (0, 0);
    let mut caught = InFlight::default();
    // Power cuts that lost unsynced journal writes, and how many bytes.
    let (mut losing_cuts, mut lost_bytes) = (0, 0);
    // The journal's writes through the VFS over every run: the final
    // catch-up run alone may have nothing left to write (CI once caught
    // the cuts finishing everything first).
    let mut vfs_writes = 0;
    let started = std::time::Instant::now();
    for run in 0.. {
        if done_cuts == cuts || run >= 4 * cuts {
            break;
        }
        write_window(&day, run, &script);
        for f in ["probe.db", "probe.db-journal", "vfs-report"] {
            let _ = std::fs::remove_file(control.join(f));
        }
        let mut child = kiosk(&script).spawn().unwrap();
        let mut out = child.stdout.take().unwrap();
        let reader = tokio::spawn(async move {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s).await;
            s
        });
        let (first, last) = CUT_AFTER_MS;
        let after = Duration::from_millis(first + rng.below(last - first));
        if tokio::time::timeout(after, child.wait()).await.is_ok() {
            finished_runs += 1;
            vfs_writes += check_vfs_control(mode, &control).0;
        } else {
            child.start_kill().unwrap(); // SIGKILL
            child.wait().await.unwrap();
            done_cuts += 1;
            let (writes, lost) = check_vfs_control(mode, &control);
            vfs_writes += writes;
            losing_cuts += usize::from(lost > 0);
            lost_bytes += lost;
            // Parts the cut caught in flight (their reprint under the mark,
            // or for A4 their resumption, is what the end checks).
            if journal.exists() {
                let f = in_flight(&journal);
                caught.receipt += f.receipt;
                caught.label += f.label;
                caught.report += f.report;
            }
        }
        said.extend(reported(&reader.await.unwrap()));
    }
    std::fs::write(&script, "").unwrap();
    // The slow printers fall behind the check-ins, so the last run may
    // have a long queue to print: it may take as long as the printers keep
    // receiving, and fails when nothing moves for three minutes.
    let a4 = || cups.jobs().map_or(0, |j| j.len());
    for f in ["probe.db", "probe.db-journal", "vfs-report"] {
        let _ = std::fs::remove_file(control.join(f));
    }
    if let Err(stall) =
        common::run_while_progressing(kiosk(&script), Duration::from_secs(180), || {
            sim.printed().len() + labels.labels().len() + a4()
        })
        .await
    {
        let j = offline_store::Journal::open(&journal).unwrap();
        let size: i64 = j
            .connection()
            .query_row(
                "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM outbox WHERE acked_at IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap_or(-1);
        panic!(
            "{stall}\nthe journal: {:?} ({size} payload bytes pending), {} parts unfinished\nthe server:\n{}",
            j.backlog().unwrap(),
            j.unfinished_parts().unwrap().len(),
            probe_server(&server).await
        );
    }
    let (writes, _) = check_vfs_control(mode, &control);
    vfs_writes += writes;
    if mode == Cut::PowerLoss {
        assert!(
            vfs_writes > 0,
            "power cut: the journal was written through the VFS"
        );
    }
    let took = started.elapsed();

    // The journal: every job printed, every event pushed, one guide sheet
    // per check-in, and every check-in the kiosk reported still there.
    let j = offline_store::Journal::open(&journal).unwrap();
    assert!(j.unfinished_parts().unwrap().is_empty());
    assert_eq!(j.backlog().unwrap().pending, 0);
    let all_jobs: Vec<(String, String)> = {
        let mut stmt = j
            .connection()
            .prepare("SELECT id, kind FROM print_jobs ORDER BY created_at")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let jobs: Vec<String> = {
        let mut stmt = j
            .connection()
            .prepare("SELECT person FROM print_jobs WHERE kind <> 'report' ORDER BY created_at")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let report_jobs = all_jobs.iter().filter(|(_, k)| k == "report").count();
    let count = |sql: &str| -> usize {
        j.connection()
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap() as usize
    };
    let checkins = count("SELECT count(*) FROM checkins");
    let left_behind = count("SELECT count(*) FROM print_jobs WHERE left_behind_at IS NOT NULL");
    let events = j.all_event_ids().unwrap().len();
    assert_eq!(
        events,
        checkins + left_behind + report_jobs,
        "check-ins, pickup notices and report prints"
    );
    assert_eq!(jobs.len(), checkins, "one guide sheet per check-in");
    assert!(
        checkins > cuts,
        "{checkins} check-ins in {cuts} cuts: the runs were cut before they did real work"
    );
    let journaled: BTreeSet<String> = jobs.iter().cloned().collect();
    let lost: Vec<_> = said.difference(&journaled).collect();
    assert!(lost.is_empty(), "reported checked in, then lost: {lost:?}");

    // The paper: each sheet at least once; each extra copy marked, and a
    // copy of the sheet that was being printed when the kiosk died.
    let paper = sim.printed();
    let orphans: Vec<_> = codes_on_paper(&paper)
        .into_iter()
        .filter(|c| !journaled.contains(c))
        .collect();
    assert!(
        orphans.is_empty(),
        "printed but unknown to the journal: {orphans:?}"
    );
    let mark = gb("【补打 REPRINT】");
    let marks = positions(&paper, &mark);
    // A reprint is the mark's receipt right before the part's bytes: the
    // mark's text lies exactly this far before the part's own text.
    let mark_receipt = kiosk_app::print::reprint_mark();
    let lead = mark_receipt.len() - positions(&mark_receipt, &mark)[0];
    // Every part of every job: the guide sheet, and the fee list of a
    // booking with an amount due.
    let parts: Vec<(String, i64, String, Vec<u8>)> = {
        let mut stmt = j
            .connection()
            .prepare("SELECT j.person, p.idx, p.printer, p.body FROM print_parts p JOIN print_jobs j ON j.id = p.job_id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let receipts: Vec<_> = parts.iter().filter(|p| p.2 == "receipt").collect();
    assert!(receipts.len() > jobs.len(), "some jobs have a fee list too");
    let mut extra_copies = 0;
    for (code, idx, _, body) in receipts {
        let needle = gb(&match idx {
            0 => format!("预约号：{code}"),
            _ => format!("体检预约：{code}"),
        });
        let within = positions(body, &needle)[0];
        let at = positions(&paper, &needle);
        assert!(!at.is_empty(), "part {idx} of {code} never printed");
        extra_copies += at.len() - 1;
        for later in &at[1..] {
            let mark_at = later.checked_sub(within + lead).unwrap_or(usize::MAX);
            assert!(
                marks.contains(&mark_at),
                "every extra copy of part {idx} of {code} is printed right under the mark"
            );
            assert!(
                at[0] < mark_at,
                "the reprint of part {idx} of {code} follows its first, interrupted copy"
            );
        }
    }
    assert!(
        extra_copies <= marks.len(),
        "{extra_copies} extra copies, {} marks",
        marks.len()
    );
    // (A mark with no earlier copy is allowed: the kiosk died after marking
    // the part as sending but before a byte left; it cannot know that.)
    assert!(sim.errors().is_empty(), "{:?}", sim.errors());
    let (label_parts, label_extra, label_marks) = check_labels(&parts, &labels.labels());
    assert!(label_parts > 0, "lab labels were journaled");
    assert!(labels.errors().is_empty(), "{:?}", labels.errors());
    let reports = check_reports(&parts, &all_jobs, &cups);
    assert!(reports > 0, "reports were printed ({published} published)");
    // A series of CI's length catches every kind of part in flight, and
    // prints receipts and labels again under the mark, or it proves little.
    // Every guard that fails is named, not only the first.
    if cuts >= GUARDED_SERIES {
        let guards = [
            (caught.report > 0, "no cut caught an A4 report in flight"),
            (
                caught.receipt > 0,
                "no cut caught a guide sheet or fee list in flight",
            ),
            (caught.label > 0, "no cut caught a lab label in flight"),
            (
                extra_copies > 0,
                "no receipt was printed again under the mark",
            ),
            (
                label_extra > 0,
                "no lab label was printed again after a 补打 label",
            ),
        ];
        let failed: Vec<&str> = guards
            .iter()
            .filter(|(held, _)| !held)
            .map(|(_, says)| *says)
            .collect();
        assert!(
            failed.is_empty(),
            "{mode:?}, {cuts} cuts: {}",
            failed.join("; ")
        );
    }

    // The server: each check-in exactly once, and exactly the journal's:
    // its registrations' booking codes are the journal's check-ins (so every
    // code the kiosk reported before a cut), its events the journal's ids.
    let db = &server.state.db;
    let registered: Vec<String> = db
        .registrations_ordered(chrono::DateTime::UNIX_EPOCH, 0, i64::MAX, true)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            r.booking_code
                .expect("a kiosk registration has its booking's code")
        })
        .collect();
    let on_server: BTreeSet<String> = registered.iter().cloned().collect();
    assert_eq!(
        registered.len(),
        on_server.len(),
        "each booking registered once"
    );
    // (`journaled`: the booking codes of the journal's guide sheets, one
    // per check-in, as checked above.)
    assert_eq!(
        on_server, journaled,
        "the server's registrations are the journal's check-ins"
    );
    let unregistered: Vec<_> = said.difference(&on_server).collect();
    assert!(
        unregistered.is_empty(),
        "reported checked in, not registered: {unregistered:?}"
    );
    let server_events: BTreeSet<String> = {
        let c = power_cut_vfs::rusqlite::Connection::open(dir.path().join("exam.db")).unwrap();
        let mut stmt = c.prepare("SELECT event_id FROM kiosk_events").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let journal_events: BTreeSet<String> = j
        .all_event_ids()
        .unwrap()
        .iter()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(
        server_events, journal_events,
        "the server has the journal's events, by id"
    );
    assert_eq!(
        db.count(CountTable::KioskEvents).await.unwrap() as usize,
        events
    );
    assert_eq!(
        db.count(CountTable::Registrations).await.unwrap() as usize,
        checkins
    );
    assert_eq!(
        db.count(CountTable::ReportPrints).await.unwrap() as usize,
        reports
    );
    // Documents a restart left behind are listed for the desk, once each.
    assert_eq!(db.pickups_waiting().await.unwrap().len(), left_behind);
    eprintln!(
        "{mode:?}: {done_cuts} cuts ({finished_runs} runs ended before their cut) in {took:.0?}; \
         {checkins} check-ins, {} reported before a cut, {} parts, {extra_copies} printed again, \
         {} reprint marks, {left_behind} jobs left for pickup; {label_parts} labels, \
         {label_extra} printed again, {label_marks} 补打 labels; {reports} A4 reports, each once; \
         in flight at a cut: {} receipts, {} labels, {} reports; \
         {losing_cuts} cuts lost {lost_bytes} unsynced bytes",
        said.len(),
        parts.len(),
        marks.len(),
        caught.receipt,
        caught.label,
        caught.report
    );
    assert_eq!(done_cuts, cuts, "every cut landed on a running kiosk");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_during_printing_and_sync_lose_nothing_and_mark_every_duplicate() {
    cut_series(Cut::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cuts_lose_only_unsynced_writes_and_mark_every_duplicate() {
    cut_series(Cut::PowerLoss).await;
}
