//! A camera through Video4Linux2 (the `v4l` crate, which is also nokhwa's
//! Linux backend: used directly for the driver's frame timestamps, the
//! output side and fewer dependencies), and the output side that feeds a
//! virtual camera.
//!
//! Capture: the pixel format is the first of [`PixelFormat::PREFERRED`] the
//! camera offers, at the size nearest the one asked for; frames come
//! through memory-mapped buffers and are converted to BGR with the
//! driver's timestamp. A camera that sends nothing for the timeout is
//! [`CameraError::Stalled`]; one that went away (USB unplug, a driver
//! disconnect) is [`CameraError::Unplugged`]. Either way the caller drops
//! it and opens it again ([`super::live`] does).
//!
//! Output ([`V4l2Feed`]): pictures written as YUYV into a video output
//! device. With the kernel's `vivid` test driver and its "Loop Video"
//! control the output comes back on vivid's capture device, so the
//! kiosk's camera path is tested through the real kernel interface.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use v4l::buffer::{Flags as BufFlags, Type};
use v4l::capability::Flags as CapFlags;
use v4l::framesize::FrameSizeEnum;
use v4l::io::traits::CaptureStream;
use v4l::video::{Capture, Output};
use v4l::{Device, Format, FourCC};

use super::convert::{self, PixelFormat};
use super::{CameraError, FrameSource, Picture};

/// What was agreed with the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Bytes a line (0: packed).
    pub stride: u32,
}

pub struct V4l2Camera {
    path: PathBuf,
    // Declared before the device: the stream's buffers are unmapped and
    // streaming stopped before the file is closed.
    stream: v4l::io::mmap::Stream<'static>,
    _dev: Device,
    negotiated: Negotiated,
    card: String,
    timeout: Duration,
}

impl std::fmt::Debug for V4l2Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V4l2Camera")
            .field("path", &self.path)
            .field("card", &self.card)
            .field("negotiated", &self.negotiated)
            .finish()
    }
}

fn io_error(path: &Path, what: &str, e: &std::io::Error) -> CameraError {
    let msg = format!("{}: {what}: {e}", path.display());
    match e.raw_os_error() {
        Some(libc::ENODEV | libc::ENOENT | libc::ENXIO) => CameraError::Unplugged(msg),
        _ if e.kind() == std::io::ErrorKind::TimedOut => CameraError::Stalled(Duration::ZERO),
        _ => CameraError::Unavailable(msg),
    }
}

/// The size among `sizes` nearest `want` in area (ties: the larger).
fn nearest(sizes: &[(u32, u32)], want: (u32, u32)) -> Option<(u32, u32)> {
    let area = |(w, h): (u32, u32)| i64::from(w) * i64::from(h);
    sizes
        .iter()
        .copied()
        .min_by_key(|&s| ((area(s) - area(want)).abs(), -area(s)))
}

impl V4l2Camera {
    /// Opens the camera at `path` (`/dev/video0`, or a stable
    /// `/dev/v4l/by-id/…` link) for pictures near `want` in size.
    pub fn open(path: &Path, want: (u32, u32), timeout: Duration) -> Result<Self, CameraError> {
        let dev = Device::with_path(path).map_err(|e| io_error(path, "open", &e))?;
        let caps = dev
            .query_caps()
            .map_err(|e| io_error(path, "query capabilities", &e))?;
        if !caps.capabilities.contains(CapFlags::VIDEO_CAPTURE)
            || !caps.capabilities.contains(CapFlags::STREAMING)
        {
            return Err(CameraError::Unavailable(format!(
                "{} ({}) is not a streaming video capture device",
                path.display(),
                caps.card
            )));
        }
        let offered: Vec<[u8; 4]> = Capture::enum_formats(&dev)
            .map_err(|e| io_error(path, "list formats", &e))?
            .into_iter()
            .map(|d| d.fourcc.repr)
            .collect();
        let format = PixelFormat::PREFERRED
            .into_iter()
            .find(|f| offered.contains(&f.fourcc()))
            .ok_or_else(|| {
                CameraError::Unavailable(format!(
                    "{}: none of the formats it offers ({}) is one the kiosk reads",
                    path.display(),
                    offered
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let fourcc = FourCC::new(&format.fourcc());
        // Sizes the camera lists (a webcam lists them; an HDMI input or a
        // driver without the call has one size, and S_FMT says which).
        let sizes: Vec<(u32, u32)> = Capture::enum_framesizes(&dev, fourcc)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|s| match s.size {
                FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
                FrameSizeEnum::Stepwise(s) => vec![(
                    want.0.clamp(s.min_width, s.max_width),
                    want.1.clamp(s.min_height, s.max_height),
                )],
            })
            .collect();
        let (w, h) = nearest(&sizes, want).unwrap_or(want);
        let got = Capture::set_format(&dev, &Format::new(w, h, fourcc))
            .map_err(|e| io_error(path, "set format", &e))?;
        let format = PixelFormat::from_fourcc(got.fourcc.repr).ok_or_else(|| {
            CameraError::Unavailable(format!(
                "{}: the driver chose {} instead",
                path.display(),
                String::from_utf8_lossy(&got.fourcc.repr)
            ))
        })?;
        let negotiated = Negotiated {
            format,
            width: got.width,
            height: got.height,
            stride: if format == PixelFormat::Mjpeg {
                0
            } else {
                got.stride
            },
        };
        let mut stream = v4l::io::mmap::Stream::with_buffers(&dev, Type::VideoCapture, 4)
            .map_err(|e| io_error(path, "map buffers", &e))?;
        stream.set_timeout(timeout);
        tracing::info!(camera = %path.display(), card = %caps.card, ?negotiated, "camera opened");
        Ok(Self {
            path: path.to_path_buf(),
            stream,
            _dev: dev,
            negotiated,
            card: caps.card,
            timeout,
        })
    }

    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// The driver's name for the device ("UVC Camera (046d:0825)").
    pub fn card(&self) -> &str {
        &self.card
    }
}

impl FrameSource for V4l2Camera {
    fn next_picture(&mut self) -> Result<Picture, CameraError> {
        let n = self.negotiated;
        // A frame the driver marks corrupt is skipped; a run of them is a
        // broken camera.
        for _ in 0..8 {
            let (buf, meta) = match CaptureStream::next(&mut self.stream) {
                Ok(x) => x,
                Err(e) => {
                    return Err(match io_error(&self.path, "read a frame", &e) {
                        CameraError::Stalled(_) => CameraError::Stalled(self.timeout),
                        other => other,
                    });
                }
            };
            if meta.flags.contains(BufFlags::ERROR) {
                continue;
            }
            let used = match meta.bytesused as usize {
                0 => buf.len(),
                n => n.min(buf.len()),
            };
            let bgr = convert::to_bgr(n.format, &buf[..used], n.width, n.height, n.stride as usize)
                .map_err(|e| CameraError::Image {
                    path: self.path.display().to_string(),
                    reason: e.to_string(),
                })?;
            let at = Duration::from_secs(meta.timestamp.sec.max(0) as u64)
                + Duration::from_micros(meta.timestamp.usec.max(0) as u64);
            return Ok(Picture {
                width: n.width,
                height: n.height,
                bgr,
                at,
            });
        }
        Err(CameraError::Unavailable(format!(
            "{}: eight frames in a row marked corrupt by the driver",
            self.path.display()
        )))
    }
}

/// Pictures into a video output device, as YUYV at the device's size: a
/// virtual camera's input (vivid's output, looped to its capture).
pub struct V4l2Feed {
    file: std::fs::File,
    path: PathBuf,
    width: u32,
    height: u32,
    stride: u32,
}

impl V4l2Feed {
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        let dev = Device::with_path(path).map_err(|e| io_error(path, "open", &e))?;
        let caps = dev
            .query_caps()
            .map_err(|e| io_error(path, "query capabilities", &e))?;
        if !caps.capabilities.contains(CapFlags::VIDEO_OUTPUT)
            || !caps.capabilities.contains(CapFlags::READ_WRITE)
        {
            return Err(CameraError::Unavailable(format!(
                "{} ({}) is not a video output device that takes write()",
                path.display(),
                caps.card
            )));
        }
        let cur = Output::format(&dev).map_err(|e| io_error(path, "get format", &e))?;
        let got = Output::set_format(&dev, &Format::new(cur.width, cur.height, FourCC::new(b"YUYV")))
            .map_err(|e| io_error(path, "set format", &e))?;
        if &got.fourcc.repr != b"YUYV" {
            return Err(CameraError::Unavailable(format!(
                "{}: the output does not take YUYV",
                path.display()
            )));
        }
        // Writes block while every buffer is queued: the device paces us.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| io_error(path, "open for writing", &e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            width: got.width,
            height: got.height,
            stride: got.stride.max(got.width * 2),
        })
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Shows `p` (scaled and letterboxed to the device's size) for one
    /// frame of the device's rate.
    pub fn show(&mut self, p: &Picture) -> Result<(), CameraError> {
        let yuyv = convert::bgr_to_yuyv(&p.bgr, p.width, p.height, self.width, self.height)
            .map_err(|e| CameraError::Image {
                path: self.path.display().to_string(),
                reason: e.to_string(),
            })?;
        let line = self.width as usize * 2;
        let mut frame = vec![0u8; self.stride as usize * self.height as usize];
        for (dst, src) in frame
            .chunks_mut(self.stride as usize)
            .zip(yuyv.chunks(line))
        {
            dst[..line].copy_from_slice(src);
        }
        self.file
            .write_all(&frame)
            .map_err(|e| io_error(&self.path, "write a frame", &e))
    }
}

/// Turns on vivid's "Loop Video" on its capture device, so what is written
/// to its output is what the capture sees.
pub fn vivid_loop(capture: &Path) -> Result<(), CameraError> {
    let dev = Device::with_path(capture).map_err(|e| io_error(capture, "open", &e))?;
    let ctrl = dev
        .query_controls()
        .map_err(|e| io_error(capture, "list controls", &e))?
        .into_iter()
        .find(|c| c.name == "Loop Video")
        .ok_or_else(|| {
            CameraError::Unavailable(format!(
                "{} has no \"Loop Video\" control: is it vivid's capture device?",
                capture.display()
            ))
        })?;
    dev.set_control(v4l::Control {
        id: ctrl.id,
        value: v4l::control::Value::Boolean(true),
    })
    .map_err(|e| io_error(capture, "set Loop Video", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_nearest_the_wish_is_chosen() {
        let sizes = [(320, 240), (640, 480), (1280, 720), (1920, 1080)];
        assert_eq!(nearest(&sizes, (640, 480)), Some((640, 480)));
        assert_eq!(nearest(&sizes, (1000, 700)), Some((1280, 720)));
        assert_eq!(nearest(&[], (640, 480)), None);
    }

    #[test]
    fn a_missing_device_is_unplugged_not_a_panic() {
        let e = V4l2Camera::open(
            Path::new("/dev/video-none-here"),
            (640, 480),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(e, CameraError::Unplugged(_)), "{e}");
    }

    #[test]
    fn a_file_that_is_not_a_camera_is_refused_with_why() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let e = V4l2Camera::open(f.path(), (640, 480), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, CameraError::Unavailable(_)), "{e}");
        assert!(e.to_string().contains("query capabilities"), "{e}");
    }
}
