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
    opened: std::time::Instant,
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

/// Opens the device at `path`, which must stream video of the `kind`
/// (capture or output) `what` names.
fn open_streaming(
    path: &Path,
    kind: CapFlags,
    what: &str,
) -> Result<(Device, v4l::Capabilities), CameraError> {
    let dev = Device::with_path(path).map_err(|e| io_error(path, "open", &e))?;
    let caps = dev
        .query_caps()
        .map_err(|e| io_error(path, "query capabilities", &e))?;
    if !caps.capabilities.contains(kind) || !caps.capabilities.contains(CapFlags::STREAMING) {
        return Err(CameraError::Unavailable(format!(
            "{} ({}) is not a streaming video {what} device",
            path.display(),
            caps.card
        )));
    }
    Ok((dev, caps))
}

impl V4l2Camera {
    /// Opens the camera at `path` (`/dev/video0`, or a stable
    /// `/dev/v4l/by-id/…` link) for pictures near `want` in size.
    pub fn open(path: &Path, want: (u32, u32), timeout: Duration) -> Result<Self, CameraError> {
        let (dev, caps) = open_streaming(path, CapFlags::VIDEO_CAPTURE, "capture")?;
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
                // max() before min(): a driver's range may be upside down.
                FrameSizeEnum::Stepwise(s) => vec![(
                    want.0.max(s.min_width).min(s.max_width.max(s.min_width)),
                    want.1.max(s.min_height).min(s.max_height.max(s.min_height)),
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
            opened: std::time::Instant::now(),
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

impl V4l2Camera {
    /// The next good frame's bytes and timestamp, given to `then`.
    fn next_raw<R>(
        &mut self,
        then: impl FnOnce(&[u8], Duration) -> Result<R, CameraError>,
    ) -> Result<R, CameraError> {
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
            let at = Duration::from_secs(meta.timestamp.sec.max(0) as u64)
                + Duration::from_micros(meta.timestamp.usec.max(0) as u64);
            // A driver that stamps nothing: the time since opening, so the
            // liveness challenge's limits still hold.
            let at = if at.is_zero() {
                self.opened.elapsed()
            } else {
                at
            };
            return then(&buf[..used], at);
        }
        Err(CameraError::Unavailable(format!(
            "{}: eight frames in a row marked corrupt by the driver",
            self.path.display()
        )))
    }
}

impl FrameSource for V4l2Camera {
    fn next_picture(&mut self) -> Result<Picture, CameraError> {
        let n = self.negotiated;
        let path = self.path.display().to_string();
        self.next_raw(|bytes, at| {
            let bgr = convert::to_bgr(n.format, bytes, n.width, n.height, n.stride as usize)
                .map_err(|e| CameraError::Image {
                    path,
                    reason: e.to_string(),
                })?;
            Ok(Picture {
                width: n.width,
                height: n.height,
                bgr,
                at,
            })
        })
    }

    /// A frame taken off the driver's queue and not converted.
    fn skip_picture(&mut self) -> Result<Duration, CameraError> {
        self.next_raw(|_, at| Ok(at))
    }
}

/// Pictures into a video output device, as YUYV at the device's size: a
/// virtual camera's input (vivid's output, looped to its capture).
///
/// Memory-mapped buffers, not write(): the kernel's write emulation in
/// Debian 12's 6.1 queues an output buffer with a payload of 0, which
/// vivid refuses (`vid_out_buf_prepare: the payload is too small`, seen in
/// the boot test); and not the v4l crate's output stream, which polls for
/// a finished buffer before queueing the first one (vb2 answers that poll
/// only once a buffer is done, so it waits forever). The ioctls are the
/// five of the V4L2 streaming API, each on a struct it owns.
pub struct V4l2Feed {
    dev: Device,
    path: PathBuf,
    bufs: Vec<out::Mapped>,
    /// Buffers never queued yet (taken before any is dequeued).
    fresh: usize,
    streaming: bool,
    width: u32,
    height: u32,
    stride: u32,
}

impl V4l2Feed {
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        let (dev, _) = open_streaming(path, CapFlags::VIDEO_OUTPUT, "output")?;
        let cur = Output::format(&dev).map_err(|e| io_error(path, "get format", &e))?;
        let got = Output::set_format(
            &dev,
            &Format::new(cur.width, cur.height, FourCC::new(b"YUYV")),
        )
        .map_err(|e| io_error(path, "set format", &e))?;
        if &got.fourcc.repr != b"YUYV" {
            return Err(CameraError::Unavailable(format!(
                "{}: the output does not take YUYV",
                path.display()
            )));
        }
        let mut bufs = out::map_buffers(&dev, 4).map_err(|e| io_error(path, "map buffers", &e))?;
        let stride = got.stride.max(got.width * 2);
        // Checked here, not per frame: a buffer taken from the device in
        // `show` is always given back to it.
        let used = stride as usize * got.height as usize;
        if let Some(small) = bufs.iter_mut().map(|b| b.bytes().len()).find(|&n| n < used) {
            return Err(CameraError::Unavailable(format!(
                "{}: a buffer of {small} bytes for a frame of {used}",
                path.display()
            )));
        }
        Ok(Self {
            dev,
            path: path.to_path_buf(),
            bufs,
            fresh: 0,
            streaming: false,
            width: got.width,
            height: got.height,
            stride,
        })
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Shows `p` (scaled and letterboxed to the device's size) for one
    /// frame of the device's rate: once every buffer is queued, this waits
    /// for the device to finish one.
    pub fn show(&mut self, p: &Picture) -> Result<(), CameraError> {
        let yuyv = convert::bgr_to_yuyv(&p.bgr, p.width, p.height, self.width, self.height)
            .map_err(|e| CameraError::Image {
                path: self.path.display().to_string(),
                reason: e.to_string(),
            })?;
        let index = if self.fresh < self.bufs.len() {
            self.fresh += 1;
            self.fresh - 1
        } else {
            // A buffer the device has shown, within two frames' worth of
            // patience (a stalled output is an error, not a hang).
            if self
                .dev
                .handle()
                .poll(libc::POLLOUT, 2000)
                .map_err(|e| io_error(&self.path, "wait for a buffer", &e))?
                == 0
            {
                return Err(CameraError::Stalled(Duration::from_secs(2)));
            }
            out::dequeue(&self.dev).map_err(|e| io_error(&self.path, "dequeue", &e))?
        };
        let line = self.width as usize * 2;
        let buf = self.bufs[index].bytes();
        // Every buffer holds a frame (checked in `open`).
        let used = self.stride as usize * self.height as usize;
        for (dst, src) in buf.chunks_mut(self.stride as usize).zip(yuyv.chunks(line)) {
            dst[..line].copy_from_slice(src);
        }
        out::queue(&self.dev, index, used).map_err(|e| io_error(&self.path, "queue", &e))?;
        if !self.streaming {
            out::stream(&self.dev, true)
                .map_err(|e| io_error(&self.path, "start streaming", &e))?;
            self.streaming = true;
        }
        Ok(())
    }
}

impl Drop for V4l2Feed {
    fn drop(&mut self) {
        if self.streaming {
            let _ = out::stream(&self.dev, false);
        }
        // The mappings go with `bufs`, before the device is closed.
        self.bufs.clear();
    }
}

/// The output side's V4L2 calls (the capture side's are the v4l crate's).
#[allow(unsafe_code)] // ioctl(2) and mmap(2) on structs this module owns
mod out {
    use std::io;

    use v4l::Device;
    use v4l::v4l_sys::{
        v4l2_buf_type_V4L2_BUF_TYPE_VIDEO_OUTPUT as OUTPUT, v4l2_buffer,
        v4l2_field_V4L2_FIELD_NONE as FIELD_NONE, v4l2_memory_V4L2_MEMORY_MMAP as MMAP,
        v4l2_requestbuffers,
    };
    use v4l::v4l2::{self, vidioc};

    /// One buffer of the device mapped into this process.
    pub struct Mapped {
        ptr: *mut u8,
        len: usize,
    }

    // SAFETY: the mapping is owned by this value alone (no aliases are
    // handed out beyond `bytes`' borrow of it), so moving it to another
    // thread is as safe as moving a Vec.
    unsafe impl Send for Mapped {}

    impl Mapped {
        pub fn bytes(&mut self) -> &mut [u8] {
            // SAFETY: `ptr` is a live MAP_SHARED mapping of `len` bytes made
            // by `map_buffers`, unmapped only in Drop; the &mut self borrow
            // makes this the only slice of it.
            unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
        }
    }

    impl Drop for Mapped {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `map_buffers`, unmapped once.
            let _ = unsafe { v4l2::munmap(self.ptr.cast(), self.len) };
        }
    }

    fn ioctl<T>(dev: &Device, request: vidioc::_IOC_TYPE, arg: &mut T) -> io::Result<()> {
        // SAFETY: `arg` is the struct `request` is defined on, exclusively
        // borrowed for the call; the kernel writes only within it.
        unsafe { v4l2::ioctl(dev.handle().fd(), request, (arg as *mut T).cast()) }
    }

    fn buffer(index: u32) -> v4l2_buffer {
        // SAFETY: a C struct of integers, a union of integers and pointers
        // and a timeval: all zeroes is a valid value of each.
        let mut b: v4l2_buffer = unsafe { std::mem::zeroed() };
        b.type_ = OUTPUT;
        b.memory = MMAP;
        b.index = index;
        b
    }

    pub fn map_buffers(dev: &Device, count: u32) -> io::Result<Vec<Mapped>> {
        // SAFETY: as in `buffer`.
        let mut req: v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.count = count;
        req.type_ = OUTPUT;
        req.memory = MMAP;
        ioctl(dev, vidioc::VIDIOC_REQBUFS, &mut req)?;
        let mut out = Vec::new();
        for index in 0..req.count {
            let mut b = buffer(index);
            ioctl(dev, vidioc::VIDIOC_QUERYBUF, &mut b)?;
            // SAFETY: the offset and length the driver gave for this
            // buffer; the result is checked by the wrapper.
            let ptr = unsafe {
                v4l2::mmap(
                    std::ptr::null_mut(),
                    b.length as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    dev.handle().fd(),
                    // SAFETY: `offset` is the member MMAP buffers fill.
                    b.m.offset as libc::off_t,
                )?
            };
            out.push(Mapped {
                ptr: ptr.cast(),
                len: b.length as usize,
            });
        }
        Ok(out)
    }

    pub fn queue(dev: &Device, index: usize, used: usize) -> io::Result<()> {
        let mut b = buffer(index as u32);
        b.bytesused = used as u32;
        b.field = FIELD_NONE;
        ioctl(dev, vidioc::VIDIOC_QBUF, &mut b)
    }

    pub fn dequeue(dev: &Device) -> io::Result<usize> {
        let mut b = buffer(0);
        ioctl(dev, vidioc::VIDIOC_DQBUF, &mut b)?;
        Ok(b.index as usize)
    }

    pub fn stream(dev: &Device, on: bool) -> io::Result<()> {
        let mut t = OUTPUT;
        let request = if on {
            vidioc::VIDIOC_STREAMON
        } else {
            vidioc::VIDIOC_STREAMOFF
        };
        ioctl(dev, request, &mut t)
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
