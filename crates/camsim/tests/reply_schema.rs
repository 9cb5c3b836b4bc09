//! Drives every Device Management operation camsim implements, saves every reply, and validates all
//! of them against the official ONVIF schemas with `/work/shared/onvif-schema/validate`.
mod common;

use std::path::Path;

use camsim::{Fleet, FleetConfig};
use common::*;

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_device_management_reply_is_schema_valid() {
    let fleet = Fleet::start(FleetConfig::default())
        .await
        .expect("fleet starts");
    let camera = &fleet.cameras()[0];
    let url = camera.device_url();
    let dir = tempfile::tempdir().expect("temp dir");

    // Factory state: anonymous access to everything. The admin is created near the end so that
    // the later operations run authenticated.
    let operations: Vec<(&str, String)> = vec![
        ("GetSystemDateAndTime", "<tds:GetSystemDateAndTime/>".into()),
        ("GetDeviceInformation", "<tds:GetDeviceInformation/>".into()),
        ("GetServices", "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>".into()),
        ("GetServicesCaps", "<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>".into()),
        ("GetServiceCapabilities", "<tds:GetServiceCapabilities/>".into()),
        ("GetCapabilities", "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>".into()),
        ("GetWsdlUrl", "<tds:GetWsdlUrl/>".into()),
        ("GetEndpointReference", "<tds:GetEndpointReference/>".into()),
        ("GetHostname", "<tds:GetHostname/>".into()),
        ("SetHostname", "<tds:SetHostname><tds:Name>cam-lobby</tds:Name></tds:SetHostname>".into()),
        ("SetHostnameFromDHCP", "<tds:SetHostnameFromDHCP><tds:FromDHCP>false</tds:FromDHCP></tds:SetHostnameFromDHCP>".into()),
        ("SetDNS", "<tds:SetDNS><tds:FromDHCP>false</tds:FromDHCP><tds:SearchDomain>example.org</tds:SearchDomain><tds:DNSManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>192.0.2.53</tt:IPv4Address></tds:DNSManual></tds:SetDNS>".into()),
        ("GetDNS", "<tds:GetDNS/>".into()),
        ("SetNTP", "<tds:SetNTP><tds:FromDHCP>false</tds:FromDHCP><tds:NTPManual><tt:Type>DNS</tt:Type><tt:DNSname>ntp.example.org</tt:DNSname></tds:NTPManual><tds:NTPManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>192.0.2.123</tt:IPv4Address></tds:NTPManual></tds:SetNTP>".into()),
        ("GetNTP", "<tds:GetNTP/>".into()),
        ("SetSystemDateAndTime", "<tds:SetSystemDateAndTime><tds:DateTimeType>NTP</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings><tds:TimeZone><tt:TZ>CET-1CEST,M3.5.0,M10.5.0/3</tt:TZ></tds:TimeZone></tds:SetSystemDateAndTime>".into()),
        ("GetSystemDateAndTime2", "<tds:GetSystemDateAndTime/>".into()),
        ("GetNetworkInterfaces", "<tds:GetNetworkInterfaces/>".into()),
        ("SetNetworkInterfaces", "<tds:SetNetworkInterfaces><tds:InterfaceToken>eth0</tds:InterfaceToken><tds:NetworkInterface><tt:Enabled>true</tt:Enabled><tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Manual><tt:Address>192.0.2.20</tt:Address><tt:PrefixLength>24</tt:PrefixLength></tt:Manual><tt:DHCP>false</tt:DHCP></tt:IPv4></tds:NetworkInterface></tds:SetNetworkInterfaces>".into()),
        ("GetNetworkInterfaces2", "<tds:GetNetworkInterfaces/>".into()),
        ("GetNetworkProtocols", "<tds:GetNetworkProtocols/>".into()),
        ("SetNetworkProtocols", "<tds:SetNetworkProtocols><tds:NetworkProtocols><tt:Name>RTSP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>8554</tt:Port></tds:NetworkProtocols></tds:SetNetworkProtocols>".into()),
        ("GetNetworkDefaultGateway", "<tds:GetNetworkDefaultGateway/>".into()),
        ("SetNetworkDefaultGateway", "<tds:SetNetworkDefaultGateway><tds:IPv4Address>192.0.2.1</tds:IPv4Address></tds:SetNetworkDefaultGateway>".into()),
        ("GetDiscoveryMode", "<tds:GetDiscoveryMode/>".into()),
        ("SetDiscoveryMode", "<tds:SetDiscoveryMode><tds:DiscoveryMode>NonDiscoverable</tds:DiscoveryMode></tds:SetDiscoveryMode>".into()),
        ("GetZeroConfiguration", "<tds:GetZeroConfiguration/>".into()),
        ("SetZeroConfiguration", "<tds:SetZeroConfiguration><tds:InterfaceToken>eth0</tds:InterfaceToken><tds:Enabled>false</tds:Enabled></tds:SetZeroConfiguration>".into()),
        ("GetIPAddressFilter", "<tds:GetIPAddressFilter/>".into()),
        ("SetIPAddressFilter", "<tds:SetIPAddressFilter><tds:IPAddressFilter><tt:Type>Allow</tt:Type><tt:IPv4Address><tt:Address>127.0.0.0</tt:Address><tt:PrefixLength>8</tt:PrefixLength></tt:IPv4Address></tds:IPAddressFilter></tds:SetIPAddressFilter>".into()),
        ("AddIPAddressFilter", "<tds:AddIPAddressFilter><tds:IPAddressFilter><tt:Type>Allow</tt:Type><tt:IPv4Address><tt:Address>127.0.0.1</tt:Address><tt:PrefixLength>32</tt:PrefixLength></tt:IPv4Address></tds:IPAddressFilter></tds:AddIPAddressFilter>".into()),
        ("RemoveIPAddressFilter", "<tds:RemoveIPAddressFilter><tds:IPAddressFilter><tt:Type>Allow</tt:Type><tt:IPv4Address><tt:Address>127.0.0.1</tt:Address><tt:PrefixLength>32</tt:PrefixLength></tt:IPv4Address></tds:IPAddressFilter></tds:RemoveIPAddressFilter>".into()),
        ("GetIPAddressFilter2", "<tds:GetIPAddressFilter/>".into()),
        ("GetScopes", "<tds:GetScopes/>".into()),
        ("AddScopes", "<tds:AddScopes><tds:ScopeItem>onvif://www.onvif.org/location/lobby</tds:ScopeItem></tds:AddScopes>".into()),
        ("RemoveScopes", "<tds:RemoveScopes><tds:ScopeItem>onvif://www.onvif.org/location/lobby</tds:ScopeItem></tds:RemoveScopes>".into()),
        ("SetScopes", "<tds:SetScopes><tds:Scopes>onvif://www.onvif.org/name/Lobby</tds:Scopes></tds:SetScopes>".into()),
        ("GetUsers", "<tds:GetUsers/>".into()),
        ("CreateUsers", format!("<tds:CreateUsers><tds:User><tt:Username>{ADMIN}</tt:Username><tt:Password>{PASSWORD}</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User></tds:CreateUsers>")),
        ("CreateUsersOperator", "<tds:CreateUsers><tds:User><tt:Username>operator</tt:Username><tt:Password>Op3rator-Pass!</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User></tds:CreateUsers>".into()),
        ("SetUser", "<tds:SetUser><tds:User><tt:Username>operator</tt:Username><tt:Password>0ther-Pass!</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:SetUser>".into()),
        ("GetUsers2", "<tds:GetUsers/>".into()),
        ("DeleteUsers", "<tds:DeleteUsers><tds:Username>operator</tds:Username></tds:DeleteUsers>".into()),
        ("GetSystemLogAccess", "<tds:GetSystemLog><tds:LogType>Access</tds:LogType></tds:GetSystemLog>".into()),
        ("GetSystemLogSystem", "<tds:GetSystemLog><tds:LogType>System</tds:LogType></tds:GetSystemLog>".into()),
        // Faults are replies too.
        ("FaultUsernameClash", format!("<tds:CreateUsers><tds:User><tt:Username>{ADMIN}</tt:Username><tt:Password>x-Other-1</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:CreateUsers>")),
        ("FaultFixedUser", format!("<tds:DeleteUsers><tds:Username>{ADMIN}</tds:Username></tds:DeleteUsers>")),
        ("FaultUnknownOperation", "<tds:UpgradeSystemFirmware/>".into()),
        ("FaultBadHostname", "<tds:SetHostname><tds:Name>bad_name!</tds:Name></tds:SetHostname>".into()),
        ("SystemReboot", "<tds:SystemReboot/>".into()),
    ];
    let mut files = Vec::new();
    let mut faults = Vec::new();
    let mut admin_exists = false;
    for (name, payload) in &operations {
        let reply = if admin_exists {
            digest_call(&url, payload, ADMIN, PASSWORD).await
        } else {
            post(&url, &envelope(payload, None), None)
                .await
                .expect("camera answers")
        };
        let expect_fault = name.starts_with("Fault");
        assert_eq!(
            expect_fault,
            reply.status != 200,
            "{name}: HTTP {} {}",
            reply.status,
            reply.body
        );
        if *name == "CreateUsers" {
            admin_exists = true;
        }
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, &reply.body).expect("write reply");
        if expect_fault {
            faults.push(path);
        } else {
            files.push(path);
        }
    }
    // Advertised fault subcodes are the ONVIF ones.
    let clash = std::fs::read_to_string(dir.path().join("FaultUsernameClash.xml")).expect("read");
    assert_eq!(
        subcodes(&clash),
        ["ter:OperationProhibited", "ter:UsernameClash"]
    );
    let fixed = std::fs::read_to_string(dir.path().join("FaultFixedUser.xml")).expect("read");
    assert_eq!(subcodes(&fixed), ["ter:InvalidArgVal", "ter:FixedUser"]);

    let validate =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/onvif-schema/validate");
    let out = std::process::Command::new(validate)
        .args(&files)
        .output()
        .expect("validator runs");
    assert!(
        out.status.success(),
        "schema validation failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The ONVIF validator checks service payloads; SOAP faults are checked against the SOAP 1.2
    // envelope schema itself (shipped next to it), offline.
    let envelope_xsd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/onvif-schema/ext/soap-envelope");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(envelope_xsd)
        .args(&faults)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "fault validation failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fleet.shutdown().await;
}
