//! MLLP: the pure frame decoder ([`frame`]) and the tokio edges built on
//! it ([`MllpStream`], [`MllpClient`], [`serve`]).

pub mod frame;
mod net;

pub use net::{
    ClientConfig, Inbound, ListenerConfig, MllpClient, MllpStream, NetError, Reply, ack_control_id,
    serve,
};
