//! The camera's SNMP agent, community-based side: SNMPv1 (RFC 1157) and SNMPv2c (RFC 1901,
//! RFC 3416), BER-encoded with `rasn-snmp`.
//!
//! Glossary: *community* the clear-text password of v1/v2c; *varbind* an (object name, value)
//! pair; *sysDescr.0* `1.3.6.1.2.1.1.1.0`, a textual description of the device; *sysName.0*
//! `1.3.6.1.2.1.1.5.0`, its administratively assigned name (RFC 3418).
//!
//! While the camera's v1/v2c access is on ([`crate::CameraState::snmp_v2c`]; i-PRO ships with it
//! on and community `public`, the hardening control snmp-v3 turns it off), a `GetRequest` or
//! `GetNextRequest` whose community matches gets a `GetResponse` with sysDescr.0
//! (`<manufacturer> <model> <firmware>`), sysObjectID.0, sysUpTime.0 and sysName.0 (the camera's
//! hostname); an unknown object is `noSuchObject` (v2c) or error `noSuchName` (v1), the end of the
//! MIB `endOfMibView` / `noSuchName`. A wrong community, another PDU, another version, or anything
//! that does not decode gets no answer at all, as real agents do (RFC 3584 §4.1: an unknown
//! community is dropped, at most counted).

use std::time::Instant;

use rasn::types::{Integer, ObjectIdentifier, OctetString};
use rasn_snmp::v2::{self, Pdu, Pdus, VarBind, VarBindValue};
use rasn_snmp::v2c::Message;

/// The largest request read; larger datagrams are dropped unread.
pub const MAX_DATAGRAM: usize = 4096;
/// The most varbinds answered in one request; more get `tooBig`.
pub const MAX_VARBINDS: usize = 32;
/// `sysDescr.0`.
pub const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
/// `sysObjectID.0`.
pub const SYS_OBJECT_ID: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 2, 0];
/// `sysUpTime.0`.
pub const SYS_UP_TIME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
/// `sysName.0`.
pub const SYS_NAME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 5, 0];
/// What camsim reports as sysObjectID (an enterprise arc reserved for documentation, RFC 5612).
const CAMSIM_OBJECT_ID: [u32; 8] = [1, 3, 6, 1, 4, 1, 32473, 1];

/// Version numbers in the message header.
const V1: u64 = 0;
const V2C: u64 = 1;

/// What the agent serves.
#[derive(Clone, Debug)]
pub(crate) struct Agent {
    /// The read community.
    pub community: String,
    /// sysDescr.0.
    pub sys_descr: String,
    /// sysName.0.
    pub sys_name: String,
}

fn started() -> Instant {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// The agent's objects, in OID order.
fn objects(agent: &Agent) -> Vec<(&'static [u32], rasn_snmp::v2::ObjectSyntax)> {
    use rasn_smi::v2::{ApplicationSyntax, ObjectSyntax, SimpleSyntax};
    let text = |s: &str| {
        let bytes = &s.as_bytes()[..s.len().min(255)];
        ObjectSyntax::Simple(SimpleSyntax::String(OctetString::from_slice(bytes)))
    };
    let ticks = u32::try_from(started().elapsed().as_millis() / 10).unwrap_or(u32::MAX);
    let mut out: Vec<(&'static [u32], ObjectSyntax)> = vec![(&SYS_DESCR, text(&agent.sys_descr))];
    if let Some(oid) = ObjectIdentifier::new(CAMSIM_OBJECT_ID.to_vec()) {
        out.push((
            &SYS_OBJECT_ID,
            ObjectSyntax::Simple(SimpleSyntax::ObjectId(oid)),
        ));
    }
    out.push((
        &SYS_UP_TIME,
        ObjectSyntax::ApplicationWide(ApplicationSyntax::Ticks(rasn_smi::v1::TimeTicks(ticks))),
    ));
    out.push((&SYS_NAME, text(&agent.sys_name)));
    out
}

/// The answer to one request datagram, or `None` when it gets none.
pub(crate) fn answer(datagram: &[u8], agent: &Agent) -> Option<Vec<u8>> {
    if datagram.len() > MAX_DATAGRAM {
        return None;
    }
    let request: Message<Pdus> = rasn::ber::decode(datagram).ok()?;
    let version = u64::try_from(&request.version).ok()?;
    if !(version == V1 || version == V2C)
        || request.community.as_ref() != agent.community.as_bytes()
    {
        return None;
    }
    let (pdu, next) = match request.data {
        Pdus::GetRequest(v2::GetRequest(pdu)) => (pdu, false),
        Pdus::GetNextRequest(v2::GetNextRequest(pdu)) => (pdu, true),
        _ => return None,
    };
    let table = objects(agent);
    let mut error_status = Pdu::ERROR_STATUS_NO_ERROR;
    let mut error_index = 0;
    let mut bindings = Vec::with_capacity(pdu.variable_bindings.len());
    if pdu.variable_bindings.len() > MAX_VARBINDS {
        error_status = Pdu::ERROR_STATUS_TOO_BIG;
    }
    for (i, binding) in pdu
        .variable_bindings
        .into_iter()
        .take(MAX_VARBINDS)
        .enumerate()
    {
        let asked: &[u32] = &binding.name;
        let found = if next {
            table
                .iter()
                .find(|(oid, _)| *oid > asked)
                .map(|(oid, value)| (ObjectIdentifier::new(oid.to_vec()), value.clone()))
        } else {
            table
                .iter()
                .find(|(oid, _)| *oid == asked)
                .map(|(_, value)| (Some(binding.name.clone()), value.clone()))
        };
        let value = match found {
            Some((Some(name), value)) => VarBind {
                name,
                value: VarBindValue::Value(value),
            },
            _ if version == V1 => {
                // SNMPv1 has no exceptions: the whole request fails (RFC 1157 §4.1.2).
                if error_status == Pdu::ERROR_STATUS_NO_ERROR {
                    error_status = Pdu::ERROR_STATUS_NO_SUCH_NAME;
                    error_index = u32::try_from(i + 1).unwrap_or(u32::MAX);
                }
                VarBind {
                    name: binding.name,
                    value: VarBindValue::Unspecified,
                }
            }
            _ => VarBind {
                name: binding.name,
                value: if next {
                    VarBindValue::EndOfMibView
                } else {
                    VarBindValue::NoSuchObject
                },
            },
        };
        bindings.push(value);
    }
    let response = Message {
        version: Integer::from(version as i64),
        community: request.community,
        data: Pdus::Response(v2::Response(Pdu {
            request_id: pdu.request_id,
            error_status,
            error_index,
            variable_bindings: bindings,
        })),
    };
    rasn::ber::encode(&response).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Agent {
        Agent {
            community: "public".into(),
            sys_descr: "i-PRO CS-2000 1.4.2".into(),
            sys_name: "camsim-0001".into(),
        }
    }

    fn request(version: i64, community: &str, oids: &[&[u32]], next: bool) -> Vec<u8> {
        let pdu = Pdu {
            request_id: 4242,
            error_status: 0,
            error_index: 0,
            variable_bindings: oids
                .iter()
                .map(|oid| VarBind {
                    name: ObjectIdentifier::new(oid.to_vec()).unwrap(),
                    value: VarBindValue::Unspecified,
                })
                .collect(),
        };
        let data = if next {
            Pdus::GetNextRequest(v2::GetNextRequest(pdu))
        } else {
            Pdus::GetRequest(v2::GetRequest(pdu))
        };
        rasn::ber::encode(&Message {
            version: Integer::from(version),
            community: OctetString::from_slice(community.as_bytes()),
            data,
        })
        .unwrap()
    }

    fn response(bytes: &[u8]) -> Pdu {
        let message: Message<Pdus> = rasn::ber::decode(bytes).unwrap();
        match message.data {
            Pdus::Response(v2::Response(pdu)) => pdu,
            other => panic!("not a response: {other:?}"),
        }
    }

    fn text(binding: &VarBind) -> String {
        use rasn_smi::v2::{ObjectSyntax, SimpleSyntax};
        match &binding.value {
            VarBindValue::Value(ObjectSyntax::Simple(SimpleSyntax::String(s))) => {
                String::from_utf8_lossy(s).into_owned()
            }
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn a_get_with_the_community_is_answered_and_others_are_not() {
        let reply = answer(
            &request(1, "public", &[&SYS_DESCR, &SYS_NAME], false),
            &agent(),
        )
        .expect("an answer");
        let pdu = response(&reply);
        assert_eq!(pdu.request_id, 4242);
        assert_eq!(pdu.error_status, 0);
        assert_eq!(text(&pdu.variable_bindings[0]), "i-PRO CS-2000 1.4.2");
        assert_eq!(text(&pdu.variable_bindings[1]), "camsim-0001");
        assert!(answer(&request(1, "private", &[&SYS_DESCR], false), &agent()).is_none());
        assert!(answer(&request(3, "public", &[&SYS_DESCR], false), &agent()).is_none());
        assert!(answer(b"\x30\x03\x02\x01", &agent()).is_none());
    }

    #[test]
    fn unknown_objects_and_the_end_of_the_mib_follow_each_version() {
        let unknown: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 1, 0];
        let v2c = response(&answer(&request(1, "public", &[unknown], false), &agent()).unwrap());
        assert_eq!(v2c.variable_bindings[0].value, VarBindValue::NoSuchObject);
        let v1 = response(&answer(&request(0, "public", &[unknown], false), &agent()).unwrap());
        assert_eq!(v1.error_status, Pdu::ERROR_STATUS_NO_SUCH_NAME);
        assert_eq!(v1.error_index, 1);
        let walk = response(
            &answer(
                &request(1, "public", &[&[1, 3, 6, 1, 2, 1, 1]], true),
                &agent(),
            )
            .unwrap(),
        );
        assert_eq!(&*walk.variable_bindings[0].name, &SYS_DESCR[..]);
        let end = response(&answer(&request(1, "public", &[&SYS_NAME], true), &agent()).unwrap());
        assert_eq!(end.variable_bindings[0].value, VarBindValue::EndOfMibView);
    }
}
