//! Group-exam roster files as a group desk uploads them: whatever the bytes
//! and whatever the name says, `import` gives a roster or an error.
#![no_main]
use std::sync::Once;

use libfuzzer_sys::fuzz_target;

static QUIET: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // exam-roster catches panics inside calamine and reports the file as
    // damaged; libfuzzer-sys's hook would abort on them first. A panic that
    // escapes `import` is still a crash: libfuzzer-sys aborts on it after
    // this closure unwinds.
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    for name in ["x.xlsx", "x.xls", "x.csv"] {
        let _ = exam_roster::import(name, data);
    }
});
