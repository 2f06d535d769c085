//! The room screens' voice (Q4): a Mandarin sentence per call, spoken by a
//! real text-to-speech engine on the service (espeak-ng's `cmn` voice,
//! from Debian) into WAV, cached per sentence so a repeated call or a
//! second screen costs nothing. Only sentences of announcements are ever
//! spoken (the routes take an announcement's number, not text).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// "请 张*明 到 彩超一室 检查".
pub fn call_text(masked_name: &str, room_name: &str) -> String {
    format!("请 {masked_name} 到 {room_name} 检查")
}

/// "张*明 请到 2 楼 抽血室": the next room, for the person leaving.
pub fn next_text(masked_name: &str, floor: i32, room_name: &str) -> String {
    format!("{masked_name} 请到 {} {room_name}", floor_label(floor))
}

pub fn floor_label(floor: i32) -> String {
    if floor < 0 {
        format!("负{}楼", -floor)
    } else {
        format!("{floor} 楼")
    }
}

/// What is spoken: the mask's stars as 某 (a name is never spelt out).
fn spoken(text: &str) -> String {
    text.replace('*', "某")
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("text-to-speech is not installed (espeak-ng): {0}")]
    Missing(std::io::Error),
    #[error("text-to-speech failed: {0}")]
    Failed(String),
    #[error("voice cache: {0}")]
    Io(#[from] std::io::Error),
}

/// The cache directory (private to the service's user).
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!("exam-server-voice-{}", whoami()))
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "service".into())
}

/// The WAV of `text`, from the cache or spoken now.
pub async fn wav(dir: &Path, text: &str) -> Result<Vec<u8>, VoiceError> {
    let said = spoken(text);
    let key = hex::encode(Sha256::digest(said.as_bytes()));
    let file = dir.join(format!("{key}.wav"));
    if let Ok(b) = tokio::fs::read(&file).await {
        return Ok(b);
    }
    create_private_dir(dir)?;
    // One temporary file per call: screens ask for the same sentence at
    // once, and each speaks into its own file before the rename (the last
    // rename wins; the contents are the same).
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{key}.{}.{n}.tmp", std::process::id()));
    let out = tokio::process::Command::new("espeak-ng")
        .args(["-v", "cmn", "-s", "150", "-w"])
        .arg(&tmp)
        .arg("--")
        .arg(&said)
        .output()
        .await
        .map_err(VoiceError::Missing)?;
    if !out.status.success() {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(VoiceError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    tokio::fs::rename(&tmp, &file).await?;
    Ok(tokio::fs::read(&file).await?)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_mask_and_say_the_floor() {
        assert_eq!(call_text("张*明", "彩超一室"), "请 张*明 到 彩超一室 检查");
        assert_eq!(next_text("张*明", 2, "采血室"), "张*明 请到 2 楼 采血室");
        assert_eq!(floor_label(-1), "负1楼");
        assert_eq!(spoken("张*明"), "张某明");
    }

    /// The real engine (CI installs espeak-ng): a RIFF/WAVE file, cached.
    #[tokio::test]
    async fn espeak_speaks_mandarin_into_a_cached_wav() {
        let dir = std::env::temp_dir().join(format!("voice-test-{}", std::process::id()));
        let a = wav(&dir, "请 张*明 到 彩超一室 检查")
            .await
            .expect("spoken");
        assert_eq!(&a[..4], b"RIFF");
        assert_eq!(&a[8..12], b"WAVE");
        assert!(a.len() > 10_000, "{} bytes", a.len());
        let files = std::fs::read_dir(&dir).expect("cache").count();
        let b = wav(&dir, "请 张*明 到 彩超一室 检查")
            .await
            .expect("cached");
        assert_eq!(a, b);
        assert_eq!(std::fs::read_dir(&dir).expect("cache").count(), files);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_same_sentence_asked_at_once_is_spoken_for_each() {
        let dir = std::env::temp_dir().join(format!("voice-race-{}", std::process::id()));
        let text = call_text("张*明", "超声室B");
        let asks: Vec<_> = (0..6)
            .map(|_| {
                let (dir, text) = (dir.clone(), text.clone());
                tokio::spawn(async move { wav(&dir, &text).await })
            })
            .collect();
        for a in asks {
            let b = a.await.unwrap().unwrap();
            assert!(b.starts_with(b"RIFF"), "a WAV");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
