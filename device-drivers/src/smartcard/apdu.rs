//! APDUs of the social security card (社会保障卡): select the SSSE
//! application ("sx1.sh." followed by 社会保障 in GBK), then read records of
//! EF05 (card data: record 07 is the card number) and EF06 (holder: record
//! 08 the social security number, i.e. the ID number; record 09 the name).
//! Records come back as TLV: tag (the record number), length, value.

/// AID of the SSSE application: "sx1.sh." + GBK "社会保障".
pub const SSSE_AID: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];

pub fn select_ssse() -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, 0x00, SSSE_AID.len() as u8];
    a.extend_from_slice(&SSSE_AID);
    a
}

pub fn select_ef(id: [u8; 2]) -> Vec<u8> {
    vec![0x00, 0xA4, 0x02, 0x00, 0x02, id[0], id[1]]
}

pub fn read_record(n: u8) -> Vec<u8> {
    vec![0x00, 0xB2, n, 0x04, 0x00]
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    #[error("card answered status {0:04X}")]
    Status(u16),
    #[error("card answer too short")]
    Short,
    #[error("record {expected:02X} expected, card sent {got:02X}")]
    Tag { expected: u8, got: u8 },
    #[error("record length {0} does not match its data")]
    Length(usize),
}

/// Splits a response into data and status word; refuses anything but 90 00.
pub fn ok_data(resp: &[u8]) -> Result<&[u8], ApduError> {
    if resp.len() < 2 {
        return Err(ApduError::Short);
    }
    let (data, sw) = resp.split_at(resp.len() - 2);
    match u16::from_be_bytes([sw[0], sw[1]]) {
        0x9000 => Ok(data),
        other => Err(ApduError::Status(other)),
    }
}

/// The value of a record's TLV.
pub fn record_value(resp: &[u8], tag: u8) -> Result<Vec<u8>, ApduError> {
    let data = ok_data(resp)?;
    if data.len() < 2 {
        return Err(ApduError::Short);
    }
    if data[0] != tag {
        return Err(ApduError::Tag {
            expected: tag,
            got: data[0],
        });
    }
    let len = usize::from(data[1]);
    if data.len() != 2 + len {
        return Err(ApduError::Length(len));
    }
    Ok(data[2..].to_vec())
}

/// GBK text as cards store it, padding trimmed.
pub fn text(v: &[u8]) -> String {
    let (s, _) = encoding_rs::GB18030.decode_without_bom_handling(v);
    s.trim_matches(|c: char| c == ' ' || c == '\0' || c == '\u{FFFD}')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apdus_and_records() {
        assert_eq!(&select_ssse()[..5], [0x00, 0xA4, 0x04, 0x00, 0x0F]);
        assert_eq!(
            encoding_rs::GB18030
                .decode_without_bom_handling(&SSSE_AID[7..])
                .0,
            "社会保障"
        );
        assert_eq!(
            record_value(&[0x07, 0x03, b'A', b'B', b'C', 0x90, 0x00], 0x07).unwrap(),
            b"ABC"
        );
        assert_eq!(
            record_value(&[0x6A, 0x82], 0x07),
            Err(ApduError::Status(0x6A82))
        );
        assert_eq!(
            record_value(&[0x08, 0x01, 0x90, 0x00], 0x07),
            Err(ApduError::Tag {
                expected: 7,
                got: 8
            })
        );
        assert_eq!(
            record_value(&[0x07, 0x05, b'A', 0x90, 0x00], 0x07),
            Err(ApduError::Length(5))
        );
        assert_eq!(ok_data(&[0x90]), Err(ApduError::Short));
    }
}
