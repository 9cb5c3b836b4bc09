//! i-PRO (Panasonic) Easy IP Setup: finding i-PRO cameras by UDP broadcast.
//!
//! i-PRO's "IP Setting Software" finds cameras with a search broadcast to UDP port 10670; the
//! cameras answer by broadcast to port 10669, because a camera fresh from the box may sit on
//! another subnet than the laptop (its factory address is 192.168.0.10, or a link-local one) and
//! could not be reached by unicast. The camera answers only for a while after it starts: its
//! "Easy IP Setup valid period" (20 minutes by default, or unlimited) — the hardening control
//! `easy-ip-setup-limited` keeps that limit.
//!
//! The real datagrams are proprietary and undocumented. Camward (and camsim) speak the binary
//! format below, modelled on them: same ports, same broadcast exchange, same facts carried.
//!
//! ```text
//! offset size  field
//!      0    4  magic        "EIPS"
//!      4    1  version      1
//!      5    1  opcode       1 = search (client → cameras), 2 = answer (camera → clients)
//!      6    4  transaction  u32, big-endian: random per scan; an answer echoes its search's
//!     10    …  TLVs         type u16 BE, length u16 BE, then `length` bytes of value;
//!                           the last TLV is END (type 0, length 0), and nothing follows it
//! ```
//!
//! A search carries only END. An answer carries, in any order (unknown types are skipped, a
//! repeated type keeps its first value):
//!
//! | type | name | value |
//! |---|---|---|
//! | 0 | END | empty; ends the datagram |
//! | 1 | MAC | 6 bytes |
//! | 2 | IPv4 | 4 bytes |
//! | 3 | netmask | 4 bytes |
//! | 4 | gateway | 4 bytes |
//! | 5 | HTTP port | u16 BE |
//! | 6 | model | UTF-8 |
//! | 7 | serial | UTF-8 |
//! | 8 | firmware | UTF-8 |
//! | 9 | camera name | UTF-8 |
//! | 10 | DHCP | u8, 0 or 1 |
//! | 11 | administrator registered | u8, 0 or 1: 0 while the camera awaits its first-access administrator |
//! | 12 | valid period | u32 BE: the "Easy IP Setup valid period" in seconds after (re)boot, 0 = unlimited |
//!
//! The END marker makes a datagram cut short detectable at any byte, TLV boundaries included.
//! The valid period (type 12) is optional: an answer without it says nothing about the period, and
//! the hardening audit then leaves easy-ip-setup-limited to a person.
//!
//! A hardening audit asks one camera only, by unicast ([`query`]): the search goes to the camera's
//! own address on 10670, and the answer is taken by unicast back to the asking socket (how camsim
//! answers a search addressed to it) or by broadcast to 10669 (how a camera that always broadcasts
//! answers), whichever comes, from that camera alone. Nothing is broadcast.
//!
//! Glossary: *search* the client's broadcast; *answer* a camera's reply; *valid period* how long
//! after (re)boot a camera answers; *administrator registered* whether i-PRO's first-access page
//! has created the administrator (until then the camera has no credentials at all).
//!
//! Datagrams are hostile input: [`Answer::parse`] caps the size (one Ethernet payload) and the TLV
//! count, checks every length against the bytes left, and drops anything else with a typed reason
//! ([`EasyIpError`]).
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use serde::Serialize;

use crate::scopes::normalise_mac;
use crate::sighting::{Method, ScanStats, Sighting, Sightings};

/// Cameras listen for searches on this port.
pub const SEARCH_PORT: u16 = 10670;
/// Clients listen for answers on this port.
pub const ANSWER_PORT: u16 = 10669;
/// The first four bytes of every datagram.
pub const MAGIC: [u8; 4] = *b"EIPS";
/// The format version.
pub const VERSION: u8 = 1;
/// The opcode of a search.
pub const OP_SEARCH: u8 = 1;
/// The opcode of an answer.
pub const OP_ANSWER: u8 = 2;
/// Magic, version, opcode and transaction.
pub const HEADER_LEN: usize = 10;
/// The largest datagram read: one Ethernet payload.
pub const MAX_DATAGRAM: usize = 1500;
/// At most this many TLVs (END included) in one datagram.
pub const MAX_TLVS: usize = 64;
/// The vendor name put in sightings.
pub const VENDOR: &str = "i-PRO";

/// TLV types.
pub mod tlv {
    /// Ends the datagram; empty.
    pub const END: u16 = 0;
    /// MAC address, 6 bytes.
    pub const MAC: u16 = 1;
    /// IPv4 address, 4 bytes.
    pub const IPV4: u16 = 2;
    /// Netmask, 4 bytes.
    pub const NETMASK: u16 = 3;
    /// Default gateway, 4 bytes.
    pub const GATEWAY: u16 = 4;
    /// HTTP port, u16 big-endian.
    pub const HTTP_PORT: u16 = 5;
    /// Model, UTF-8.
    pub const MODEL: u16 = 6;
    /// Serial number, UTF-8.
    pub const SERIAL: u16 = 7;
    /// Firmware version, UTF-8.
    pub const FIRMWARE: u16 = 8;
    /// Camera name, UTF-8.
    pub const NAME: u16 = 9;
    /// DHCP on (1) or off (0).
    pub const DHCP: u16 = 10;
    /// Administrator registered (1) or not yet (0).
    pub const ADMIN_REGISTERED: u16 = 11;
    /// Easy IP Setup valid period, u32 big-endian seconds; 0 = unlimited.
    pub const VALID_PERIOD: u16 = 12;
}

/// The "Easy IP Setup valid period" a camera states: how long after (re)boot it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValidPeriod {
    /// It answers for this many seconds after (re)boot, then falls silent.
    Limited {
        /// Seconds after (re)boot.
        seconds: u32,
    },
    /// It answers for as long as it runs.
    Unlimited,
}

impl ValidPeriod {
    /// The TLV value: seconds, 0 for unlimited.
    fn wire(self) -> u32 {
        match self {
            ValidPeriod::Limited { seconds } => seconds,
            ValidPeriod::Unlimited => 0,
        }
    }

    fn from_wire(seconds: u32) -> ValidPeriod {
        match seconds {
            0 => ValidPeriod::Unlimited,
            seconds => ValidPeriod::Limited { seconds },
        }
    }
}

fn header(opcode: u8, transaction: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(opcode);
    out.extend_from_slice(&transaction.to_be_bytes());
    out
}

fn put(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    // Values longer than a TLV can say are cut; no field Camward writes comes near it.
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// The search datagram of transaction `transaction`.
pub fn search_datagram(transaction: u32) -> Vec<u8> {
    let mut out = header(OP_SEARCH, transaction);
    put(&mut out, tlv::END, &[]);
    out
}

/// What a camera says about itself in an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The search answered.
    pub transaction: u32,
    /// MAC address, lower-case with colons.
    pub mac: String,
    /// IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// Netmask.
    pub netmask: Option<Ipv4Addr>,
    /// Default gateway.
    pub gateway: Option<Ipv4Addr>,
    /// HTTP port.
    pub http_port: Option<u16>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Camera name.
    pub name: Option<String>,
    /// DHCP on or off.
    pub dhcp: Option<bool>,
    /// Whether the first-access administrator exists; `false` for a camera fresh from the box.
    pub admin_registered: Option<bool>,
    /// The valid period, when the camera states it.
    pub valid_period: Option<ValidPeriod>,
}

/// Why an Easy IP Setup datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EasyIpError {
    /// Larger than [`MAX_DATAGRAM`].
    #[error("datagram of {0} bytes is larger than one Ethernet payload")]
    TooLarge(usize),
    /// Shorter than the header.
    #[error("datagram of {0} bytes is shorter than the header")]
    TooShort(usize),
    /// Not `EIPS`.
    #[error("not an Easy IP Setup datagram")]
    BadMagic,
    /// A version other than [`VERSION`].
    #[error("version {0} is not one Camward reads")]
    BadVersion(u8),
    /// A search: another client's (or ours, looping back).
    #[error("a search, not an answer")]
    Search,
    /// An opcode that is neither search nor answer.
    #[error("opcode {0} is unknown")]
    BadOpcode(u8),
    /// An answer to another client's search.
    #[error("answers transaction {0:#010x}, not ours")]
    OtherTransaction(u32),
    /// A TLV (header or value) runs past the end of the datagram.
    #[error("TLV at offset {0} runs past the end of the datagram")]
    TlvPastEnd(usize),
    /// The TLVs end without END: the datagram was cut short.
    #[error("no END TLV: the datagram was cut short")]
    NoEnd,
    /// Bytes after the END TLV.
    #[error("{0} bytes after the END TLV")]
    TrailingBytes(usize),
    /// More than [`MAX_TLVS`] TLVs.
    #[error("more than {MAX_TLVS} TLVs")]
    TooManyTlvs,
    /// A known TLV whose length is wrong for its type.
    #[error("TLV type {kind} has length {len}")]
    BadLength {
        /// The TLV type.
        kind: u16,
        /// Its length.
        len: usize,
    },
    /// A flag TLV that is neither 0 nor 1.
    #[error("TLV type {kind} holds {value}, not 0 or 1")]
    BadFlag {
        /// The TLV type.
        kind: u16,
        /// Its value.
        value: u8,
    },
    /// A text TLV that is not UTF-8.
    #[error("TLV type {0} is not UTF-8")]
    NotUtf8(u16),
    /// A required TLV is missing.
    #[error("{0} is missing")]
    Missing(&'static str),
}

impl EasyIpError {
    /// Stable code for logs and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            EasyIpError::TooLarge(_) => "easyip_too_large",
            EasyIpError::TooShort(_) => "easyip_too_short",
            EasyIpError::BadMagic => "easyip_bad_magic",
            EasyIpError::BadVersion(_) => "easyip_bad_version",
            EasyIpError::Search => "easyip_search",
            EasyIpError::BadOpcode(_) => "easyip_bad_opcode",
            EasyIpError::OtherTransaction(_) => "easyip_other_transaction",
            EasyIpError::TlvPastEnd(_) => "easyip_tlv_past_end",
            EasyIpError::NoEnd => "easyip_no_end",
            EasyIpError::TrailingBytes(_) => "easyip_trailing_bytes",
            EasyIpError::TooManyTlvs => "easyip_too_many_tlvs",
            EasyIpError::BadLength { .. } => "easyip_bad_length",
            EasyIpError::BadFlag { .. } => "easyip_bad_flag",
            EasyIpError::NotUtf8(_) => "easyip_not_utf8",
            EasyIpError::Missing(_) => "easyip_incomplete",
        }
    }
}

fn fixed<const N: usize>(kind: u16, value: &[u8]) -> Result<[u8; N], EasyIpError> {
    value.try_into().map_err(|_| EasyIpError::BadLength {
        kind,
        len: value.len(),
    })
}

fn text(kind: u16, value: &[u8]) -> Result<String, EasyIpError> {
    std::str::from_utf8(value)
        .map(str::to_owned)
        .map_err(|_| EasyIpError::NotUtf8(kind))
}

fn flag(kind: u16, value: &[u8]) -> Result<bool, EasyIpError> {
    match fixed::<1>(kind, value)? {
        [0] => Ok(false),
        [1] => Ok(true),
        [value] => Err(EasyIpError::BadFlag { kind, value }),
    }
}

/// Keeps the first value a TLV type carried.
fn first<T>(
    slot: &mut Option<T>,
    value: impl FnOnce() -> Result<T, EasyIpError>,
) -> Result<(), EasyIpError> {
    if slot.is_none() {
        *slot = Some(value()?);
    }
    Ok(())
}

impl Answer {
    /// An answer to `transaction` from the camera with this MAC, every other field empty.
    pub fn new(transaction: u32, mac: &str) -> Answer {
        Answer {
            transaction,
            mac: mac.to_owned(),
            ipv4: None,
            netmask: None,
            gateway: None,
            http_port: None,
            model: None,
            serial: None,
            firmware: None,
            name: None,
            dhcp: None,
            admin_registered: None,
            valid_period: None,
        }
    }

    /// Reads one datagram and accepts it only as an answer to `transaction`. Nothing here panics
    /// on any input.
    pub fn parse(datagram: &[u8], transaction: u32) -> Result<Answer, EasyIpError> {
        if datagram.len() > MAX_DATAGRAM {
            return Err(EasyIpError::TooLarge(datagram.len()));
        }
        let Some((head, mut rest)) = datagram.split_at_checked(HEADER_LEN) else {
            return Err(EasyIpError::TooShort(datagram.len()));
        };
        if head[..4] != MAGIC {
            return Err(EasyIpError::BadMagic);
        }
        if head[4] != VERSION {
            return Err(EasyIpError::BadVersion(head[4]));
        }
        match head[5] {
            OP_ANSWER => {}
            OP_SEARCH => return Err(EasyIpError::Search),
            other => return Err(EasyIpError::BadOpcode(other)),
        }
        let theirs = u32::from_be_bytes([head[6], head[7], head[8], head[9]]);
        if theirs != transaction {
            return Err(EasyIpError::OtherTransaction(theirs));
        }
        let mut answer = Answer::new(transaction, "");
        let mut mac = None;
        let mut count = 0;
        loop {
            let at = datagram.len() - rest.len();
            if rest.is_empty() {
                return Err(EasyIpError::NoEnd);
            }
            count += 1;
            if count > MAX_TLVS {
                return Err(EasyIpError::TooManyTlvs);
            }
            let Some((tl, after)) = rest.split_at_checked(4) else {
                return Err(EasyIpError::TlvPastEnd(at));
            };
            let kind = u16::from_be_bytes([tl[0], tl[1]]);
            let len = usize::from(u16::from_be_bytes([tl[2], tl[3]]));
            let Some((value, after)) = after.split_at_checked(len) else {
                return Err(EasyIpError::TlvPastEnd(at));
            };
            rest = after;
            match kind {
                tlv::END => {
                    if len != 0 {
                        return Err(EasyIpError::BadLength { kind, len });
                    }
                    if !rest.is_empty() {
                        return Err(EasyIpError::TrailingBytes(rest.len()));
                    }
                    break;
                }
                tlv::MAC => first(&mut mac, || fixed::<6>(kind, value))?,
                tlv::IPV4 => first(&mut answer.ipv4, || {
                    fixed::<4>(kind, value).map(Ipv4Addr::from)
                })?,
                tlv::NETMASK => first(&mut answer.netmask, || {
                    fixed::<4>(kind, value).map(Ipv4Addr::from)
                })?,
                tlv::GATEWAY => first(&mut answer.gateway, || {
                    fixed::<4>(kind, value).map(Ipv4Addr::from)
                })?,
                tlv::HTTP_PORT => first(&mut answer.http_port, || {
                    fixed::<2>(kind, value).map(u16::from_be_bytes)
                })?,
                tlv::MODEL => first(&mut answer.model, || text(kind, value))?,
                tlv::SERIAL => first(&mut answer.serial, || text(kind, value))?,
                tlv::FIRMWARE => first(&mut answer.firmware, || text(kind, value))?,
                tlv::NAME => first(&mut answer.name, || text(kind, value))?,
                tlv::DHCP => first(&mut answer.dhcp, || flag(kind, value))?,
                tlv::ADMIN_REGISTERED => first(&mut answer.admin_registered, || flag(kind, value))?,
                tlv::VALID_PERIOD => first(&mut answer.valid_period, || {
                    fixed::<4>(kind, value).map(|b| ValidPeriod::from_wire(u32::from_be_bytes(b)))
                })?,
                // A later firmware's field: skipped, as the format intends.
                _ => {}
            }
        }
        let mac = mac.ok_or(EasyIpError::Missing("MAC"))?;
        answer.mac = normalise_mac(&hex::encode(mac)).ok_or(EasyIpError::Missing("MAC"))?;
        Ok(answer)
    }

    /// The datagram carrying this answer (the camera's side; Camward uses it in tests). A field
    /// left `None` is left out; a MAC that is not six hex octets is left out too.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header(OP_ANSWER, self.transaction);
        if let Some(mac) = normalise_mac(&self.mac) {
            let octets: Vec<u8> = mac
                .split(':')
                .filter_map(|h| u8::from_str_radix(h, 16).ok())
                .collect();
            put(&mut out, tlv::MAC, &octets);
        }
        let addresses = [
            (tlv::IPV4, self.ipv4),
            (tlv::NETMASK, self.netmask),
            (tlv::GATEWAY, self.gateway),
        ];
        for (kind, address) in addresses {
            if let Some(a) = address {
                put(&mut out, kind, &a.octets());
            }
        }
        if let Some(port) = self.http_port {
            put(&mut out, tlv::HTTP_PORT, &port.to_be_bytes());
        }
        let texts = [
            (tlv::MODEL, &self.model),
            (tlv::SERIAL, &self.serial),
            (tlv::FIRMWARE, &self.firmware),
            (tlv::NAME, &self.name),
        ];
        for (kind, value) in texts {
            if let Some(v) = value {
                put(&mut out, kind, v.as_bytes());
            }
        }
        for (kind, value) in [
            (tlv::DHCP, self.dhcp),
            (tlv::ADMIN_REGISTERED, self.admin_registered),
        ] {
            if let Some(v) = value {
                put(&mut out, kind, &[u8::from(v)]);
            }
        }
        if let Some(period) = self.valid_period {
            put(&mut out, tlv::VALID_PERIOD, &period.wire().to_be_bytes());
        }
        put(&mut out, tlv::END, &[]);
        out
    }

    /// The sighting: the address the camera states, else the one its datagram came from.
    pub fn to_sighting(&self, from: SocketAddr) -> Sighting {
        let ip = self
            .ipv4
            .filter(|a| !a.is_unspecified())
            .or(match from.ip() {
                IpAddr::V4(v4) => Some(v4),
                IpAddr::V6(v6) => v6.to_ipv4_mapped(),
            });
        let mut sighting = Sighting::new(Method::EasyIp);
        sighting.ip = ip;
        sighting.urls = ip
            .map(|ip| vec![format!("http://{ip}:{}/", self.http_port.unwrap_or(80))])
            .unwrap_or_default();
        sighting.mac = Some(self.mac.clone());
        sighting.vendor = Some(VENDOR.into());
        sighting.model = self.model.clone();
        sighting.name = self.name.clone();
        sighting.serial = self.serial.clone();
        sighting.firmware = self.firmware.clone();
        sighting.factory_fresh = self.admin_registered.map(|registered| !registered);
        sighting
    }
}

fn udp() -> std::io::Result<socket2::Socket> {
    socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
}

/// The socket the search leaves from: bound to the interface's address, so the kernel sends a
/// limited broadcast (255.255.255.255) out of that interface alone, whatever the routes say.
fn search_socket(interface: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = udp()?;
    socket.set_broadcast(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(interface, 0)).into())?;
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// The socket answers arrive on: port 10669 on the wildcard address, because Linux delivers a
/// datagram sent to 255.255.255.255 only to sockets bound to the wildcard (or that broadcast)
/// address, never to one bound to a unicast address. Shared with other clients (IP Setting
/// Software, another scan); answers are told apart by transaction.
fn answer_socket() -> std::io::Result<tokio::net::UdpSocket> {
    let socket = udp()?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, ANSWER_PORT)).into())?;
    let _ = socket.set_recv_buffer_size(1 << 20);
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// A random transaction, from the system's randomness (through a v4 UUID).
fn transaction() -> u32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Broadcasts an Easy IP Setup search out of the interface that holds `interface` (twice, 100 ms
/// apart: UDP loses datagrams) and reports each camera that answers it, once, to `found`,
/// listening for `wait`. Answers to other clients' searches and anything unreadable are dropped
/// and counted.
pub async fn scan(
    interface: Ipv4Addr,
    wait: Duration,
    found: Sightings,
) -> std::io::Result<ScanStats> {
    // Listen before searching, so that no early answer is missed.
    let answers = answer_socket()?;
    let search = search_socket(interface)?;
    let transaction = transaction();
    let message = search_datagram(transaction);
    let to = SocketAddrV4::new(Ipv4Addr::BROADCAST, SEARCH_PORT);
    let mut stats = ScanStats::default();
    search.send_to(&message, to).await?;
    stats.sent += 1;
    let deadline = tokio::time::Instant::now() + wait;
    let mut resend = Some(tokio::time::Instant::now() + Duration::from_millis(100));
    let mut seen = std::collections::HashSet::new();
    // One byte more than accepted, so that an oversized datagram shows as one.
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        let until = resend.map_or(deadline, |r| r.min(deadline));
        match tokio::time::timeout_at(until, answers.recv_from(&mut buf)).await {
            Err(_) if Some(until) == resend => {
                search.send_to(&message, to).await?;
                stats.sent += 1;
                resend = None;
            }
            Err(_) => break,
            Ok(Err(e)) => return Err(e),
            // Our own search, should it ever loop back here: neither an answer nor hostile.
            Ok(Ok((n, _))) if buf[..n] == message[..] => {}
            Ok(Ok((n, from))) => match Answer::parse(&buf[..n], transaction) {
                Ok(answer) => {
                    stats.accepted += 1;
                    if seen.insert(answer.mac.clone())
                        && found.send(answer.to_sighting(from)).is_err()
                    {
                        // Nobody listens any more.
                        break;
                    }
                }
                Err(_) => stats.dropped += 1,
            },
        }
    }
    Ok(stats)
}

/// Asks the camera at `camera` alone whether it answers Easy IP Setup now: a search sent by
/// unicast to `camera:port` (normally [`SEARCH_PORT`]), again after 100 ms (UDP loses datagrams),
/// and the first answer to it from that camera within `wait` — taken by unicast on the asking
/// socket, or by broadcast on [`ANSWER_PORT`] when a socket can be bound there (it is shared with
/// other clients; an answer counts only when it comes from `camera` or names it as its address).
/// `Ok(None)`: no answer in time (the valid period is over, or Easy IP Setup does not run). Sends
/// nothing but unicast to the camera: safe for an audit on any network.
pub async fn query(
    camera: Ipv4Addr,
    port: u16,
    wait: Duration,
) -> std::io::Result<Option<(Answer, SocketAddr)>> {
    let asking = tokio::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await?;
    // Without it only unicast answers are heard; a broadcasting camera then looks silent.
    let broadcast = match answer_socket() {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::debug!(error = %e, "Easy IP Setup: port {ANSWER_PORT} not bound; unicast answers only");
            None
        }
    };
    let transaction = transaction();
    let message = search_datagram(transaction);
    let to = SocketAddrV4::new(camera, port);
    asking.send_to(&message, to).await?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut resend = Some(tokio::time::Instant::now() + Duration::from_millis(100));
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut other = vec![0u8; MAX_DATAGRAM + 1];
    let from_camera = |answer: &Answer, from: SocketAddr| {
        from.ip() == IpAddr::V4(camera) || answer.ipv4 == Some(camera)
    };
    loop {
        let until = resend.map_or(deadline, |r| r.min(deadline));
        let on_broadcast = async {
            match &broadcast {
                Some(s) => s
                    .recv_from(&mut other)
                    .await
                    .map(|(n, from)| (n, from, true)),
                None => std::future::pending().await,
            }
        };
        let received = tokio::select! {
            r = asking.recv_from(&mut buf) => r.map(|(n, from)| (n, from, false)),
            r = on_broadcast => r,
            () = tokio::time::sleep_until(until) => {
                if Some(until) == resend && until < deadline {
                    asking.send_to(&message, to).await?;
                    resend = None;
                    continue;
                }
                return Ok(None);
            }
        };
        let (n, from, broadcasted) = match received {
            Ok(r) => r,
            // ICMP port unreachable for the search: nothing listens on the camera.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
            Err(e) => return Err(e),
        };
        let datagram = if broadcasted { &other[..n] } else { &buf[..n] };
        if let Ok(answer) = Answer::parse(datagram, transaction) {
            if from_camera(&answer, from) {
                return Ok(Some((answer, from)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(transaction: u32) -> Answer {
        Answer {
            ipv4: Some(Ipv4Addr::new(169, 254, 40, 7)),
            netmask: Some(Ipv4Addr::new(255, 255, 0, 0)),
            gateway: Some(Ipv4Addr::UNSPECIFIED),
            http_port: Some(80),
            model: Some("WV-S1136".into()),
            serial: Some("ABC1234567".into()),
            firmware: Some("2.80".into()),
            name: Some("Lobby".into()),
            dhcp: Some(false),
            admin_registered: Some(false),
            valid_period: Some(ValidPeriod::Limited { seconds: 1200 }),
            ..Answer::new(transaction, "00:80:45:12:34:56")
        }
    }

    #[test]
    fn the_search_is_a_header_and_end() {
        assert_eq!(
            search_datagram(0x0102_0304),
            b"EIPS\x01\x01\x01\x02\x03\x04\x00\x00\x00\x00"
        );
        assert_eq!(
            Answer::parse(&search_datagram(7), 7),
            Err(EasyIpError::Search)
        );
    }

    #[test]
    fn an_answer_round_trips_and_becomes_a_sighting() {
        let answer = sample(42);
        let bytes = answer.to_bytes();
        assert_eq!(Answer::parse(&bytes, 42), Ok(answer.clone()));
        let s = answer.to_sighting("169.254.1.1:10670".parse().unwrap());
        assert_eq!(s.method, Method::EasyIp);
        assert_eq!(s.ip, Some(Ipv4Addr::new(169, 254, 40, 7)));
        assert_eq!(s.urls, ["http://169.254.40.7:80/"]);
        assert_eq!(s.mac.as_deref(), Some("00:80:45:12:34:56"));
        assert_eq!(s.vendor.as_deref(), Some("i-PRO"));
        assert_eq!(s.model.as_deref(), Some("WV-S1136"));
        assert_eq!(s.name.as_deref(), Some("Lobby"));
        assert_eq!(s.factory_fresh, Some(true));
        // Without an address of its own, the sender's is used.
        let bare = Answer::new(42, "00:80:45:12:34:56");
        let s = Answer::parse(&bare.to_bytes(), 42)
            .unwrap()
            .to_sighting("169.254.1.1:10670".parse().unwrap());
        assert_eq!(s.ip, Some(Ipv4Addr::new(169, 254, 1, 1)));
        assert_eq!(s.factory_fresh, None);
    }

    #[test]
    fn unknown_tlvs_are_skipped_and_the_first_value_wins() {
        let mut bytes = sample(1).to_bytes();
        let end = bytes.len() - 4;
        let mut extra = Vec::new();
        put(&mut extra, 999, b"from a later firmware");
        put(&mut extra, tlv::MODEL, b"second model");
        bytes.splice(end..end, extra);
        let answer = Answer::parse(&bytes, 1).unwrap();
        assert_eq!(answer.model.as_deref(), Some("WV-S1136"));
    }

    #[test]
    fn hostile_datagrams_are_dropped_with_a_reason() {
        let good = sample(9).to_bytes();
        let code = |bytes: &[u8]| Answer::parse(bytes, 9).map_err(|e| e.code());
        assert_eq!(code(&good[..good.len()]).map(|a| a.transaction), Ok(9));
        assert_eq!(
            Answer::parse(&good, 10).map_err(|e| e.code()),
            Err("easyip_other_transaction")
        );
        assert_eq!(code(&[0; MAX_DATAGRAM + 1]), Err("easyip_too_large"));
        assert_eq!(code(b"EIPS\x01"), Err("easyip_too_short"));
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(code(&bad), Err("easyip_bad_magic"));
        let mut bad = good.clone();
        bad[4] = 2;
        assert_eq!(code(&bad), Err("easyip_bad_version"));
        let mut bad = good.clone();
        bad[5] = 3;
        assert_eq!(code(&bad), Err("easyip_bad_opcode"));
        // The first TLV (MAC) claims more bytes than there are.
        let mut bad = good.clone();
        bad[HEADER_LEN + 2..HEADER_LEN + 4].copy_from_slice(&2000u16.to_be_bytes());
        assert_eq!(code(&bad), Err("easyip_tlv_past_end"));
        // Cut at a TLV boundary: the END is missing.
        assert_eq!(code(&good[..good.len() - 4]), Err("easyip_no_end"));
        let mut bad = good.clone();
        bad.push(0);
        assert_eq!(code(&bad), Err("easyip_trailing_bytes"));
        let mut many = header(OP_ANSWER, 9);
        for _ in 0..MAX_TLVS {
            put(&mut many, 999, &[]);
        }
        put(&mut many, tlv::END, &[]);
        assert_eq!(code(&many), Err("easyip_too_many_tlvs"));
        let mut bad = header(OP_ANSWER, 9);
        put(&mut bad, tlv::MAC, &[1, 2, 3]);
        put(&mut bad, tlv::END, &[]);
        assert_eq!(code(&bad), Err("easyip_bad_length"));
        let mut bad = header(OP_ANSWER, 9);
        put(&mut bad, tlv::MAC, &[1, 2, 3, 4, 5, 6]);
        put(&mut bad, tlv::ADMIN_REGISTERED, &[7]);
        put(&mut bad, tlv::END, &[]);
        assert_eq!(code(&bad), Err("easyip_bad_flag"));
        let mut bad = header(OP_ANSWER, 9);
        put(&mut bad, tlv::MAC, &[1, 2, 3, 4, 5, 6]);
        put(&mut bad, tlv::NAME, &[0xc3, 0x28]);
        put(&mut bad, tlv::END, &[]);
        assert_eq!(code(&bad), Err("easyip_not_utf8"));
        let mut bad = header(OP_ANSWER, 9);
        put(&mut bad, tlv::END, &[]);
        assert_eq!(code(&bad), Err("easyip_incomplete"));
    }

    #[test]
    fn the_valid_period_is_stated_in_seconds_with_zero_for_unlimited() {
        let limited = sample(5).to_bytes();
        let at = limited.len() - 4 - 8;
        assert_eq!(&limited[at..at + 8], b"\x00\x0c\x00\x04\x00\x00\x04\xb0");
        let unlimited = Answer {
            valid_period: Some(ValidPeriod::Unlimited),
            ..sample(5)
        };
        let bytes = unlimited.to_bytes();
        assert_eq!(&bytes[at..at + 8], b"\x00\x0c\x00\x04\x00\x00\x00\x00");
        assert_eq!(
            Answer::parse(&bytes, 5).unwrap().valid_period,
            Some(ValidPeriod::Unlimited)
        );
        let mut bad = header(OP_ANSWER, 5);
        put(&mut bad, tlv::MAC, &[1, 2, 3, 4, 5, 6]);
        put(&mut bad, tlv::VALID_PERIOD, &[0, 1]);
        put(&mut bad, tlv::END, &[]);
        assert_eq!(
            Answer::parse(&bad, 5).map_err(|e| e.code()),
            Err("easyip_bad_length")
        );
    }

    /// A camera on 127.0.0.1 that answers a unicast search by unicast, as camsim does, with the
    /// answer `answer` makes of the transaction; or stays silent.
    async fn responder(
        answer: impl Fn(u32) -> Option<Answer> + Send + 'static,
    ) -> (
        u16,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        tokio::task::JoinHandle<()>,
    ) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let searches = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = searches.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            while let Ok(Ok((n, from))) =
                tokio::time::timeout(Duration::from_secs(3), socket.recv_from(&mut buf)).await
            {
                let datagram = &buf[..n];
                if datagram.len() != 14 || &datagram[..6] != b"EIPS\x01\x01" {
                    continue;
                }
                counted.fetch_add(1, Ordering::Relaxed);
                let transaction = u32::from_be_bytes(datagram[6..10].try_into().unwrap());
                if let Some(a) = answer(transaction) {
                    // Another client's answer first: never taken for ours.
                    let stray = Answer::new(transaction ^ 1, "00:80:45:00:00:01").to_bytes();
                    socket.send_to(&stray, from).await.unwrap();
                    socket.send_to(&a.to_bytes(), from).await.unwrap();
                }
            }
        });
        (port, searches, task)
    }

    #[tokio::test]
    async fn a_unicast_query_reads_the_answer_of_that_camera_or_hears_silence() {
        let (port, _, task) = responder(|t| {
            Some(Answer {
                ipv4: Some(Ipv4Addr::LOCALHOST),
                ..sample(t)
            })
        })
        .await;
        let (answer, from) = query(Ipv4Addr::LOCALHOST, port, Duration::from_secs(2))
            .await
            .unwrap()
            .expect("the camera answers");
        assert_eq!(from, SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        assert_eq!(answer.mac, "00:80:45:12:34:56");
        assert_eq!(
            answer.valid_period,
            Some(ValidPeriod::Limited { seconds: 1200 })
        );
        task.abort();

        let (quiet, searches, quiet_task) = responder(|_| None).await;
        let started = std::time::Instant::now();
        assert_eq!(
            query(Ipv4Addr::LOCALHOST, quiet, Duration::from_millis(400))
                .await
                .unwrap(),
            None
        );
        assert!(started.elapsed() >= Duration::from_millis(400));
        // Asked twice: UDP loses datagrams.
        assert_eq!(searches.load(std::sync::atomic::Ordering::Relaxed), 2);
        quiet_task.abort();
    }
}
