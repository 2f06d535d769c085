use super::*;

fn ring() -> KeyRing {
    KeyRing::generate().unwrap()
}

#[test]
fn a_sealed_value_opens_with_its_place_only() {
    let k = ring();
    let s = k.seal_str("张三", b"people.name|abc").unwrap();
    assert!(s.starts_with("sealed:v1:1:"), "{s}");
    assert!(!s.contains("张三"));
    assert_eq!(k.open_string(&s, b"people.name|abc").unwrap(), "张三");
    // Another row or column: refused.
    assert!(matches!(
        k.open(&s, b"people.name|abd"),
        Err(VaultError::Tampered)
    ));
    // Every seal has its own nonce.
    assert_ne!(s, k.seal_str("张三", b"people.name|abc").unwrap());
}

#[test]
fn an_altered_value_is_detected() {
    let k = ring();
    let s = k.seal(b"110105194912310021", b"ad").unwrap();
    let (head, body) = s.rsplit_once(':').unwrap();
    let mut raw = B64.decode(body).unwrap();
    for i in [0, 12, raw.len() - 1] {
        let mut bad = raw.clone();
        bad[i] ^= 1;
        let t = format!("{head}:{}", B64.encode(&bad));
        assert!(
            matches!(k.open(&t, b"ad"), Err(VaultError::Tampered)),
            "byte {i}"
        );
    }
    raw.truncate(20);
    let t = format!("{head}:{}", B64.encode(&raw));
    assert!(matches!(k.open(&t, b"ad"), Err(VaultError::Tampered)));
    // The key id in the header is authenticated too.
    let mut k2 = ring();
    k2.rotate().unwrap();
    let s2 = k2.seal(b"x", b"ad").unwrap();
    let swapped = s2.replacen("sealed:v1:2:", "sealed:v1:1:", 1);
    assert!(matches!(
        k2.open(&swapped, b"ad"),
        Err(VaultError::Tampered)
    ));
    assert!(matches!(k.open("plain", b"ad"), Err(VaultError::NotSealed)));
    assert!(matches!(
        k.open("sealed:v1:x:AAAA", b"ad"),
        Err(VaultError::NotSealed)
    ));
}

#[test]
fn another_key_ring_opens_nothing() {
    let (a, b) = (ring(), ring());
    let s = a.seal(b"13800138000", b"m").unwrap();
    assert!(matches!(b.open(&s, b"m"), Err(VaultError::Tampered)));
    assert_ne!(
        a.blind_index(IndexKind::Mobile, "13800138000"),
        b.blind_index(IndexKind::Mobile, "13800138000")
    );
    let mut c = ring();
    c.rotate().unwrap();
    let s = c.seal(b"x", b"").unwrap();
    assert!(matches!(a.open(&s, b""), Err(VaultError::UnknownKey(2))));
}

#[test]
fn rotation_seals_with_the_newest_and_opens_the_old() {
    let mut k = ring();
    let old = k.seal(b"old", b"r").unwrap();
    assert!(!k.needs_rekey(&old));
    assert_eq!(k.rotate().unwrap(), 2);
    let new = k.seal(b"new", b"r").unwrap();
    assert_eq!(key_id_of(&new), Some(2));
    assert_eq!(key_id_of(&old), Some(1));
    assert!(k.needs_rekey(&old) && !k.needs_rekey(&new));
    assert_eq!(k.open(&old, b"r").unwrap(), b"old");
    assert_eq!(k.open(&new, b"r").unwrap(), b"new");
    // The index key stays: tokens stored before the rotation still match.
    let before = ring();
    let text = before.to_text();
    let mut after = KeyRing::from_text(&text).unwrap();
    after.rotate().unwrap();
    assert_eq!(
        before.blind_index(IndexKind::IdNumber, "X"),
        after.blind_index(IndexKind::IdNumber, "X")
    );
}

#[test]
fn blind_indexes_are_stable_keyed_and_separated_by_kind() {
    let k = ring();
    let a = k.blind_index(IndexKind::IdNumber, "11010519491231002X");
    assert_eq!(a, k.blind_index(IndexKind::IdNumber, "11010519491231002X"));
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(a, k.blind_index(IndexKind::Mobile, "11010519491231002X"));
    assert_ne!(
        k.blind_index(IndexKind::NamePrefix, "张三"),
        k.blind_index(IndexKind::NamePrefix, "张")
    );
    // Known answer: HMAC-SHA256(key, tag ‖ 0 ‖ value), first 16 bytes.
    let fixed = KeyRing::from_text(&format!(
        "index {}\ndata 1 {}\n",
        B64.encode([7u8; 32]),
        B64.encode([9u8; 32])
    ))
    .unwrap();
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&[7u8; 32]).unwrap();
    mac.update(b"exam-vault/index/mobile\x0013800138000");
    let want = hex::encode(&mac.finalize().into_bytes()[..16]);
    assert_eq!(fixed.blind_index(IndexKind::Mobile, "13800138000"), want);
}

#[test]
fn keys_are_never_printed() {
    let k = ring();
    let text = k.to_text();
    let secret = text.lines().find(|l| l.starts_with("index ")).unwrap()[6..].to_string();
    let shown = format!("{k:?}");
    assert!(!shown.contains(&secret), "{shown}");
    assert!(
        shown.contains("redacted") && shown.contains("[1]"),
        "{shown}"
    );
}

#[test]
fn the_key_file_round_trips_and_must_be_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.key");
    let mut k = ring();
    k.write_new_file(&path).unwrap();
    assert!(matches!(
        k.write_new_file(&path),
        Err(VaultError::Exists(_))
    ));
    let back = KeyRing::load_file(&path).unwrap();
    let s = k.seal(b"x", b"").unwrap();
    assert_eq!(back.open(&s, b"").unwrap(), b"x");
    k.rotate().unwrap();
    k.replace_file(&path).unwrap();
    let back = KeyRing::load_file(&path).unwrap();
    assert_eq!(back.key_ids(), vec![1, 2]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = KeyRing::load_file(&path).unwrap_err();
        assert!(
            matches!(e, VaultError::KeyFileOpen { mode: 0o640, .. }),
            "{e}"
        );
    }
    assert!(matches!(
        KeyRing::load(None, "EXAM_VAULT_TEST_NEVER_SET"),
        Err(VaultError::NoKeys)
    ));
}

#[test]
fn key_text_is_checked() {
    let k32 = B64.encode([1u8; 32]);
    for (text, want) in [
        (format!("data 1 {k32}"), "no index key"),
        (format!("index {k32}"), "no data key"),
        (format!("index {k32}\ndata 1 {k32}\ndata 1 {k32}"), "unique"),
        (format!("index {k32}\ndata 0 {k32}"), "unique"),
        (format!("index {k32}\ndata 1 AAAA"), "32 bytes"),
        (format!("index {k32}\nkey 1 {k32}"), "expected"),
    ] {
        let e = KeyRing::from_text(&text).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
    // The environment's form: `;` between entries.
    let k = KeyRing::from_text(&format!("index {k32}; data 3 {k32}; data 1 {k32}")).unwrap();
    assert_eq!(k.current_key_id(), 3);
}

#[test]
fn configuration_secrets() {
    let k = ring();
    let url = "postgres://exam:s3cret@db/exam";
    let sealed = k.seal_config(url).unwrap();
    assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains("s3cret"));
    assert_eq!(k.reveal_config(&sealed).unwrap(), url);
    assert_eq!(k.reveal_config(url).unwrap(), url);
    assert!(ring().reveal_config(&sealed).is_err());
}
