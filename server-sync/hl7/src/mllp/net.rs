//! Thin tokio edges around the frame decoder: a framed TCP stream, a
//! client that sends one message and waits for its ACK, and a listener
//! that hands each message to a handler and writes the ACK it decides.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::frame::{self, Decoded, FrameDecoder};
use crate::ack::{Ack, AckCode, Delivery, ErrorCode};
use crate::charset::Charset;
use crate::error::{EncodeError, MessageError};
use crate::message::{Message, decode};

/// Why a send did not end with an ACK in hand.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("no ACK within {0:?}")]
    AckTimeout(Duration),
    #[error("the peer closed the connection before acknowledging")]
    Closed,
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("the peer's answer is not an ACK we can read: {0}")]
    BadAck(MessageError),
}

impl NetError {
    /// Every transport failure is worth another try later; a message we
    /// cannot even write is not.
    pub fn delivery(&self) -> Delivery {
        match self {
            NetError::Encode(_) => Delivery::Failed,
            _ => Delivery::RetryLater,
        }
    }
}

/// A TCP stream that reads and writes MLLP frames.
#[derive(Debug)]
pub struct MllpStream {
    io: TcpStream,
    decoder: FrameDecoder,
    ready: VecDeque<Vec<u8>>,
    /// Bytes thrown away (garbage, oversized or interrupted frames).
    pub dropped_bytes: u64,
}

impl MllpStream {
    pub fn new(io: TcpStream, max_frame: usize) -> MllpStream {
        MllpStream {
            io,
            decoder: FrameDecoder::new(max_frame),
            ready: VecDeque::new(),
            dropped_bytes: 0,
        }
    }

    pub fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// The next frame's payload; `None` when the peer closed.
    pub async fn read_frame(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = [0u8; 8192];
        loop {
            if let Some(f) = self.ready.pop_front() {
                return Ok(Some(f));
            }
            let n = self.io.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            for d in self.decoder.feed(&buf[..n]) {
                match d {
                    Decoded::Frame(f) => self.ready.push_back(f),
                    Decoded::Dropped { why, bytes } => {
                        tracing::debug!(?why, bytes, "MLLP bytes dropped");
                        self.dropped_bytes += bytes as u64;
                    }
                }
            }
        }
    }

    pub async fn write_frame(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.io.write_all(&frame::encode(payload)).await?;
        self.io.flush().await
    }

    /// Writes raw bytes (the simulator's malformed frames).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.io.write_all(bytes).await?;
        self.io.flush().await
    }

    pub async fn shutdown(&mut self) -> std::io::Result<()> {
        self.io.shutdown().await
    }
}

/// Where and how a client sends.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `host:port` of the peer's MLLP listener.
    pub addr: String,
    pub connect_timeout: Duration,
    /// How long to wait for the ACK of one message.
    pub ack_timeout: Duration,
    /// How the peer's ACKs are read (MSH-18 may override it).
    pub peer_charset: Charset,
    pub max_frame: usize,
}

impl ClientConfig {
    pub fn new(addr: impl Into<String>) -> ClientConfig {
        ClientConfig {
            addr: addr.into(),
            connect_timeout: Duration::from_secs(5),
            ack_timeout: Duration::from_secs(30),
            peer_charset: Charset::Utf8,
            max_frame: frame::DEFAULT_MAX_FRAME,
        }
    }
}

/// Sends messages one at a time over one kept-open connection, each
/// waiting for its ACK. After any failure the connection is dropped and
/// the next send connects again, so a late ACK of a message given up on
/// can never be read as the ACK of the next one (and ACKs whose MSA-2 is
/// not the control id sent are skipped anyway).
#[derive(Debug)]
pub struct MllpClient {
    cfg: ClientConfig,
    conn: Option<MllpStream>,
}

impl MllpClient {
    pub fn new(cfg: ClientConfig) -> MllpClient {
        MllpClient { cfg, conn: None }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Encodes `msg` in `charset`, sends it and returns the peer's ACK,
    /// whatever its code: `ack.code.outcome()` says what to do next.
    pub async fn send(&mut self, msg: &Message, charset: Charset) -> Result<Ack, NetError> {
        let bytes = msg.encode_bytes(charset)?;
        self.send_bytes(&bytes, msg.control_id()).await
    }

    /// Sends bytes already encoded (the outbound queue stores them as
    /// sent, so a retry is byte for byte the same message).
    pub async fn send_bytes(&mut self, payload: &[u8], control_id: &str) -> Result<Ack, NetError> {
        let result = self.exchange(payload, control_id).await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    async fn exchange(&mut self, payload: &[u8], control_id: &str) -> Result<Ack, NetError> {
        if self.conn.is_none() {
            let addr = self.cfg.addr.clone();
            let tcp = tokio::time::timeout(self.cfg.connect_timeout, TcpStream::connect(&addr))
                .await
                .map_err(|_| NetError::ConnectTimeout(addr.clone()))?
                .map_err(|source| NetError::Connect { addr, source })?;
            tcp.set_nodelay(true)?;
            self.conn = Some(MllpStream::new(tcp, self.cfg.max_frame));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(NetError::Closed);
        };
        conn.write_frame(payload).await?;
        let wait = self.cfg.ack_timeout;
        let peer_charset = self.cfg.peer_charset;
        let read = async {
            loop {
                let Some(f) = conn.read_frame().await? else {
                    return Err(NetError::Closed);
                };
                let ack = decode(&f, peer_charset)
                    .map_err(|e| NetError::BadAck(e.into()))
                    .and_then(|(m, cs)| Ack::from_message(&m, cs).map_err(NetError::BadAck))?;
                if ack.acked_control_id == control_id {
                    return Ok(ack);
                }
                tracing::warn!(
                    expected = control_id,
                    got = %ack.acked_control_id,
                    "ACK for another message skipped"
                );
            }
        };
        tokio::time::timeout(wait, read)
            .await
            .map_err(|_| NetError::AckTimeout(wait))?
    }
}

/// How a listener reads its peers.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// The peer's configured charset (MSH-18 may override it per message;
    /// the ACK goes back in the charset the message came in).
    pub peer_charset: Charset,
    pub max_frame: usize,
    /// Close a connection idle this long (peers reconnect).
    pub idle_timeout: Duration,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            peer_charset: Charset::Utf8,
            max_frame: frame::DEFAULT_MAX_FRAME,
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// A message received, for the handler.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub message: Message,
    /// The charset it was read in.
    pub charset: Charset,
    pub peer: SocketAddr,
}

/// The handler's decision, written back as the ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: AckCode,
    pub text: String,
    pub error: Option<(ErrorCode, String)>,
}

impl Reply {
    /// AA: taken (stored durably, or a duplicate already taken).
    pub fn accept() -> Reply {
        Reply {
            code: AckCode::Accept,
            text: String::new(),
            error: None,
        }
    }
    /// AE: the content cannot be processed (the sender should not resend
    /// it unchanged).
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply {
            code: AckCode::Error,
            text: String::new(),
            error: Some((code, message.into())),
        }
    }
    /// AR: not now (e.g. our store is unavailable); the sender retries.
    pub fn reject(code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply {
            code: AckCode::Reject,
            text: String::new(),
            error: Some((code, message.into())),
        }
    }
}

static ACK_SEQ: AtomicU64 = AtomicU64::new(0);

/// A control id for our ACKs: time and a process-wide sequence, ≤ 20
/// characters (MSH-10's length in v2.5).
pub fn ack_control_id(now: chrono::NaiveDateTime) -> String {
    let n = ACK_SEQ.fetch_add(1, Ordering::Relaxed) % 100_000;
    format!("A{}{n:05}", now.format("%y%m%d%H%M%S"))
}

/// Accepts connections forever, each served on its own task: every frame
/// is decoded and handed to `handler`; its [`Reply`] goes back as the ACK
/// (in the charset the message came in). A frame that is not a message we
/// can read is answered AE without calling the handler. Stop it by
/// aborting the task it runs on.
pub async fn serve<H, F>(
    listener: TcpListener,
    cfg: ListenerConfig,
    handler: H,
) -> std::io::Result<()>
where
    H: Fn(Inbound) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    loop {
        let (tcp, peer) = listener.accept().await?;
        let cfg = cfg.clone();
        let handler = handler.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(tcp, peer, cfg, handler).await {
                tracing::debug!(%peer, error = %e, "MLLP connection ended");
            }
        });
    }
}

async fn connection<H, F>(
    tcp: TcpStream,
    peer: SocketAddr,
    cfg: ListenerConfig,
    handler: H,
) -> std::io::Result<()>
where
    H: Fn(Inbound) -> F,
    F: Future<Output = Reply>,
{
    let _ = tcp.set_nodelay(true);
    let mut s = MllpStream::new(tcp, cfg.max_frame);
    loop {
        let frame = match tokio::time::timeout(cfg.idle_timeout, s.read_frame()).await {
            Err(_) | Ok(Ok(None)) => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Some(f))) => f,
        };
        let now = chrono::Local::now().naive_local();
        let ack = match decode(&frame, cfg.peer_charset) {
            Ok((message, charset)) => {
                let inbound = Inbound {
                    message,
                    charset,
                    peer,
                };
                let msg = inbound.message.clone();
                let reply = handler(inbound).await;
                let mut ack = Ack::reply_to(
                    &msg,
                    charset,
                    ack_control_id(now),
                    now,
                    reply.code,
                    reply.text,
                );
                if let Some((code, text)) = reply.error {
                    ack = ack.with_error(code, text);
                }
                ack
            }
            Err(e) => {
                // Nothing personal in the log: the kind of error and size.
                tracing::warn!(%peer, error = %e, bytes = frame.len(), "unreadable HL7 message");
                Ack::for_unreadable(&frame, cfg.peer_charset, &e, ack_control_id(now), now)
            }
        };
        let bytes = match ack.encode() {
            Ok(b) => b,
            // Our own text should always fit; if the peer's facility
            // name did not, answer in UTF-8 rather than not at all.
            Err(_) => ack.to_message().encode().into_bytes(),
        };
        s.write_frame(&bytes).await?;
    }
}
