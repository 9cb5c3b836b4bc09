//! The services a hardening audit verifies from outside: each camera's FTP server ([`crate::ftp`]),
//! RTSP server ([`crate::rtsp`]), SNMP agent ([`crate::snmp`]) and UPnP/SSDP responder
//! ([`crate::ssdp`]), each with the on/off setting real firmware has ([`CameraState::ftp_server`],
//! [`CameraState::snmp_v2c`], [`CameraState::upnp`], [`CameraState::rtsp_basic`]).
//!
//! Started only when the fleet asks for them ([`crate::FleetConfig::services`]). Every camera of a
//! fleet shares the fleet's address, so the standard ports (FTP 21, RTSP 554, SNMP 161) are used
//! only by a fleet of one camera with a fixed [`crate::FleetConfig::base_port`] (a camera in a
//! network namespace of its own); other fleets get free ports, reported in
//! [`crate::CameraInfo::ftp_port`], [`rtsp_port`](crate::CameraInfo::rtsp_port) and
//! [`snmp_port`](crate::CameraInfo::snmp_port).
//!
//! A service turned off stops at once, as on firmware: the FTP listener is dropped (new
//! connections are refused, open sessions end at their next command) and bound again when it is
//! turned back on; so is the RTSP listener while RTSP is disabled (`SetNetworkProtocols`). The
//! SNMP socket stays bound (SNMPv3 would still be served) but v1/v2c requests get no answer, like
//! an agent without a community. A reconciler looks every [`RECONCILE`] and whenever a setting
//! changes; a reboot closes everything until the camera is back.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};

use crate::access::UserLevel;
use crate::server::Camera;
use crate::state::{CameraState, User};
use crate::{Flavour, FleetConfig, SimError};

/// The standard FTP control port.
pub const FTP_PORT: u16 = 21;
/// The standard RTSP port.
pub const RTSP_PORT: u16 = 554;
/// The standard SNMP agent port (UDP).
pub const SNMP_PORT: u16 = 161;
/// How often the listeners compare what is open with what the camera's state says.
pub const RECONCILE: Duration = Duration::from_millis(250);

/// The ports of one camera's services; all `None` when the fleet runs none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ports {
    /// FTP (TCP).
    pub ftp: Option<u16>,
    /// RTSP (TCP).
    pub rtsp: Option<u16>,
    /// SNMP (UDP).
    pub snmp: Option<u16>,
}

/// One camera's service sockets, bound before the camera starts so its ports are known.
pub(crate) struct Bound {
    ftp: TcpListener,
    rtsp: TcpListener,
    snmp: UdpSocket,
    ssdp: Option<crate::ssdp::Sockets>,
    ports: Ports,
}

impl Bound {
    /// The ports bound.
    pub(crate) fn ports(&self) -> Ports {
        self.ports
    }
}

/// Binds a TCP listener with `SO_REUSEADDR`, so that re-opening a port whose old connections sit in
/// TIME_WAIT works.
pub(crate) fn bind_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

fn bind_error(addr: SocketAddr) -> impl FnOnce(std::io::Error) -> SimError {
    move |source| SimError::Bind { addr, source }
}

/// Binds one camera's service sockets when the fleet runs services (`None` otherwise).
pub(crate) fn bind(cfg: &FleetConfig) -> Result<Option<Bound>, SimError> {
    if !cfg.services {
        return Ok(None);
    }
    let standard = cfg.base_port.is_some() && cfg.cameras == 1;
    let port = |p: u16| if standard { p } else { 0 };
    let ftp_addr = SocketAddr::new(cfg.bind, port(FTP_PORT));
    let ftp = bind_tcp(ftp_addr).map_err(bind_error(ftp_addr))?;
    let rtsp_addr = SocketAddr::new(cfg.bind, port(RTSP_PORT));
    let rtsp = bind_tcp(rtsp_addr).map_err(bind_error(rtsp_addr))?;
    let snmp_addr = SocketAddr::new(cfg.bind, port(SNMP_PORT));
    let snmp = std::net::UdpSocket::bind(snmp_addr)
        .and_then(|s| {
            s.set_nonblocking(true)?;
            UdpSocket::from_std(s)
        })
        .map_err(bind_error(snmp_addr))?;
    let ssdp = match cfg.bind {
        // Multicast needs a real interface (in a test's own namespace): never on loopback.
        IpAddr::V4(v4) if !v4.is_loopback() && !v4.is_unspecified() => {
            let group = SocketAddr::new(cfg.bind, crate::ssdp::PORT);
            Some(crate::ssdp::sockets(v4).map_err(bind_error(group))?)
        }
        _ => None,
    };
    let local =
        |r: std::io::Result<SocketAddr>, addr| r.map(|a| a.port()).map_err(bind_error(addr));
    let ports = Ports {
        ftp: Some(local(ftp.local_addr(), ftp_addr)?),
        rtsp: Some(local(rtsp.local_addr(), rtsp_addr)?),
        snmp: Some(local(snmp.local_addr(), snmp_addr)?),
    };
    Ok(Some(Bound {
        ftp,
        rtsp,
        snmp,
        ssdp,
        ports,
    }))
}

/// Starts serving `camera`'s services on the sockets bound for it.
pub(crate) fn spawn(camera: &Arc<Camera>, bound: Bound) -> Vec<tokio::task::JoinHandle<()>> {
    let at = |port: Option<u16>| SocketAddr::new(camera.bind_ip(), port.unwrap_or(0));
    let mut tasks = vec![
        tokio::spawn(run_tcp(
            camera.clone(),
            Tcp::Ftp,
            bound.ftp,
            at(bound.ports.ftp),
        )),
        tokio::spawn(run_tcp(
            camera.clone(),
            Tcp::Rtsp(Arc::new(Mutex::new(crate::rtsp::Nonces::default()))),
            bound.rtsp,
            at(bound.ports.rtsp),
        )),
        tokio::spawn(run_snmp(camera.clone(), bound.snmp)),
    ];
    if let Some(sockets) = bound.ssdp {
        tasks.push(tokio::spawn(crate::ssdp::run(camera.clone(), sockets)));
    }
    tasks
}

/// The accounts the camera's own servers (FTP, RTSP, its web pages) accept: the ONVIF users, and
/// on Axis and Hikvision the vendor API's accounts too (their web servers use those).
pub(crate) fn accounts(state: &CameraState, flavour: Flavour) -> Vec<User> {
    let mut users = state.users.clone();
    match flavour {
        Flavour::Axis => users.extend(state.vendor.vapix_users.iter().cloned()),
        Flavour::Hikvision => users.extend(state.vendor.isapi_users.iter().cloned()),
        Flavour::Generic | Flavour::Canon | Flavour::IPro | Flavour::Mix => {}
    }
    users
}

/// The administrators among [`accounts`].
pub(crate) fn administrators(state: &CameraState, flavour: Flavour) -> Vec<User> {
    accounts(state, flavour)
        .into_iter()
        .filter(|u| u.level == UserLevel::Administrator)
        .collect()
}

/// Whether anyone may use the camera without credentials: a generic ONVIF camera without any
/// account (Profile Q factory default state). Every vendor flavour keeps its servers closed until
/// its first account exists.
pub(crate) fn open_to_anonymous(state: &CameraState, flavour: Flavour) -> bool {
    flavour == Flavour::Generic && state.is_factory()
}

/// A TCP service.
#[derive(Clone)]
enum Tcp {
    /// The FTP server.
    Ftp,
    /// The RTSP server, with the Digest nonces it has issued.
    Rtsp(Arc<Mutex<crate::rtsp::Nonces>>),
}

impl Tcp {
    /// Whether the listener should be open now.
    fn wanted(&self, camera: &Camera) -> bool {
        if camera.is_stopped() || camera.is_rebooting() {
            return false;
        }
        camera.with_state(|s| match self {
            Tcp::Ftp => s.ftp_server,
            Tcp::Rtsp(_) => s.protocol("RTSP").is_none_or(|p| p.enabled),
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Tcp::Ftp => "FTP",
            Tcp::Rtsp(_) => "RTSP",
        }
    }
}

async fn accept(listener: &Option<TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Keeps one TCP listener open exactly while the camera's state wants it, and serves it.
async fn run_tcp(camera: Arc<Camera>, which: Tcp, initial: TcpListener, addr: SocketAddr) {
    let mut listener = Some(initial);
    let mut changes = camera.listener_changes();
    loop {
        if camera.is_stopped() {
            return;
        }
        if !which.wanted(&camera) {
            if listener.take().is_some() {
                tracing::debug!(service = which.name(), %addr, "listener closed");
            }
        } else if listener.is_none() {
            match bind_tcp(addr) {
                Ok(l) => {
                    tracing::debug!(service = which.name(), %addr, "listener open");
                    listener = Some(l);
                }
                Err(e) => {
                    tracing::warn!(service = which.name(), error = %e, %addr, "could not re-open listener; retrying");
                }
            }
        }
        tokio::select! {
            accepted = accept(&listener) => {
                let Ok((stream, peer)) = accepted else { continue };
                // ONVIF Core §8.2.12: the IP address filter applies to every service.
                if !camera.admits(peer.ip()) {
                    continue;
                }
                let camera = camera.clone();
                let which = which.clone();
                tokio::spawn(async move {
                    let mut cut = camera.connection_cuts();
                    tokio::select! {
                        _ = serve(camera, which, stream, peer) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
            changed = changes.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(RECONCILE) => {}
        }
    }
}

async fn serve(camera: Arc<Camera>, which: Tcp, stream: TcpStream, peer: SocketAddr) {
    let result = match which {
        Tcp::Ftp => crate::ftp::serve(&camera, stream).await,
        Tcp::Rtsp(nonces) => crate::rtsp::serve(&camera, stream, &nonces).await,
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "service connection ended");
    }
}

/// Answers SNMP requests while the camera's v1/v2c access is on.
async fn run_snmp(camera: Arc<Camera>, socket: UdpSocket) {
    let mut buf = vec![0u8; crate::snmp::MAX_DATAGRAM + 1];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(got) => got,
            Err(e) => {
                // An ICMP error from an earlier answer, or a transient failure: keep serving,
                // without spinning.
                tracing::debug!(error = %e, "SNMP receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if camera.is_stopped() {
            return;
        }
        if n > crate::snmp::MAX_DATAGRAM || camera.is_rebooting() || !camera.admits(from.ip()) {
            continue;
        }
        let Some((community, sys_name)) = camera.with_state(|s| {
            s.snmp_v2c
                .then(|| (s.snmp_community.clone(), s.hostname.clone()))
        }) else {
            continue;
        };
        let info = camera.info();
        let agent = crate::snmp::Agent {
            community,
            sys_descr: format!("{} {} {}", info.manufacturer, info.model, info.firmware),
            sys_name,
        };
        if let Some(reply) = crate::snmp::answer(&buf[..n], &agent) {
            if let Err(e) = socket.send_to(&reply, from).await {
                tracing::debug!(error = %e, "SNMP answer not sent");
            }
        }
    }
}

/// One line read by [`read_line`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The line, without its CR LF (invalid UTF-8 replaced).
    Text(String),
    /// Longer than allowed; the rest of the connection is not to be trusted.
    TooLong,
    /// The peer closed the connection.
    Eof,
}

/// Reads one LF-terminated line of at most `max` bytes (CR LF or bare LF, as servers accept).
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Line> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() {
                Line::Eof
            } else {
                Line::Text(String::from_utf8_lossy(&line).into_owned())
            });
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max {
            return Ok(Line::TooLong);
        }
        line.extend_from_slice(&buf[..take]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Line::Text(String::from_utf8_lossy(&line).into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded_and_crlf_stripped() {
        let mut input: &[u8] = b"USER admin\r\nPASS x\nQUIT";
        let mut reader = tokio::io::BufReader::new(&mut input);
        assert_eq!(
            read_line(&mut reader, 512).await.unwrap(),
            Line::Text("USER admin".into())
        );
        assert_eq!(
            read_line(&mut reader, 512).await.unwrap(),
            Line::Text("PASS x".into())
        );
        assert_eq!(
            read_line(&mut reader, 512).await.unwrap(),
            Line::Text("QUIT".into())
        );
        assert_eq!(read_line(&mut reader, 512).await.unwrap(), Line::Eof);
        let long = vec![b'a'; 600];
        let mut reader = tokio::io::BufReader::new(&long[..]);
        assert_eq!(read_line(&mut reader, 512).await.unwrap(), Line::TooLong);
    }

    #[test]
    fn vendor_flavours_accept_their_own_accounts() {
        let mut state = CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443);
        assert!(open_to_anonymous(&state, Flavour::Generic));
        assert!(!open_to_anonymous(&state, Flavour::Canon));
        state.vendor.vapix_users.push(User {
            name: "root".into(),
            password: "pw".into(),
            level: UserLevel::Administrator,
        });
        assert_eq!(administrators(&state, Flavour::Axis).len(), 1);
        assert!(administrators(&state, Flavour::Generic).is_empty());
    }
}
