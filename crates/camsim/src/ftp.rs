//! The camera's FTP server (RFC 959), as much of it as a hardening audit meets.
//!
//! Canon and i-PRO cameras ship with an FTP server for pulling recordings and pushing settings;
//! it sends credentials in clear text, so the hardening control ftp-server-off turns it off
//! ([`crate::CameraState::ftp_server`]; [`crate::services`] closes the port). What is modelled:
//!
//! - On connect the server greets with [`BANNER`] (RFC 959 §4.2: reply 220, "service ready").
//! - `USER name` → `331` (password required); `PASS word` → `230` when `name`/`word` is one of the
//!   camera's administrators, else `530 Login incorrect.`; `PASS` before `USER` → `503` (bad
//!   sequence); `QUIT` → `221` and the connection closes; any other command → `502` (not
//!   implemented). No data connection is ever opened.
//! - A command line longer than [`MAX_LINE`] bytes gets `500` and the connection closes; a client
//!   silent for [`IDLE`] gets `421` and the connection closes.
//! - A session whose server is turned off ends at its next command.

use std::time::Duration;

use tokio::io::{AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use crate::server::Camera;
use crate::services::{read_line, Line};
use crate::state::User;

/// The greeting sent on connect.
pub const BANNER: &str = "220 camsim FTP server ready\r\n";
/// The longest command line read, in bytes.
pub const MAX_LINE: usize = 512;
/// How long a silent client is kept.
pub const IDLE: Duration = Duration::from_secs(30);

/// One control connection's login state.
#[derive(Debug, Default)]
pub(crate) struct Session {
    user: Option<String>,
}

impl Session {
    /// The reply to one command line and whether the connection closes after it. `admins` are the
    /// accounts allowed to log in.
    pub(crate) fn command(&mut self, line: &str, admins: &[User]) -> (&'static str, bool) {
        let (verb, argument) = match line.split_once(' ') {
            Some((verb, argument)) => (verb, argument),
            None => (line, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "USER" => {
                self.user = Some(argument.to_owned());
                ("331 Please specify the password.\r\n", false)
            }
            "PASS" => match self.user.take() {
                None => ("503 Login with USER first.\r\n", false),
                Some(user) => {
                    // The password is compared, never logged or echoed.
                    if admins
                        .iter()
                        .any(|a| a.name == user && a.password == argument)
                    {
                        ("230 Login successful.\r\n", false)
                    } else {
                        ("530 Login incorrect.\r\n", false)
                    }
                }
            },
            "QUIT" => ("221 Goodbye.\r\n", true),
            _ => ("502 Command not implemented.\r\n", false),
        }
    }
}

/// Serves one control connection until it closes.
pub(crate) async fn serve(camera: &Camera, stream: TcpStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(BANNER.as_bytes()).await?;
    let mut session = Session::default();
    loop {
        let line = match tokio::time::timeout(IDLE, read_line(&mut read, MAX_LINE)).await {
            Err(_) => {
                write
                    .write_all(b"421 Timeout, closing control connection.\r\n")
                    .await?;
                return Ok(());
            }
            Ok(Ok(Line::Text(line))) => line,
            Ok(Ok(Line::TooLong)) => {
                write.write_all(b"500 Command line too long.\r\n").await?;
                return Ok(());
            }
            Ok(Ok(Line::Eof)) => return Ok(()),
            Ok(Err(e)) => return Err(e),
        };
        let Some(admins) = camera.with_state(|s| {
            s.ftp_server
                .then(|| crate::services::administrators(s, camera.flavour()))
        }) else {
            // The server was turned off while this session was open.
            return Ok(());
        };
        let (reply, close) = session.command(&line, &admins);
        write.write_all(reply.as_bytes()).await?;
        if close {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::UserLevel;

    fn admin() -> Vec<User> {
        vec![User {
            name: "admin".into(),
            password: "Good-pass-42".into(),
            level: UserLevel::Administrator,
        }]
    }

    #[test]
    fn only_an_administrator_logs_in() {
        let mut s = Session::default();
        assert!(s.command("PASS x", &admin()).0.starts_with("503"));
        assert!(s.command("USER admin", &admin()).0.starts_with("331"));
        assert!(s.command("PASS wrong", &admin()).0.starts_with("530"));
        assert!(s.command("USER admin", &admin()).0.starts_with("331"));
        assert!(s
            .command("PASS Good-pass-42", &admin())
            .0
            .starts_with("230"));
        assert!(s.command("LIST", &admin()).0.starts_with("502"));
        assert_eq!(s.command("quit", &admin()), ("221 Goodbye.\r\n", true));
    }
}
