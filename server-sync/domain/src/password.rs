//! S1: the staff password policy (seed 002 §(九) 1.7): at least ten
//! characters with letters, digits and symbols all three (1.7.1: "数字、
//! 字母、特殊符号共3类" names the three classes, so each must be there), not
//! containing the account name, not on the weak-password list ([`weak`]).

pub mod weak;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password needs at least 10 characters")]
    TooShort,
    #[error("a password needs letters, digits and symbols, all three")]
    TooFewClasses,
    #[error("a password must not contain the account name")]
    ContainsUsername,
    #[error("this password is on the list of common passwords")]
    Common,
}

impl PasswordError {
    /// The rule that was broken, as the staff pages say it (1.7.3: the
    /// refusal names the strength rule).
    pub fn zh(&self) -> &'static str {
        match self {
            PasswordError::TooShort => "密码至少 10 位",
            PasswordError::TooFewClasses => "密码须同时包含字母、数字和特殊符号",
            PasswordError::ContainsUsername => "密码不能包含账户名",
            PasswordError::Common => "密码过于常见（在弱密码库中），请换一个不易猜到的密码",
        }
    }
}

const COMMON: &[&str] = &[
    "password", "12345678", "qwerty", "admin", "abc123", "welcome", "iloveyou", "p@ssw0rd",
];

pub fn check(username: &str, password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < 10 {
        return Err(PasswordError::TooShort);
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(PasswordError::ContainsUsername);
    }
    if COMMON.iter().any(|c| lower.contains(c)) || weak::is_weak(password) {
        return Err(PasswordError::Common);
    }
    // Letters of any script count as letters (a Chinese character is one);
    // a symbol is anything neither letter nor digit.
    let classes = [
        password.chars().any(|c| c.is_alphabetic()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if !classes.iter().all(|&b| b) {
        return Err(PasswordError::TooFewClasses);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passwords that meet every rule, at the shortest length allowed:
    /// letters of either case or script, a digit and a symbol.
    #[test]
    fn passwords_meeting_every_rule_pass() {
        for pw in [
            "Hospital-Lobby7",
            "abcdefgh7!",         // lower case letters
            "ABCDEFGH7!",         // upper case letters
            "体检中心Ab1!xy",     // ten characters (four of them CJK, 18 bytes)
            "体检中心体检中心1!", // letters of Chinese only
        ] {
            assert_eq!(check("zhang", pw), Ok(()), "{pw}");
        }
    }

    #[test]
    fn too_short_counts_characters_not_bytes() {
        assert_eq!(check("admin", "Ab1!"), Err(PasswordError::TooShort));
        assert_eq!(check("zhang", "Ab1!Cd2@E"), Err(PasswordError::TooShort));
        assert_eq!(check("zhang", "Ab1!Cd2@Ef"), Ok(()), "ten is enough");
        // Nine characters, 21 bytes in UTF-8: still too short.
        assert_eq!(
            check("zhang", "体检中心Ab1!x"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(check("zhang", ""), Err(PasswordError::TooShort));
    }

    #[test]
    fn two_classes_are_too_few() {
        for pw in [
            "abcdeFGHI7",   // letters of both cases and a digit: no symbol
            "abcdeFGHI!",   // letters of both cases and a symbol: no digit
            "abcdefghijk1", // lower, digit
            "abcdefGHIJKL", // lower, upper
            "abcdefghij!!", // lower, symbol
            "ABCDEFGHIJ12", // upper, digit
            "ABCDEFGHIJ!!", // upper, symbol
            "1234509876!!", // digit, symbol
            "abcdefghijkl", // one class
            "!!!!!!!!!!!!",
        ] {
            assert_eq!(
                check("zhang", pw),
                Err(PasswordError::TooFewClasses),
                "{pw}"
            );
        }
    }

    #[test]
    fn the_account_name_is_refused_in_any_case() {
        assert_eq!(
            check("admin", "xxAdmin123!"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(
            check("Nurse1", "Q!nurse1-Zx"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(
            check("nurse1", "Q!NURSE1-Zx"),
            Err(PasswordError::ContainsUsername)
        );
        // No account name (not yet chosen) refuses nothing by itself.
        assert_eq!(check("", "Q!nurse1-Zx"), Ok(()));
        // A password that merely shares letters with the name is fine.
        assert_eq!(check("nurse1", "Q!nur-se1Zx"), Ok(()));
    }

    #[test]
    fn every_common_password_is_refused_inside_a_longer_one_in_any_case() {
        for common in COMMON {
            for pw in [
                format!("Zz9!-{common}"),
                format!("{}-Zz9!", common.to_uppercase()),
            ] {
                assert_eq!(check("zhang", &pw), Err(PasswordError::Common), "{pw}");
            }
        }
        assert_eq!(check("zhang", "Password123!"), Err(PasswordError::Common));
    }

    #[test]
    fn passwords_on_the_weak_list_are_refused_though_they_meet_the_other_rules() {
        for pw in [
            "Dragon-2026!",
            "Zhang123456!",
            "M0nkey#12345",
            "Woaini1314!",
        ] {
            assert_eq!(check("nurse1", pw), Err(PasswordError::Common), "{pw}");
        }
        assert!(PasswordError::Common.zh().contains("弱密码"));
    }
}
