//! Draws the kiosk window without a display: Slint's software renderer into
//! a pixel buffer, written as PNG. Used by the screen tests and by
//! `kiosk screens` to refresh the pictures in docs/.

use std::cell::RefCell;
use std::rc::Rc;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, PlatformError, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel};

use crate::{KioskWindow, View};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("slint: {0}")]
    Platform(#[from] PlatformError),
    #[error("png: {0}")]
    Png(#[from] png::EncodingError),
    #[error("another Slint platform is already set on this thread")]
    PlatformTaken,
}

struct Headless {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    /// Time stands still: what depends on it (the attract screen's
    /// scrolling ticker) draws the same every run, so a render can be
    /// compared with its committed picture.
    fn duration_since_start(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

thread_local! {
    static WINDOW: RefCell<Option<Rc<MinimalSoftwareWindow>>> = const { RefCell::new(None) };
}

/// Installs the headless platform for this thread (once).
fn window() -> Result<Rc<MinimalSoftwareWindow>, RenderError> {
    WINDOW.with(|w| {
        if let Some(w) = w.borrow().as_ref() {
            return Ok(w.clone());
        }
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(Headless {
            window: window.clone(),
        }))
        .map_err(|_| RenderError::PlatformTaken)?;
        *w.borrow_mut() = Some(window.clone());
        Ok(window)
    })
}

/// A window on the headless platform; show a view, then [`Screen::png`].
pub struct Screen {
    pub window: KioskWindow,
    soft: Rc<MinimalSoftwareWindow>,
    width: u32,
    height: u32,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Screen({}x{})", self.width, self.height)
    }
}

impl Screen {
    pub fn new(width: u32, height: u32) -> Result<Self, RenderError> {
        let soft = window()?;
        let window = KioskWindow::new()?;
        soft.set_size(PhysicalSize::new(width, height));
        window.show()?;
        Ok(Self {
            window,
            soft,
            width,
            height,
        })
    }

    pub fn show(&self, view: &View) {
        view.apply(&self.window);
    }

    /// Renders the current state into RGB pixels.
    pub fn pixels(&self) -> Vec<Rgb8Pixel> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut buf = vec![Rgb8Pixel { r: 0, g: 0, b: 0 }; w * h];
        self.soft.request_redraw();
        // Layout and bindings settle over a couple of passes.
        for _ in 0..3 {
            slint::platform::update_timers_and_animations();
            self.soft.draw_if_needed(|r| {
                r.render(&mut buf, w);
            });
            self.soft.request_redraw();
        }
        buf
    }

    /// Renders the current state as a PNG file's bytes.
    pub fn png(&self) -> Result<Vec<u8>, RenderError> {
        let px = self.pixels();
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut wr = enc.write_header()?;
            let bytes: Vec<u8> = px.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
            wr.write_image_data(&bytes)?;
        }
        Ok(out)
    }
}
