//! Receipt printers speaking ESC/POS: guide sheets with GB18030 Chinese
//! text, CODE128 barcodes, QR codes, raster photos and a cut; real-time
//! status (DLE EOT) checked before and after each part. Over TCP 9100, a
//! serial port or a USB printer device, all of which are byte streams.

mod doc;
mod printer;
pub mod status;
mod transport;

pub use doc::{Align, Block, COLUMNS, Receipt, columns_of, encode, wrap};
pub use printer::{PrintError, ReceiptPrinter};
pub use status::PrinterStatus;
pub use transport::{Port, open, open_at};

/// Printable dots per line of an 80 mm printer at 203 dpi.
pub const DOTS_PER_LINE: usize = 576;
