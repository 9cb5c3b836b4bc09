//! camsim: a simulated fleet of IP cameras that behaves like real firmware.
//!
//! Each camera has its own listener(s), real state for every ONVIF operation Camward uses, and
//! authenticates exactly like firmware does (HTTP Digest MD5 / SHA-256, WS-Security UsernameToken,
//! ONVIF access classes, a skewable clock, nonce replay refusal, lock-out). Faults can be injected
//! per request. Usable as a binary (`camsim --cameras N ...`) or in-process as a library.
pub mod access;
pub mod fault;
pub mod media2;
pub mod security;
pub mod tls;
