//! S1 / seed 002 §(九) 1.7.3: the weak-password list. 30,000 passwords
//! most often found in leaks (zxcvbn's frequency list, see
//! `data/WEAK-PASSWORDS.md` for where it comes from and its licence) and a
//! short list of passwords common in Chinese leaks and hospitals.
//!
//! A password is weak when what is left of it after the usual disguises is
//! on the list: upper case, digits and symbols stuck on either end
//! (`Password123!`), and look-alike digits and symbols inside (`P@ssw0rd`).
//! A long passphrase that merely contains a listed word is not weak by
//! this rule (the list of roots in [`super::COMMON`] covers the handful of
//! words that are never acceptable anywhere in a password).

use std::collections::HashSet;
use std::io::Read;
use std::sync::OnceLock;

const LIST_GZ: &[u8] = include_bytes!("../../data/weak-passwords.txt.gz");
const LIST_ZH: &str = include_str!("../../data/weak-passwords-zh.txt");

/// The list, read once. A damaged embedded file is a build defect, caught
/// by the tests (the list must hold its 30,000 entries); at run time it
/// would leave only the short list, never refuse every password.
fn list() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut text = String::new();
        let _ = flate2::read::GzDecoder::new(LIST_GZ).read_to_string(&mut text);
        text.lines()
            .chain(LIST_ZH.lines().filter(|l| !l.starts_with('#')))
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// How many passwords the list holds.
pub fn list_len() -> usize {
    list().len()
}

/// The forms of `password` that are looked up: lower-cased as typed, with
/// digits and symbols removed from both ends, and that core with look-alike
/// characters read as letters ('1' once as 'i', once as 'l').
pub fn candidates(password: &str) -> Vec<String> {
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic()).to_string();
    let leet = |one: char| -> String {
        core.chars()
            .map(|c| match c {
                '0' => 'o',
                '1' => one,
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' | '+' => 't',
                '!' | '|' => 'i',
                c => c,
            })
            .collect()
    };
    let mut all = vec![lower.clone(), core.clone(), leet('i'), leet('l')];
    all.dedup();
    all
}

/// Is `password` on the weak-password list once its disguises are removed?
/// (One of digits and symbols only is left to the rule of three classes.)
pub fn is_weak(password: &str) -> bool {
    candidates(password)
        .iter()
        .any(|f| !f.is_empty() && list().contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_of_realistic_size() {
        assert!(list_len() >= 30_000, "{} entries", list_len());
        for common in ["123456", "password", "qwertyuiop", "woaini1314", "dragon"] {
            assert!(list().contains(common), "{common}");
        }
    }

    #[test]
    fn disguised_common_passwords_are_weak() {
        for pw in [
            "Password123!",
            "P@ssw0rd2024!",
            "!!Qwertyuiop1",
            "Dragon-2026!",
            "Woaini1314!",
            "Zhang123456!",
            "Iloveyou!2026",
            "M0nkey#12345",
            "Trustno1!!!!",
            "Admin@12345",
            "Yiyuan2026!!",
        ] {
            assert!(is_weak(pw), "{pw}");
        }
    }

    #[test]
    fn passphrases_and_random_passwords_are_not() {
        for pw in [
            "Hospital-Lobby7",
            "Guide-Desk-2026",
            "Every-Page-2026!",
            "Front-Desk-2026!",
            "xK9#mQ2$vL7p",
            "体检中心Ab1!xy",
            "Blue-Tiger-Cello-9",
        ] {
            assert!(!is_weak(pw), "{pw}: {:?}", candidates(pw));
        }
    }
}
