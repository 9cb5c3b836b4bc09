//! Every Advanced Security and Media2 request camsim's tests send, and every reply its handlers
//! produce, validated against the official ONVIF schemas with `/work/shared/onvif-schema/validate`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use camsim::fault::SimFault;
use camsim::media2::{self, MediaState, TR2_NS, TT_NS};
use camsim::security::{self, Keystore, TAS_NS};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DnType, IsCa, Issuer,
    KeyPair,
};

/// Collects messages as files, then validates them all in one run of the validator.
struct Messages {
    dir: tempfile::TempDir,
    files: Vec<PathBuf>,
}

impl Messages {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            files: Vec::new(),
        }
    }

    fn save(&mut self, name: &str, xml: &str) {
        let path = self
            .dir
            .path()
            .join(format!("{:03}-{name}.xml", self.files.len()));
        std::fs::write(&path, xml).expect("write message");
        self.files.push(path);
    }

    fn validate(&self) {
        let validator =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/onvif-schema/validate");
        let out = std::process::Command::new(validator)
            .args(&self.files)
            .output()
            .expect("validator runs");
        assert!(
            out.status.success(),
            "schema validation failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sends one Advanced Security request, saving request and reply.
    fn tas(&mut self, ks: &mut Keystore, op: &str, body: &str) -> Result<String, SimFault> {
        let request = format!("<tas:{op} xmlns:tas=\"{TAS_NS}\">{body}</tas:{op}>");
        self.save(op, &request);
        let doc = roxmltree::Document::parse(&request).expect("request is well-formed");
        let reply = security::handle(ks, op, doc.root_element(), time::OffsetDateTime::now_utc());
        if let Ok(reply) = &reply {
            self.save(&format!("{op}Response"), reply);
        }
        reply
    }

    /// Sends one Media2 request, saving request and reply.
    fn tr2(&mut self, media: &mut MediaState, op: &str, body: &str) -> String {
        let request =
            format!("<tr2:{op} xmlns:tr2=\"{TR2_NS}\" xmlns:tt=\"{TT_NS}\">{body}</tr2:{op}>");
        self.save(op, &request);
        let doc = roxmltree::Document::parse(&request).expect("request is well-formed");
        let reply = media2::handle(media, op, doc.root_element(), "127.0.0.1:8080", 554)
            .expect("media reply");
        self.save(&format!("{op}Response"), &reply);
        reply
    }
}

fn field(xml: &str, name: &str) -> String {
    let doc = roxmltree::Document::parse(xml).expect("reply is well-formed");
    let node = doc
        .descendants()
        .find(|n| n.tag_name().name() == name)
        .expect("field present");
    node.text().unwrap_or_default().to_string()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn advanced_security_messages_are_schema_valid() {
    let mut m = Messages::new();
    let mut ks = Keystore::default();
    m.tas(&mut ks, "GetServiceCapabilities", "")
        .expect("capabilities");
    let key = m.tas(
        &mut ks,
        "CreateRSAKeyPair",
        "<tas:KeyLength>2048</tas:KeyLength><tas:Alias>tls</tas:Alias>",
    );
    let key_id = field(&key.expect("key"), "KeyID");
    m.tas(
        &mut ks,
        "GetKeyStatus",
        &format!("<tas:KeyID>{key_id}</tas:KeyID>"),
    )
    .expect("status");
    m.tas(
        &mut ks,
        "GetPrivateKeyStatus",
        &format!("<tas:KeyID>{key_id}</tas:KeyID>"),
    )
    .expect("status");

    // subjectAltName: dNSName camera.local.
    let mut san = vec![0x30, 14, 0x82, 12];
    san.extend(b"camera.local");
    let csr_body = format!(
        "<tas:Subject><tas:Country>DE</tas:Country><tas:Organization>Camward</tas:Organization>\
         <tas:CommonName>camera.local</tas:CommonName></tas:Subject><tas:KeyID>{key_id}</tas:KeyID>\
         <tas:CSRAttribute><tas:X509v3Extension><tas:extnOID>2.5.29.17</tas:extnOID><tas:critical>false</tas:critical>\
         <tas:extnValue>{}</tas:extnValue></tas:X509v3Extension></tas:CSRAttribute>\
         <tas:SignatureAlgorithm><tas:algorithm>1.2.840.113549.1.1.11</tas:algorithm></tas:SignatureAlgorithm>",
        b64(&san)
    );
    let csr = field(
        &m.tas(&mut ks, "CreatePKCS10CSR", &csr_body).expect("csr"),
        "PKCS10CSR",
    );
    let csr_der = base64::engine::general_purpose::STANDARD
        .decode(csr)
        .expect("base64");

    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Schema Test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_der = ca_params.self_signed(&ca_key).expect("CA").der().to_vec();
    let issuer = Issuer::new(ca_params, ca_key);
    let request = CertificateSigningRequestParams::from_der(&csr_der.into())
        .expect("CSR parses and verifies");
    let leaf = request.signed_by(&issuer).expect("leaf");

    let upload = |der: &[u8], required: bool| {
        format!(
            "<tas:Certificate>{}</tas:Certificate><tas:Alias>c</tas:Alias><tas:KeyAlias>k</tas:KeyAlias>\
             <tas:PrivateKeyRequired>{required}</tas:PrivateKeyRequired>",
            b64(der)
        )
    };
    let leaf_id = field(
        &m.tas(&mut ks, "UploadCertificate", &upload(leaf.der(), true))
            .expect("upload"),
        "CertificateID",
    );
    let ca_id = field(
        &m.tas(&mut ks, "UploadCertificate", &upload(&ca_der, false))
            .expect("upload"),
        "CertificateID",
    );
    m.tas(
        &mut ks,
        "GetCertificate",
        &format!("<tas:CertificateID>{leaf_id}</tas:CertificateID>"),
    )
    .expect("get");
    m.tas(&mut ks, "GetAllCertificates", "").expect("all");
    m.tas(&mut ks, "GetAllKeys", "").expect("keys");

    let self_signed = format!(
        "<tas:Subject><tas:CommonName>cam</tas:CommonName></tas:Subject><tas:KeyID>{key_id}</tas:KeyID>\
         <tas:Alias>self</tas:Alias><tas:notValidBefore>2026-01-01T00:00:00Z</tas:notValidBefore>\
         <tas:notValidAfter>2036-01-01T00:00:00Z</tas:notValidAfter>\
         <tas:SignatureAlgorithm><tas:algorithm>1.2.840.113549.1.1.11</tas:algorithm></tas:SignatureAlgorithm>"
    );
    let self_id = field(
        &m.tas(&mut ks, "CreateSelfSignedCertificate", &self_signed)
            .expect("self"),
        "CertificateID",
    );

    let path = |ids: &[&str]| {
        let ids: String = ids
            .iter()
            .map(|id| format!("<tas:CertificateID>{id}</tas:CertificateID>"))
            .collect();
        format!("<tas:CertificateIDs>{ids}</tas:CertificateIDs><tas:Alias>p</tas:Alias>")
    };
    let path_id = field(
        &m.tas(
            &mut ks,
            "CreateCertificationPath",
            &path(&[&leaf_id, &ca_id]),
        )
        .expect("path"),
        "CertificationPathID",
    );
    let self_path = field(
        &m.tas(&mut ks, "CreateCertificationPath", &path(&[&self_id]))
            .expect("path"),
        "CertificationPathID",
    );
    m.tas(
        &mut ks,
        "GetCertificationPath",
        &format!("<tas:CertificationPathID>{path_id}</tas:CertificationPathID>"),
    )
    .expect("get");
    m.tas(&mut ks, "GetAllCertificationPaths", "").expect("all");
    m.tas(
        &mut ks,
        "AddServerCertificateAssignment",
        &format!("<tas:CertificationPathID>{self_path}</tas:CertificationPathID>"),
    )
    .expect("assign");
    m.tas(
        &mut ks,
        "ReplaceServerCertificateAssignment",
        &format!("<tas:OldCertificationPathID>{self_path}</tas:OldCertificationPathID><tas:NewCertificationPathID>{path_id}</tas:NewCertificationPathID>"),
    )
    .expect("replace");
    assert_eq!(
        ks.assigned_server_identity().expect("assigned").chain_der[0],
        leaf.der().to_vec()
    );
    m.tas(&mut ks, "GetAssignedServerCertificates", "")
        .expect("assigned");
    m.tas(
        &mut ks,
        "RemoveServerCertificateAssignment",
        &format!("<tas:CertificationPathID>{path_id}</tas:CertificationPathID>"),
    )
    .expect("remove");
    m.tas(
        &mut ks,
        "DeleteCertificationPath",
        &format!("<tas:CertificationPathID>{self_path}</tas:CertificationPathID>"),
    )
    .expect("delete path");
    m.tas(
        &mut ks,
        "DeleteCertificate",
        &format!("<tas:CertificateID>{self_id}</tas:CertificateID>"),
    )
    .expect("delete cert");
    let other_key = field(
        &m.tas(
            &mut ks,
            "CreateRSAKeyPair",
            "<tas:KeyLength>2048</tas:KeyLength>",
        )
        .expect("key"),
        "KeyID",
    );
    m.tas(
        &mut ks,
        "DeleteKey",
        &format!("<tas:KeyID>{other_key}</tas:KeyID>"),
    )
    .expect("delete key");
    m.validate();
}

#[test]
fn media2_messages_are_schema_valid() {
    let mut m = Messages::new();
    let mut media = MediaState::default();
    m.tr2(&mut media, "GetServiceCapabilities", "");
    m.tr2(&mut media, "GetProfiles", "");
    m.tr2(&mut media, "GetProfiles", "<tr2:Type>All</tr2:Type>");
    m.tr2(&mut media, "GetProfiles", "<tr2:Token>profile_2</tr2:Token><tr2:Type>VideoEncoder</tr2:Type><tr2:Type>AudioEncoder</tr2:Type>");
    for protocol in [
        "RtspUnicast",
        "RtspMulticast",
        "RTSP",
        "RtspOverHttp",
        "RTSPS",
    ] {
        m.tr2(&mut media, "GetStreamUri", &format!("<tr2:Protocol>{protocol}</tr2:Protocol><tr2:ProfileToken>profile_1</tr2:ProfileToken>"));
    }
    m.tr2(
        &mut media,
        "GetSnapshotUri",
        "<tr2:ProfileToken>profile_1</tr2:ProfileToken>",
    );
    m.tr2(&mut media, "GetVideoEncoderConfigurations", "");
    m.tr2(
        &mut media,
        "GetVideoEncoderConfigurations",
        "<tr2:ProfileToken>profile_1</tr2:ProfileToken>",
    );
    m.tr2(
        &mut media,
        "GetAudioEncoderConfigurations",
        "<tr2:ConfigurationToken>aec_2</tr2:ConfigurationToken>",
    );
    m.tr2(
        &mut media,
        "SetVideoEncoderConfiguration",
        "<tr2:Configuration token=\"vec_1\" GovLength=\"50\"><tt:Name>Main</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>\
         <tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>\
         <tt:RateControl ConstantBitRate=\"false\"><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>\
         <tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>239.0.0.1</tt:IPv4Address></tt:Address>\
         <tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:Quality>5</tt:Quality></tr2:Configuration>",
    );
    m.tr2(
        &mut media,
        "SetAudioEncoderConfiguration",
        "<tr2:Configuration token=\"aec_1\"><tt:Name>A</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>MP4A-LATM</tt:Encoding>\
         <tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>239.0.0.1</tt:IPv4Address></tt:Address>\
         <tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>\
         <tt:Bitrate>64</tt:Bitrate><tt:SampleRate>16</tt:SampleRate></tr2:Configuration>",
    );
    m.tr2(
        &mut media,
        "RemoveConfiguration",
        "<tr2:ProfileToken>profile_1</tr2:ProfileToken><tr2:Configuration><tr2:Type>AudioEncoder</tr2:Type></tr2:Configuration>",
    );
    m.tr2(
        &mut media,
        "AddConfiguration",
        "<tr2:ProfileToken>profile_1</tr2:ProfileToken><tr2:Configuration><tr2:Type>AudioEncoder</tr2:Type><tr2:Token>aec_1</tr2:Token></tr2:Configuration>",
    );
    m.tr2(&mut media, "GetProfiles", "<tr2:Type>All</tr2:Type>");
    m.validate();
}

/// A CA and a leaf it signs for `leaf_key`, both DER.
fn ca_and_leaf(leaf_key: &KeyPair) -> (Vec<u8>, Vec<u8>) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "PKCS12 Test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_der = ca_params.self_signed(&ca_key).expect("CA").der().to_vec();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf_params =
        CertificateParams::new(vec!["camera.local".to_string()]).expect("leaf params");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "camera.local");
    let leaf = leaf_params.signed_by(leaf_key, &issuer).expect("leaf");
    (leaf.der().to_vec(), ca_der)
}

/// A PKCS#12 file holding `key` with `certs` (first one the key's), sealed with `passphrase`.
fn pkcs12(key: &KeyPair, certs: &[&[u8]], passphrase: &str) -> Vec<u8> {
    let chain = certs
        .iter()
        .map(|der| p12_keystore::Certificate::from_der(der).expect("certificate"))
        .collect::<Vec<_>>();
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "id",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
            "id",
            p12_keystore::PrivateKey::from_der(&key.serialize_der()).expect("key"),
            chain,
        )),
    );
    store.writer(passphrase).write().expect("PKCS#12")
}

fn subcodes(fault: SimFault) -> Vec<String> {
    fault.subcodes.iter().map(|s| s.to_string()).collect()
}

#[test]
fn pkcs12_upload_and_dot1x_are_real_and_schema_valid() {
    let mut m = Messages::new();
    let mut ks = Keystore::default();
    let caps = m.tas(&mut ks, "GetServiceCapabilities", "").expect("caps");
    assert!(
        caps.contains("Dot1XCapabilities") && caps.contains("EAP-TLS"),
        "{caps}"
    );

    let key = KeyPair::generate().expect("leaf key");
    let (leaf, ca) = ca_and_leaf(&key);
    let upload = |p12: &[u8], pass: &str| {
        format!(
            "<tas:CertWithPrivateKey>{}</tas:CertWithPrivateKey>\
             <tas:CertificationPathAlias>camward</tas:CertificationPathAlias>\
             <tas:KeyAlias>camward</tas:KeyAlias>\
             <tas:IgnoreAdditionalCertificates>false</tas:IgnoreAdditionalCertificates>\
             <tas:Passphrase>{pass}</tas:Passphrase>",
            b64(p12)
        )
    };
    let p12 = pkcs12(&key, &[&leaf, &ca], "one-time-Pass");
    // A wrong passphrase opens nothing.
    let wrong = m
        .tas(
            &mut ks,
            "UploadCertificateWithPrivateKeyInPKCS12",
            &upload(&p12, "wrong"),
        )
        .unwrap_err();
    assert_eq!(subcodes(wrong), ["InvalidArgVal", "DecryptionFailed"]);
    // A certificate that is not the key's.
    let other = KeyPair::generate().expect("other key");
    let (foreign_leaf, _) = ca_and_leaf(&other);
    let mismatched = m
        .tas(
            &mut ks,
            "UploadCertificateWithPrivateKeyInPKCS12",
            &upload(&pkcs12(&key, &[&foreign_leaf], "x"), "x"),
        )
        .unwrap_err();
    assert_eq!(
        subcodes(mismatched),
        ["InvalidArgVal", "NoMatchingPrivateKey"]
    );

    let reply = m
        .tas(
            &mut ks,
            "UploadCertificateWithPrivateKeyInPKCS12",
            &upload(&p12, "one-time-Pass"),
        )
        .expect("uploaded");
    let path_id = field(&reply, "CertificationPathID");
    m.tas(
        &mut ks,
        "AddServerCertificateAssignment",
        &format!("<tas:CertificationPathID>{path_id}</tas:CertificationPathID>"),
    )
    .expect("assigned");
    let served = ks.assigned_server_identity().expect("served");
    assert_eq!(served.chain_der, vec![leaf.clone(), ca.clone()]);
    assert_eq!(served.key_pkcs8_der, key.serialize_der());

    // 802.1X: the RADIUS server's CA as a validation policy, the client certificate as a path.
    let (radius_ca, _) = {
        let k = KeyPair::generate().expect("k");
        let (_, ca) = ca_and_leaf(&k);
        (ca, ())
    };
    let radius_ca_id = field(
        &m.tas(
            &mut ks,
            "UploadCertificate",
            &format!(
                "<tas:Certificate>{}</tas:Certificate><tas:Alias>radius-ca</tas:Alias>\
                 <tas:PrivateKeyRequired>false</tas:PrivateKeyRequired>",
                b64(&radius_ca)
            ),
        )
        .expect("RADIUS CA"),
        "CertificateID",
    );
    let policy = field(
        &m.tas(
            &mut ks,
            "CreateCertPathValidationPolicy",
            &format!(
                "<tas:Alias>radius</tas:Alias><tas:Parameters/>\
                 <tas:TrustAnchor><tas:CertificateID>{radius_ca_id}</tas:CertificateID></tas:TrustAnchor>"
            ),
        )
        .expect("policy"),
        "CertPathValidationPolicyID",
    );
    let config = |path: &str, policy: &str| {
        format!(
            "<tas:Dot1XConfiguration><tas:Alias>site</tas:Alias>\
             <tas:Outer Method=\"EAP-TLS\" CertPathValidationPolicyID=\"{policy}\">\
             <tas:Identity>camera.local</tas:Identity><tas:CertificationPathID>{path}</tas:CertificationPathID>\
             </tas:Outer></tas:Dot1XConfiguration>"
        )
    };
    let unknown = m
        .tas(&mut ks, "AddDot1XConfiguration", &config("nopath", &policy))
        .unwrap_err();
    assert_eq!(subcodes(unknown), ["InvalidArgVal", "CertificationPathID"]);
    let no_policy = m
        .tas(
            &mut ks,
            "AddDot1XConfiguration",
            &config(&path_id, "nopolicy"),
        )
        .unwrap_err();
    assert_eq!(
        subcodes(no_policy),
        ["InvalidArgVal", "CertPathValidationPolicyID"]
    );
    let md5 = m
        .tas(
            &mut ks,
            "AddDot1XConfiguration",
            "<tas:Dot1XConfiguration><tas:Outer Method=\"EAP-MD5\"/></tas:Dot1XConfiguration>",
        )
        .unwrap_err();
    assert_eq!(subcodes(md5), ["InvalidArgVal", "Dot1XMethodNotSupported"]);
    let dot1x_id = field(
        &m.tas(&mut ks, "AddDot1XConfiguration", &config(&path_id, &policy))
            .expect("added"),
        "Dot1XID",
    );
    let none = m
        .tas(
            &mut ks,
            "GetNetworkInterfaceDot1XConfiguration",
            "<tas:token>eth0</tas:token>",
        )
        .expect("read");
    assert!(!none.contains("Dot1XID"), "{none}");
    m.tas(
        &mut ks,
        "SetNetworkInterfaceDot1XConfiguration",
        &format!("<tas:token>eth0</tas:token><tas:Dot1XID>{dot1x_id}</tas:Dot1XID>"),
    )
    .expect("set");
    let on = m
        .tas(
            &mut ks,
            "GetNetworkInterfaceDot1XConfiguration",
            "<tas:token>eth0</tas:token>",
        )
        .expect("read");
    assert_eq!(field(&on, "Dot1XID"), dot1x_id);
    let all = m
        .tas(&mut ks, "GetAllDot1XConfigurations", "")
        .expect("all");
    assert!(all.contains("EAP-TLS") && all.contains(&policy), "{all}");
    m.tas(
        &mut ks,
        "GetDot1XConfiguration",
        &format!("<tas:Dot1XID>{dot1x_id}</tas:Dot1XID>"),
    )
    .expect("one");
    let in_use = m
        .tas(
            &mut ks,
            "DeleteDot1XConfiguration",
            &format!("<tas:Dot1XID>{dot1x_id}</tas:Dot1XID>"),
        )
        .unwrap_err();
    assert_eq!(subcodes(in_use), ["Action", "ReferenceExists"]);
    let (method, chain) = ks.dot1x_on("eth0").expect("assigned");
    assert_eq!(
        (method.as_str(), chain[0].as_slice()),
        ("EAP-TLS", leaf.as_slice())
    );
    m.tas(
        &mut ks,
        "DeleteNetworkInterfaceDot1XConfiguration",
        "<tas:token>eth0</tas:token>",
    )
    .expect("removed");
    m.tas(
        &mut ks,
        "DeleteDot1XConfiguration",
        &format!("<tas:Dot1XID>{dot1x_id}</tas:Dot1XID>"),
    )
    .expect("deleted");

    // A model without a supplicant answers as its firmware does.
    ks.set_dot1x_supported(false);
    let caps = m.tas(&mut ks, "GetServiceCapabilities", "").expect("caps");
    assert!(!caps.contains("Dot1X"), "{caps}");
    let refused = m.tas(&mut ks, "GetAllDot1XConfigurations", "").unwrap_err();
    assert_eq!(subcodes(refused), ["ActionNotSupported"]);
    m.validate();
}
