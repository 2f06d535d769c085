use super::*;

const ORU: &str = "MSH|^~\\&|LIS|LAB|EXAM|CENTER|20261205101500||ORU^R01^ORU_R01|MSG0001|P|2.5|||||CHN|UNICODE UTF-8\r\
PID|1||P0001^^^EXAM^PI||张^三||19800101|M\r\
OBR|1|B123456|F789|L-ELEC^电解质^L|||20261205100000\r\
OBX|1|NM|K^钾^L||6.8|mmol/L|3.5-5.3|HH|||F\r\
OBX|2|ST|NOTE^备注^L||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X0D0A\\g~second^x&y|||N|||F\r";

#[test]
fn parses_fields_components_repetitions_and_escapes() {
    let m = Message::parse(ORU, Charset::Utf8).unwrap();
    assert_eq!(m.segments.len(), 5);
    assert_eq!(m.message_type(), ("ORU", "R01"));
    assert_eq!(m.control_id(), "MSG0001");
    let msh = m.msh().unwrap();
    assert_eq!(msh.get(1), "|");
    assert_eq!(msh.get(2), "^~\\&");
    assert_eq!(msh.get(18), "UNICODE UTF-8");
    let pid = m.segment("PID").unwrap();
    assert_eq!(pid.component(5, 1), "张");
    assert_eq!(pid.component(3, 4), "EXAM");
    let obx: Vec<_> = m.segments_named("OBX").collect();
    assert_eq!(obx[0].get(5), "6.8");
    let f = obx[1].field(5).unwrap();
    assert_eq!(f.repetitions.len(), 2);
    assert_eq!(f.component(1), "a|b^c&d~e\\f\r\ng");
    let second = &f.repetitions[1];
    assert_eq!(second.component(1), "second");
    assert_eq!(second.components[1].subcomponents, ["x", "y"]);
}

#[test]
fn encode_round_trips() {
    let m = Message::parse(ORU, Charset::Utf8).unwrap();
    let text = m.encode();
    // Byte for byte, except that each control character is its own \X..\.
    assert_eq!(text, ORU.replace("\\X0D0A\\", "\\X0D\\\\X0A\\"));
    assert_eq!(Message::parse(&text, Charset::Utf8).unwrap(), m);
}

#[test]
fn other_delimiters_from_msh2() {
    let text = "MSH#*!$%#A#B\rPID#1##ID1*X*Y%Z!ID2##a$S$b\r";
    let m = Message::parse(text, Charset::Utf8).unwrap();
    assert_eq!(m.delimiters.field, '#');
    assert_eq!(m.delimiters.component, '*');
    assert_eq!(m.delimiters.escape, '$');
    let pid = m.segment("PID").unwrap();
    assert_eq!(pid.field(3).unwrap().repetitions.len(), 2);
    assert_eq!(pid.component(3, 3), "Y");
    assert_eq!(pid.get(5), "a*b");
    assert_eq!(m.encode(), text);
}

#[test]
fn lf_and_crlf_segment_ends_accepted() {
    let text = ORU.replace('\r', "\r\n");
    assert_eq!(
        Message::parse(&text, Charset::Utf8).unwrap(),
        Message::parse(ORU, Charset::Utf8).unwrap()
    );
}

#[test]
fn typed_errors_for_bad_input() {
    let p = |s: &str| Message::parse(s, Charset::Utf8);
    assert_eq!(p(""), Err(ParseError::Empty));
    assert_eq!(p("\r\n\r"), Err(ParseError::Empty));
    assert_eq!(p("PID|1\r"), Err(ParseError::MissingMsh));
    assert_eq!(p("MSH"), Err(ParseError::MshTooShort));
    assert!(matches!(p("MSH|^~|x"), Err(ParseError::BadDelimiters(_))));
    assert!(matches!(
        p("MSH|^^\\&|x"),
        Err(ParseError::BadDelimiters(_))
    ));
    assert!(matches!(p("MSHA^~\\&"), Err(ParseError::BadDelimiters(_))));
    assert!(matches!(
        p("MSH|^~\\&|x\rpid|1\r"),
        Err(ParseError::BadSegmentId { index: 1, .. })
    ));
    assert!(matches!(
        p("MSH|^~\\&|x\rMSH|^~\\&|y\r"),
        Err(ParseError::BadSegmentId { index: 1, .. })
    ));
    assert!(matches!(
        p("MSH|^~\\&|x\rOBX|1|\\XZZ\\\r"),
        Err(ParseError::BadHexEscape { index: 1, .. })
    ));
}

#[test]
fn gbk_bytes_decoded_by_peer_setting_or_msh18() {
    let text = ORU.replace("UNICODE UTF-8", "GB 18030-2000");
    let bytes = Charset::Gbk.encode(&text).unwrap();
    // A peer configured as GBK.
    let (m, cs) = decode(&bytes, Charset::Gbk).unwrap();
    assert_eq!(cs, Charset::Gbk);
    assert_eq!(m.segment("PID").unwrap().component(5, 1), "张");
    // A peer configured as UTF-8 that sends GBK and says so in MSH-18.
    let (m2, cs2) = decode(&bytes, Charset::Utf8).unwrap();
    assert_eq!((m2, cs2), (m, Charset::Gbk));
    // GBK without saying so, to a UTF-8 peer: a clear error, no guess.
    let plain = Charset::Gbk
        .encode(&text.replace("GB 18030-2000", ""))
        .unwrap();
    assert!(matches!(
        decode(&plain, Charset::Utf8),
        Err(ParseError::InvalidText {
            charset: Charset::Utf8,
            ..
        })
    ));
    // UTF-8 bytes with MSH-18 = UTF-8 to a GBK peer are re-read as UTF-8.
    let (m3, cs3) = decode(ORU.as_bytes(), Charset::Gbk).unwrap();
    assert_eq!(cs3, Charset::Utf8);
    assert_eq!(m3.segment("PID").unwrap().component(5, 1), "张");
    assert!(matches!(
        decode(
            ORU.replace("UNICODE UTF-8", "8859/1").as_bytes(),
            Charset::Utf8
        ),
        Err(ParseError::UnsupportedCharset(_))
    ));
}

#[test]
fn builder_sets_fields_and_escapes_values() {
    let mut msh = Segment::new("MSH");
    msh.set(9, Field::components(["ACK", "O01", "ACK"]))
        .set(10, Field::text("C1"));
    let mut m = Message::new(Delimiters::default(), msh);
    m.push(
        Segment::new("MSA")
            .with(1, Field::text("AA"))
            .with(3, Field::text("ok|done")),
    );
    let text = m.encode();
    assert_eq!(
        text,
        "MSH|^~\\&|||||||ACK^O01^ACK|C1\rMSA|AA||ok\\F\\done\r"
    );
    let back = Message::parse(&text, Charset::Utf8).unwrap();
    assert_eq!(back.segment("MSA").unwrap().get(3), "ok|done");
    assert_eq!(back.control_id(), "C1");
}
