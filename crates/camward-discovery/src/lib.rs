//! Finding cameras on the wire.
//!
//! This crate starts with the WS-Discovery messages ([`wsd`]): the Probe Camward multicasts, and
//! the ProbeMatches, Hello and Bye datagrams cameras send, read defensively (a datagram is
//! whatever anyone on the segment chose to send). The sockets, mDNS, the link-local sweep and the
//! vendor set-up protocols (i-PRO Easy IP Setup, Hikvision SADP) arrive with the rest of issue 3.
pub mod easyip;
pub mod linklocal;
pub mod mdns;
pub mod outside;
pub mod sadp;
pub mod scan;
pub mod scopes;
pub mod sighting;
pub mod wsd;

pub use scopes::ScopeInfo;
pub use sighting::{Method, ScanStats, Sighting, Sightings};
pub use wsd::{DatagramError, Endpoint, Probe, WsdMessage};
