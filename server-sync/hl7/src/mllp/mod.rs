//! MLLP: the pure frame decoder ([`frame`]) and the tokio edges built on
//! it ([`MllpStream`], [`MllpClient`], [`serve`]).

pub mod frame;
mod net;

pub use net::{
    ClientConfig, Inbound, ack_control_id, ListenerConfig, MllpClient, MllpStream, NetError, Reply, serve,
};
