//! A site plan put together on screens instead of written as a file (the desktop wizard).
//!
//! A [`PlanDraft`] holds the same keys as the plan file, as plain values a form can fill in. It is
//! checked by rendering it as plan TOML and reading that with [`crate::plan::parse`], so a draft
//! is refused by exactly the rules (and with exactly the errors and field paths) a file would be;
//! only the line numbers then refer to the rendered text, so a form shows the field instead.
use serde::{Deserialize, Serialize};

use crate::plan::{self, CertificatePolicy, Level, NtpServer, PlanError, Service, SitePlan};

/// The values of a site plan, as a form holds them. Empty lists and `None` leave a section out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDraft {
    /// `site`.
    pub site: String,
    /// `level`.
    pub level: Level,
    /// `[time] ntp`: addresses or host names; empty leaves `[time]` out.
    pub ntp: Vec<String>,
    /// `[access] allowed_hosts`: networks (CIDR) or addresses; empty leaves `[access]` out.
    pub allowed_hosts: Vec<String>,
    /// `[services] keep`.
    pub services: Vec<Service>,
    /// `[ports] http`.
    pub http_port: Option<u16>,
    /// `[ports] https`.
    pub https_port: Option<u16>,
    /// `[ports] rtsp`.
    pub rtsp_port: Option<u16>,
    /// `[certificates] policy`; `None` leaves `[certificates]` out.
    pub certificates: Option<CertificatePolicy>,
    /// `[controls] skip`.
    pub skip: Vec<String>,
}

impl PlanDraft {
    /// What the screens start from at `level`: the services a site usually needs that the level
    /// lets it keep (HTTP only at entry, where `https-only` does not apply yet; WS-Discovery
    /// until advanced), ports moved off their defaults where `ports-changed` applies, the site
    /// CA where `https-only` applies. NTP servers and allowed hosts are the site's facts: empty.
    pub fn for_level(site: &str, level: Level) -> PlanDraft {
        let applies = |id: &str| plan::control_level(id).is_some_and(|l| l <= level);
        let services = [
            Service::Http,
            Service::Https,
            Service::Rtsp,
            Service::WsDiscovery,
        ]
        .into_iter()
        .filter(|s| s.off_control().is_none_or(|id| !applies(id)))
        .collect::<Vec<_>>();
        let ports = applies("ports-changed");
        PlanDraft {
            site: site.to_owned(),
            level,
            ntp: Vec::new(),
            allowed_hosts: Vec::new(),
            http_port: (ports && services.contains(&Service::Http)).then_some(8080),
            https_port: ports.then_some(8443),
            rtsp_port: ports.then_some(8554),
            services,
            certificates: applies("https-only").then_some(CertificatePolicy::SiteCa),
            skip: Vec::new(),
        }
    }

    /// The plan file this draft stands for.
    pub fn to_toml(&self) -> String {
        let mut doc = toml::Table::new();
        doc.insert("site".into(), self.site.clone().into());
        doc.insert("level".into(), self.level.as_str().into());
        let strings = |values: &[String]| {
            toml::Value::Array(values.iter().map(|v| v.trim().to_owned().into()).collect())
        };
        let section = |key: &str, value: toml::Value| {
            let mut table = toml::Table::new();
            table.insert(key.into(), value);
            toml::Value::Table(table)
        };
        if !self.ntp.is_empty() {
            doc.insert("time".into(), section("ntp", strings(&self.ntp)));
        }
        if !self.allowed_hosts.is_empty() {
            doc.insert(
                "access".into(),
                section("allowed_hosts", strings(&self.allowed_hosts)),
            );
        }
        let services: Vec<String> = self.services.iter().map(|s| s.as_str().into()).collect();
        doc.insert("services".into(), section("keep", strings(&services)));
        let mut ports = toml::Table::new();
        for (key, port) in [
            ("http", self.http_port),
            ("https", self.https_port),
            ("rtsp", self.rtsp_port),
        ] {
            if let Some(port) = port {
                ports.insert(key.into(), i64::from(port).into());
            }
        }
        if !ports.is_empty() {
            doc.insert("ports".into(), toml::Value::Table(ports));
        }
        if let Some(policy) = self.certificates {
            doc.insert(
                "certificates".into(),
                section("policy", policy.as_str().into()),
            );
        }
        if !self.skip.is_empty() {
            doc.insert("controls".into(), section("skip", strings(&self.skip)));
        }
        toml::to_string(&doc).unwrap_or_default()
    }

    /// Checks the draft with the plan's own rules: the plan, or the plan's first error.
    pub fn check(&self) -> Result<SitePlan, PlanError> {
        plan::parse(&self.to_toml())
    }
}

/// Reads NTP server names the way the plan's `[time] ntp` does: the servers, or the plan's error
/// for the first name that is not an address or an RFC 1123 host name.
pub fn ntp_servers(names: &[String]) -> Result<Vec<NtpServer>, PlanError> {
    let mut draft = PlanDraft::for_level("NTP check", Level::Entry);
    draft.ntp = names.to_vec();
    Ok(draft
        .check()?
        .time()
        .map(|t| t.ntp.clone())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_of_every_level_need_only_the_sites_facts() {
        for level in [Level::Entry, Level::Standard, Level::Advanced] {
            let mut draft = PlanDraft::for_level("Lab", level);
            let error = draft.check().expect_err("no NTP server yet");
            assert_eq!(error.field, "time", "{level}: {error}");
            draft.ntp = vec!["192.0.2.123".into()];
            if level >= Level::Standard {
                let error = draft.check().expect_err("no allowed hosts yet");
                assert!(error.field.starts_with("access"), "{level}: {error}");
                draft.allowed_hosts = vec!["192.0.2.0/24".into()];
            }
            let plan = draft.check().unwrap_or_else(|e| panic!("{level}: {e}"));
            assert_eq!(plan.level(), level);
            assert!(plan.keeps(Service::Https));
        }
        let entry = PlanDraft::for_level("Lab", Level::Entry);
        assert!(entry.services.contains(&Service::Http));
        let advanced = PlanDraft::for_level("Lab", Level::Advanced);
        assert!(!advanced.services.contains(&Service::WsDiscovery));
    }

    #[test]
    fn ntp_names_are_read_as_the_plan_reads_them() {
        let servers = ntp_servers(&["192.0.2.1".into(), "ntp.example.net".into()]).unwrap();
        assert_eq!(servers.len(), 2);
        let error = ntp_servers(&["not a host!".into()]).expect_err("not a host name");
        assert_eq!(error.field, "time.ntp[0]");
    }

    #[test]
    fn a_draft_is_refused_with_the_plans_own_errors() {
        let mut draft = PlanDraft::for_level("Lab", Level::Standard);
        draft.ntp = vec!["192.0.2.123".into()];
        draft.allowed_hosts = vec!["10.0.0.0/33".into()];
        let error = draft.check().expect_err("not a network");
        assert_eq!(error.field, "access.allowed_hosts[0]");
        assert_eq!(error.code(), "plan_invalid_cidr");
        draft.allowed_hosts = vec!["10.0.0.0/24".into()];
        draft.services.push(Service::Http);
        let error = draft.check().expect_err("http contradicts https-only");
        assert!(error.field.starts_with("services"), "{error}");
    }
}
