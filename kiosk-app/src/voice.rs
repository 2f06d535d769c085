//! Voice prompts (K13): one pre-rendered Mandarin WAV per screen in
//! `assets/voice/` (made by `scripts/voice` with espeak-ng), played through
//! ALSA's `aplay` at the configured volume. A kiosk without a sound device
//! logs once and stays silent; the screen carries the same words.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Every prompt the flow can ask for, with the words spoken.
pub const PROMPTS: &[(&str, &str)] = &[
    (
        "attract",
        "欢迎使用体检自助签到。请放置身份证，或扫描预约二维码。",
    ),
    ("keypad", "请输入身份证号码和手机号码。"),
    ("looking", "正在核验身份，请稍候。"),
    ("consent", "体检单据需要印上您的现场照片，是否同意拍照？"),
    ("choose", "请选择要打印的单据。"),
    ("photo", "请看向摄像头，准备拍照。"),
    ("pay", "请用手机扫描屏幕上的二维码缴费。"),
    ("printing", "正在打印，请稍候，不要离开。"),
    ("take_documents", "打印完成，请取走您的单据。"),
    ("no_booking", "没有找到您的预约，请到服务台办理。"),
    (
        "card_unreadable",
        "身份证没有读出来，请把身份证平放在读卡区。",
    ),
    ("too_early", "还没到您的预约时间，请稍后再来。"),
    (
        "nothing_today",
        "今天没有您可以签到的预约，请到服务台咨询。",
    ),
    (
        "printer_out",
        "本机暂时不能打印，请到旁边的自助机，工作人员马上就到。",
    ),
    (
        "payment_failed",
        "支付没有成功，请重新扫码，或到服务台缴费。",
    ),
    ("book_place_card", "预约需要核验身份，请放置身份证。"),
    ("book_home", "请选择要修改的预约，或者新预约。"),
    ("book_marital", "请选择您的婚姻状况。"),
    ("book_package", "请选择体检套餐。"),
    ("book_addons", "需要加项可以点选，不需要请点下一步。"),
    ("book_time", "请选择体检的日期和时段。"),
    ("book_confirm", "请核对预约信息，无误请点确认。"),
    ("book_cancel", "请选择取消的原因。"),
    ("book_done", "预约成功，请取走预约单。体检当天请空腹。"),
    ("book_cancelled", "预约已取消。"),
    ("book_unavailable", "自助预约暂时不能完成，请到服务台办理。"),
    ("report_place_card", "打印体检报告，请放置本人身份证。"),
    ("report_list", "请选择要打印的体检报告。"),
    (
        "privacy",
        "这是本中心的隐私政策，说明我们如何处理您的个人信息。阅读后请点返回。",
    ),
    (
        "report_none",
        "您的体检报告还没有出具，出具后会短信通知您。",
    ),
    ("report_unavailable", "暂时不能打印报告，请到服务台领取。"),
    (
        "face_notice",
        "刷脸签到需要您的同意。请阅读说明，同意后点开始。",
    ),
    ("face_stand_in_front", "请站到摄像头前。"),
    ("face_one_at_a_time", "请一位一位来。"),
    ("face_come_closer", "请靠近一点。"),
    ("face_too_dark", "光线太暗，请面向亮处。"),
    ("face_look_straight", "请正对摄像头，保持不动。"),
    ("face_turn_left", "请向左转头。"),
    ("face_turn_right", "请向右转头。"),
    ("face_nod", "请点点头。"),
    ("face_back_to_centre", "请转回来，正对摄像头。"),
    (
        "face_not_known",
        "没有认出您。请刷身份证，扫码，或者输入证件号签到。",
    ),
    (
        "face_not_live",
        "没有完成动作确认。请刷身份证，扫码，或者输入证件号签到。",
    ),
    (
        "face_unavailable",
        "刷脸暂时不可用。请刷身份证，扫码，或者输入证件号签到。",
    ),
    (
        "face_enrol",
        "下次来检想刷脸签到吗？同意后保存人脸特征，不保存照片。",
    ),
    (
        "face_card_notice",
        "需要核验您是身份证本人。同意后请看向摄像头，比对后不保存。",
    ),
    (
        "face_not_card_holder",
        "人脸与身份证照片不一致，请到服务台核验身份。",
    ),
    ("face_to_desk", "请到服务台，由工作人员核验身份后签到。"),
];

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("only 16-bit PCM is played")]
    Format,
    #[error("no data chunk")]
    NoData,
}

/// The offset and length of the samples of a 16-bit PCM WAV file.
pub fn pcm16_data(wav: &[u8]) -> Result<(usize, usize), WavError> {
    if wav.len() < 12 || &wav[0..4] != b"RIFF" || &wav[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut at = 12;
    let mut format_ok = false;
    while at + 8 <= wav.len() {
        let id = &wav[at..at + 4];
        let len = u32::from_le_bytes([wav[at + 4], wav[at + 5], wav[at + 6], wav[at + 7]]) as usize;
        let body = at + 8;
        if id == b"fmt " && body + 16 <= wav.len() {
            let tag = u16::from_le_bytes([wav[body], wav[body + 1]]);
            let bits = u16::from_le_bytes([wav[body + 14], wav[body + 15]]);
            format_ok = tag == 1 && bits == 16;
        }
        if id == b"data" {
            if !format_ok {
                return Err(WavError::Format);
            }
            // espeak-ng streaming output leaves the length at 0 or too big.
            let len = len.min(wav.len() - body);
            let len = if len == 0 { wav.len() - body } else { len };
            return Ok((body, len & !1));
        }
        at = body + len + (len & 1);
    }
    Err(WavError::NoData)
}

/// Scales the samples of a 16-bit PCM WAV file in place (volume 0..=1).
pub fn scale(wav: &mut [u8], volume: f32) -> Result<(), WavError> {
    let (start, len) = pcm16_data(wav)?;
    let v = volume.clamp(0.0, 1.0);
    for s in wav[start..start + len].chunks_exact_mut(2) {
        let x = f32::from(i16::from_le_bytes([s[0], s[1]])) * v;
        s.copy_from_slice(&(x as i16).to_le_bytes());
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Voice {
    dir: PathBuf,
    volume: f32,
    warned: Arc<AtomicBool>,
}

impl Voice {
    pub fn new(dir: impl Into<PathBuf>, volume: f32) -> Self {
        Self {
            dir: dir.into(),
            volume,
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn file(dir: &Path, prompt: &str) -> PathBuf {
        dir.join(format!("{prompt}.wav"))
    }

    /// Plays a prompt in the background; never blocks the screen.
    pub fn play(&self, prompt: &str) {
        let path = Self::file(&self.dir, prompt);
        let (volume, warned) = (self.volume, self.warned.clone());
        std::thread::spawn(move || {
            let r = (|| -> Result<(), String> {
                let mut wav =
                    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                scale(&mut wav, volume).map_err(|e| e.to_string())?;
                let mut child = Command::new("aplay")
                    .arg("-q")
                    .stdin(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("aplay: {e}"))?;
                child.stdin.take().map(|mut i| i.write_all(&wav));
                let st = child.wait().map_err(|e| e.to_string())?;
                st.success()
                    .then_some(())
                    .ok_or_else(|| format!("aplay: {st}"))
            })();
            if let Err(e) = r
                && !warned.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(error = %e, "voice prompts cannot play (shown on screen only)");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/voice")
    }

    #[test]
    fn every_prompt_of_the_flow_has_words() {
        for p in crate::flow::PROMPTS {
            assert!(PROMPTS.iter().any(|(k, _)| k == p), "no voice prompt {p}");
        }
    }

    #[test]
    fn every_screen_has_a_playable_prompt() {
        for (prompt, _) in PROMPTS {
            let wav = std::fs::read(Voice::file(&assets(), prompt)).unwrap();
            let (_, len) = pcm16_data(&wav).unwrap();
            assert!(len > 22050, "{prompt}: under half a second of speech");
        }
    }

    #[test]
    fn volume_scales_samples_and_bad_files_are_refused() {
        let mut wav = std::fs::read(Voice::file(&assets(), "printing")).unwrap();
        let (start, len) = pcm16_data(&wav).unwrap();
        let peak = |w: &[u8]| {
            w[start..start + len]
                .chunks_exact(2)
                .map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs())
                .max()
                .unwrap()
        };
        let before = peak(&wav);
        scale(&mut wav, 0.5).unwrap();
        let after = peak(&wav);
        assert!(
            before > 1000 && (after as i32 - before as i32 / 2).abs() <= 1,
            "{before} {after}"
        );
        assert!(matches!(
            pcm16_data(b"RIFF\0\0\0\0WAVEjunk"),
            Err(WavError::NoData)
        ));
        assert!(matches!(pcm16_data(b"<html>"), Err(WavError::NotWave)));
    }
}
