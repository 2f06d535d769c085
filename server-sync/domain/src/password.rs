//! S1: the staff password policy.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password needs at least 10 characters")]
    TooShort,
    #[error(
        "a password needs characters from at least three of: lower case, upper case, digits, symbols"
    )]
    TooFewClasses,
    #[error("a password must not contain the account name")]
    ContainsUsername,
    #[error("this password is on the list of common passwords")]
    Common,
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
    if COMMON.iter().any(|c| lower.contains(c)) {
        return Err(PasswordError::Common);
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|&&b| b).count() < 3 {
        return Err(PasswordError::TooFewClasses);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn policy() {
        assert_eq!(check("admin", "Ab1!"), Err(PasswordError::TooShort));
        assert_eq!(
            check("admin", "xxAdmin123!"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(check("zhang", "Password123!"), Err(PasswordError::Common));
        assert_eq!(
            check("zhang", "abcdefghijk1"),
            Err(PasswordError::TooFewClasses)
        );
        assert_eq!(check("zhang", "Hospital-Lobby7"), Ok(()));
    }
}
