//! Masking for display (S5): done on the server and the kiosk before text reaches a screen.

/// 张三明 → 张*明, 李四 → 李*, 欧阳小明 → 欧**明.
pub fn name(full: &str) -> String {
    let chars: Vec<char> = full.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut s = String::new();
            s.push(chars[0]);
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(chars[n - 1]);
            s
        }
    }
}

/// Keeps the first four and last four characters: 3201**********1234.
pub fn id_number(full: &str) -> String {
    keep_ends(full, 4, 4)
}

/// 138****5678.
pub fn mobile(full: &str) -> String {
    keep_ends(full, 3, 4)
}

fn keep_ends(full: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = full.trim().chars().collect();
    let n = chars.len();
    if n <= head + tail {
        return "*".repeat(n);
    }
    let mut s: String = chars[..head].iter().collect();
    s.extend(std::iter::repeat_n('*', n - head - tail));
    s.extend(&chars[n - tail..]);
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks() {
        assert_eq!(super::name("张三明"), "张*明");
        assert_eq!(super::name("李四"), "李*");
        assert_eq!(super::name("欧阳小明"), "欧**明");
        assert_eq!(super::id_number("320102198001011234"), "3201**********1234");
        assert_eq!(super::mobile("13812345678"), "138****5678");
        assert_eq!(super::id_number("1234"), "****");
    }
}
