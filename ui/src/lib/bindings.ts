// GENERATED from src-tauri/src/ipc.rs by ts-rs. Do not edit: change the Rust types, then
// run `CAMWARD_WRITE_BINDINGS=1 cargo test -p camward-desktop bindings`.
// The test `bindings_are_current` fails while this file is stale.

export type CoreError = { 
/**
 * Stable machine-readable code (e.g. `unreachable`, `not_authorized`, `no_password`).
 */
code: string, 
/**
 * One line a person can act on.
 */
message: string, 
/**
 * Which camera (its URL or inventory name).
 */
camera: string, 
/**
 * Which step it happened at (e.g. `GetSystemDateAndTime`).
 */
step: string, };

export type ServiceEntry = { 
/**
 * The service's namespace URI.
 */
namespace: string, 
/**
 * A short name (`device`, `media2`, …).
 */
name: string, 
/**
 * Where it answers.
 */
xaddr: string, 
/**
 * Its version.
 */
version: string, };

export type ProbeReport = { 
/**
 * The device service URL.
 */
url: string, 
/**
 * Manufacturer, when disclosed.
 */
manufacturer: string | null, 
/**
 * Model, when disclosed.
 */
model: string | null, 
/**
 * Firmware version, when disclosed.
 */
firmware: string | null, 
/**
 * Serial number, when disclosed.
 */
serial: string | null, 
/**
 * Camera clock minus this computer's clock, in seconds.
 */
clock_offset_s: number, 
/**
 * The camera's clock (RFC 3339), when read.
 */
camera_time: string | null, 
/**
 * `Manual` or `NTP`.
 */
time_mode: string, 
/**
 * The services the camera lists.
 */
services: Array<ServiceEntry>, 
/**
 * True when the camera answered GetDeviceInformation without credentials.
 */
anonymous_access: boolean, };

export type Interface = { 
/**
 * OS name (`eth0`, `enp3s0`, …).
 */
name: string, 
/**
 * Its IPv4 addresses (may be empty: up, but no address yet).
 */
addresses: Array<string>, 
/**
 * True for loopback.
 */
loopback: boolean, };

export type Method = "ws-discovery" | "mdns" | "link-local" | "easy-ip" | "sadp";

export type FoundCamera = { 
/**
 * Its IPv4 addresses.
 */
ips: Array<string>, 
/**
 * URLs to reach it: ONVIF device service first, then web pages.
 */
addresses: Array<string>, 
/**
 * The WS-Discovery endpoint reference, when it answered WS-Discovery.
 */
endpoint: string | null, 
/**
 * Manufacturer.
 */
vendor: string | null, 
/**
 * Model.
 */
model: string | null, 
/**
 * A friendly name.
 */
name: string | null, 
/**
 * MAC address.
 */
mac: string | null, 
/**
 * Serial number.
 */
serial: string | null, 
/**
 * Firmware version.
 */
firmware: string | null, 
/**
 * True when a method says it is in its factory state.
 */
factory_fresh: boolean, 
/**
 * Methods that saw it (empty for a camera identified directly at its address, as in demo).
 */
methods: Array<Method>, 
/**
 * Interfaces it was seen on.
 */
interfaces: Array<string>, 
/**
 * When it was first seen (RFC 3339).
 */
first_seen: string, 
/**
 * When it was last seen (RFC 3339).
 */
last_seen: string, };

export type DiscoveryWarning = { 
/**
 * The interface.
 */
interface: string, 
/**
 * The method.
 */
method: Method, 
/**
 * A stable code (`no_link_local_address`, `no_ipv4_address`, `no_raw_socket`, …).
 */
code: string, 
/**
 * What happened and the fix.
 */
message: string, };

export type DiscoveryEvent = { "event": "found", 
/**
 * The camera.
 */
camera: FoundCamera, } | { "event": "updated", 
/**
 * The camera, merged.
 */
camera: FoundCamera, } | { "event": "gone", 
/**
 * The camera as it was.
 */
camera: FoundCamera, } | { "event": "warning" } & DiscoveryWarning | { "event": "sweep", 
/**
 * ARP requests sent.
 */
sent: number, 
/**
 * ARP requests the sweep sends in all.
 */
total: number, 
/**
 * Live hosts found.
 */
hosts: number, };

export type Discovery = { 
/**
 * The cameras, sorted by address.
 */
cameras: Array<FoundCamera>, 
/**
 * Methods that could not run (fully), with the fix.
 */
warnings: Array<DiscoveryWarning>, 
/**
 * True when the scan was stopped before every method was done.
 */
cancelled: boolean, };

export type Level = "entry" | "standard" | "advanced";

export type Status = "pass" | "fail" | "manual-needed" | "not-applicable" | "unknown";

export type Finding = { 
/**
 * The catalog id.
 */
control: string, 
/**
 * The control's title from the catalog (empty for an id the catalog does not know).
 */
title: string, 
/**
 * The outcome.
 */
status: Status, 
/**
 * What Camward saw, in words a person can check.
 */
evidence: string, 
/**
 * What to do when it is not a pass.
 */
fix: string | null, };

export type Scorecard = { 
/**
 * The camera's device service URL.
 */
camera: string, 
/**
 * Manufacturer and model, when read.
 */
model: string | null, 
/**
 * Serial number, when read.
 */
serial: string | null, 
/**
 * The level audited.
 */
level: Level, 
/**
 * One per control of the level, in the catalog's order.
 */
findings: Array<Finding>, 
/**
 * Passes over the controls that apply, as a percentage.
 */
score: number, };

export type AuditDepth = "logged_in" | "without_credentials";

export type CameraAudit = { 
/**
 * The camera as selected (its device service URL).
 */
camera: string, 
/**
 * Its scorecard, when the audit ran.
 */
scorecard: Scorecard | null, 
/**
 * How far the audit got (`null` when it failed).
 */
depth: AuditDepth | null, 
/**
 * True when the camera has no administrator yet (first boot still to do).
 */
factory_fresh: boolean, 
/**
 * Why there is no scorecard, or why it is partial.
 */
error: CoreError | null, };

export type SimulatedCamera = { 
/**
 * camsim's id.
 */
id: string, 
/**
 * Its ONVIF device service URL.
 */
device_url: string, 
/**
 * Its HTTPS device service URL, when it serves HTTPS.
 */
https_url: string | null, 
/**
 * Its MAC address.
 */
mac: string, 
/**
 * Its serial number.
 */
serial: string, 
/**
 * camsim's flavour name.
 */
flavour: string, 
/**
 * The manufacturer it reports.
 */
manufacturer: string, 
/**
 * The model it reports.
 */
model: string, 
/**
 * The firmware it reports.
 */
firmware: string, };

export type PasswordReason = { 
/**
 * Stable code of the rule (`too_short`, `no_upper_case`, `guessable`, …).
 */
code: string, 
/**
 * What is wrong and what to do, for a person.
 */
message: string, };

export type PasswordVerdict = { 
/**
 * zxcvbn score 0–4.
 */
score: number, 
/**
 * True when no rule is broken.
 */
accepted: boolean, 
/**
 * Every rule it breaks.
 */
reasons: Array<PasswordReason>, };

export type SiteService = "http" | "https" | "rtsp" | "ftp" | "snmp" | "upnp" | "ws-discovery" | "mdns" | "easy-ip" | "autoip" | "rtp-multicast";

export type CertificateRoute = "site-ca" | "csr-export" | "import" | "self-signed-test";

export type PlanDraft = { 
/**
 * The site's name.
 */
site: string, 
/**
 * The protection level.
 */
level: Level, 
/**
 * NTP servers (addresses or host names).
 */
ntp: Array<string>, 
/**
 * Hosts allowed to reach the cameras (CIDR or addresses).
 */
allowed_hosts: Array<string>, 
/**
 * Services the site keeps.
 */
services: Array<SiteService>, 
/**
 * HTTP port, when moved.
 */
http_port: number | null, 
/**
 * HTTPS port, when moved.
 */
https_port: number | null, 
/**
 * RTSP port, when moved.
 */
rtsp_port: number | null, 
/**
 * How certificates are obtained.
 */
certificates: CertificateRoute | null, 
/**
 * Controls left out.
 */
skip: Array<string>, };

export type LaptopAddress = { 
/**
 * The camera's device service URL.
 */
camera: string, 
/**
 * This computer's address on the path to it, when known.
 */
address: string | null, };

export type HostGuard = { 
/**
 * The camera's device service URL.
 */
camera: string, 
/**
 * This computer's address toward it, when known.
 */
laptop: string | null, 
/**
 * Why the allow-list would be refused for it; `null` when it keeps this computer in.
 */
refused: string | null, };

export type NtpCheck = { 
/**
 * The server.
 */
server: string, 
/**
 * Its clock minus this computer's, in seconds, when it answered.
 */
offset_s: number | null, 
/**
 * Why it did not answer.
 */
error: string | null, };

export type Outcome = { "outcome": "already-hardened" } | { "outcome": "would-change", 
/**
 * The change.
 */
change: string, } | { "outcome": "applied", 
/**
 * The change.
 */
change: string, } | { "outcome": "guided", 
/**
 * What to do, and where.
 */
step: string, } | { "outcome": "refused", 
/**
 * Why.
 */
reason: string, } | { "outcome": "failed", 
/**
 * Stable error code.
 */
code: string, 
/**
 * The error.
 */
message: string, } | { "outcome": "skipped", 
/**
 * Why.
 */
reason: string, } | { "outcome": "stopped" };

export type ControlStep = { 
/**
 * The catalog id.
 */
control: string, 
/**
 * The control's title from the catalog.
 */
title: string, 
/**
 * The status before.
 */
before: Status, 
/**
 * What was (or would be) done.
 */
outcome: Outcome, };

export type CameraCommission = { 
/**
 * The device service URL.
 */
camera: string, 
/**
 * The first administrator, when this run created it or waits for a person to.
 */
first_admin: string | null, 
/**
 * The first administrator waits for a person (a guided first boot), since this run or an
 * earlier one; the manual steps list it from this.
 */
awaiting_person: boolean, 
/**
 * The scorecard before.
 */
before: Scorecard | null, 
/**
 * Every control's step, in the catalog order.
 */
steps: Array<ControlStep>, 
/**
 * The scorecard after (the proof); absent in a dry run.
 */
after: Scorecard | null, };

export type CommissionResult = { 
/**
 * The camera as selected.
 */
camera: string, 
/**
 * What was done, when it ran.
 */
commission: CameraCommission | null, 
/**
 * Why it stopped (`cancelled` when stopped before it started).
 */
error: CoreError | null, };

export type CommissionEvent = { "event": "camera_started", 
/**
 * The camera.
 */
camera: string, } | { "event": "step", 
/**
 * The camera.
 */
camera: string, 
/**
 * The step.
 */
step: ControlStep, } | { "event": "camera_done", 
/**
 * The camera.
 */
camera: string, 
/**
 * Score after, in percent.
 */
score: number | null, 
/**
 * Why it stopped, if it did.
 */
error: string | null, };

export type SavedReport = { 
/**
 * The file written.
 */
path: string, 
/**
 * Cameras in the report.
 */
cameras: number, };

export type SiteCaInfo = { 
/**
 * The site.
 */
site: string, 
/**
 * Where its certificate is (or will be) kept.
 */
path: string, 
/**
 * False when it will be created on first use.
 */
exists: boolean, 
/**
 * Its subject, when it exists.
 */
subject: string | null, 
/**
 * SHA-256 of its certificate, hex.
 */
sha256: string | null, 
/**
 * End of its validity (RFC 3339).
 */
not_after: string | null, };

export type CheckedSummary = { 
/**
 * The key (`RSA 2048 bits`).
 */
key: string, 
/**
 * Start of validity (RFC 3339).
 */
not_before: string, 
/**
 * The camera's clock at the check (RFC 3339).
 */
camera_time: string, 
/**
 * The CA the chain leads to.
 */
chain_to: string, };

export type Enrolled = { 
/**
 * The device service URL.
 */
camera: string, 
/**
 * The names it covers.
 */
names: Array<string>, 
/**
 * SHA-256 of the certificate the camera presents, hex.
 */
sha256: string, 
/**
 * End of its validity (RFC 3339).
 */
not_after: string, 
/**
 * Whether it replaced one the camera served before.
 */
replaced: boolean, 
/**
 * The checks before upload.
 */
checks: CheckedSummary, };

export type CertificateCheck = { 
/**
 * `names`, `key`, `validity`, `chain` or `served`.
 */
check: string, 
/**
 * `pass`, `fail` or `not_run`.
 */
result: string, 
/**
 * What it saw.
 */
detail: string, };

export type CameraCertificate = { 
/**
 * The device service URL.
 */
camera: string, 
/**
 * Whether Camward created its administrator first.
 */
admin_created: boolean, 
/**
 * What it presents now.
 */
enrolled: Enrolled | null, 
/**
 * The checks' results.
 */
checks: Array<CertificateCheck>, 
/**
 * Why it stopped.
 */
error: CoreError | null, };

export type CertificateEvent = { "event": "started", 
/**
 * The camera.
 */
camera: string, } | { "event": "finished", 
/**
 * The camera.
 */
camera: string, 
/**
 * Whether it presents its new certificate.
 */
ok: boolean, };

export type ExportedCsr = { 
/**
 * The camera.
 */
camera: string, 
/**
 * The CSR file.
 */
file: string, 
/**
 * The names it asks for.
 */
names: Array<string>, };

export type CsrExport = { 
/**
 * The folder.
 */
dir: string, 
/**
 * One per camera.
 */
csrs: Array<ExportedCsr>, 
/**
 * Why the others did not.
 */
errors: Array<CoreError>, };

export type UnusedFile = { 
/**
 * The file.
 */
file: string, 
/**
 * Why.
 */
reason: string, };

export type IssuedImport = { 
/**
 * One result per camera a certificate was found for.
 */
cameras: Array<CameraCertificate>, 
/**
 * Files that matched no camera.
 */
unmatched: Array<UnusedFile>, 
/**
 * Cameras no certificate was found for.
 */
missing: Array<string>, };

export type CredentialState = "current" | "pending" | "awaiting_retirement" | "none";

export type InventoryCamera = { 
/**
 * The inventory key.
 */
camera: string, 
/**
 * The device service URL it was last reached at.
 */
url: string | null, 
/**
 * Manufacturer.
 */
manufacturer: string | null, 
/**
 * Model.
 */
model: string | null, 
/**
 * Serial number.
 */
serial: string | null, 
/**
 * MAC address.
 */
mac: string | null, 
/**
 * Firmware version.
 */
firmware: string | null, 
/**
 * When the newest audit or commissioning result was kept (RFC 3339).
 */
last_audit_at: string | null, 
/**
 * Its score in percent.
 */
last_audit_score: number | null, 
/**
 * The level it was taken at.
 */
last_audit_level: string | null, 
/**
 * When the served certificate expires (RFC 3339).
 */
certificate_not_after: string | null, 
/**
 * Whole days until then (negative once expired).
 */
certificate_days_left: number | null, 
/**
 * The administrator account Camward logs in as.
 */
admin: string | null, 
/**
 * Where its password stands.
 */
credential_state: CredentialState, 
/**
 * When the current password was set (RFC 3339).
 */
credential_set_at: string | null, 
/**
 * Whole days since then.
 */
credential_age_days: number | null, 
/**
 * When the camera was decommissioned, if it was.
 */
decommissioned_at: string | null, };

export type FirstBootMethod = "onvif" | "axis" | "hikvision" | "guided";

export type DemoAdmin = { 
/**
 * The camera's device service URL.
 */
url: string, 
/**
 * The inventory key, once created.
 */
camera: string | null, 
/**
 * The administrator created.
 */
user: string | null, 
/**
 * How it was created.
 */
method: FirstBootMethod | null, 
/**
 * The camera's first-access page, when a person still has to create the administrator there.
 */
awaiting_person_at: string | null, 
/**
 * Why it failed.
 */
error: CoreError | null, };

export type RotationStep = "logged_in" | "pending_stored" | "password_sent" | "new_password_verified" | "old_password_refused" | "promoted";

export type RotationResult = "rotated" | "completed" | "rolled_back" | "abandoned" | "still_factory_fresh" | "retired" | "awaiting_person";

export type RotationOutcome = { 
/**
 * The camera (inventory key).
 */
camera: string, 
/**
 * The user whose password changed.
 */
user: string, 
/**
 * What happened (`null` on error).
 */
result: RotationResult | null, 
/**
 * Why it failed.
 */
error: CoreError | null, };

export type RotationEvent = { "event": "started", 
/**
 * The camera (inventory key).
 */
camera: string, 
/**
 * The user.
 */
user: string, } | { "event": "step", 
/**
 * The camera (inventory key).
 */
camera: string, 
/**
 * The step.
 */
step: RotationStep, } | { "event": "finished", 
/**
 * Its outcome.
 */
outcome: RotationOutcome, };

export type Interrupted = { 
/**
 * The camera (inventory key).
 */
camera: string, 
/**
 * The user.
 */
user: string, 
/**
 * `pending` or `promoted`.
 */
phase: string, };

export type RevealedPassword = { 
/**
 * The camera (as asked for).
 */
camera: string, 
/**
 * The user.
 */
user: string, 
/**
 * The password.
 */
password: string, };

export type CertificateToRevoke = { 
/**
 * SHA-256 fingerprint.
 */
sha256_fingerprint: string, 
/**
 * Its `notAfter` (RFC 3339).
 */
not_after: string | null, 
/**
 * What to do.
 */
action: string, };

export type DecommissionPlan = { 
/**
 * The camera's inventory key.
 */
camera: string, 
/**
 * Its device service URL.
 */
url: string, 
/**
 * Manufacturer.
 */
manufacturer: string | null, 
/**
 * Model.
 */
model: string | null, 
/**
 * Serial number.
 */
serial: string | null, 
/**
 * Firmware.
 */
firmware: string | null, 
/**
 * MAC address.
 */
mac: string | null, 
/**
 * Accounts on the camera now.
 */
camera_users: Array<string>, 
/**
 * Accounts whose keychain entries will be retired.
 */
credentials: Array<string>, 
/**
 * The certificate that will be retired.
 */
certificate: CertificateToRevoke | null, };

export type DecommissionEvent = { "event": "final_state_recorded" } | { "event": "reset_sent", 
/**
 * The call.
 */
via: string, } | { "event": "waiting", 
/**
 * Seconds waited so far.
 */
waited_s: number, } | { "event": "factory_state_seen", 
/**
 * Where.
 */
address: string, } | { "event": "credentials_retired", 
/**
 * Their user names.
 */
users: Array<string>, } | { "event": "recorded" };

export type ResetDone = { 
/**
 * `hard` or `soft`.
 */
kind: string, 
/**
 * The call that asked for it.
 */
via: string, 
/**
 * Whether the network settings were kept.
 */
network_kept: boolean, };

export type DisposalResult = { "status": "proven" } | { "status": "not_proven", 
/**
 * The error's code.
 */
code: string, 
/**
 * Its message.
 */
message: string, };

export type Proof = { 
/**
 * What showed the factory state.
 */
factory_state: string, 
/**
 * Where the camera answered.
 */
address: string, 
/**
 * How it was found (`same-address`, or discovery methods).
 */
found_by: Array<string>, 
/**
 * Whether that address is link-local.
 */
link_local: boolean, 
/**
 * How it was matched to the camera that was reset.
 */
matched_by: string, 
/**
 * The users seen after the reset.
 */
users: string, 
/**
 * When (RFC 3339).
 */
seen_at: string, };

export type DisposalRecord = { 
/**
 * The inventory key.
 */
camera: string, 
/**
 * Its device service URL.
 */
url: string, 
/**
 * Manufacturer.
 */
manufacturer: string | null, 
/**
 * Model.
 */
model: string | null, 
/**
 * Serial number.
 */
serial: string | null, 
/**
 * Firmware.
 */
firmware: string | null, 
/**
 * MAC address.
 */
mac: string | null, 
/**
 * Who decommissioned it (the OS user).
 */
decommissioned_by: string, 
/**
 * When it began (RFC 3339).
 */
started_at: string, 
/**
 * When it ended.
 */
finished_at: string, 
/**
 * The reset.
 */
reset: ResetDone, 
/**
 * Proven or not.
 */
result: DisposalResult, 
/**
 * The proof, when proven.
 */
proof: Proof | null, 
/**
 * Keychain entries deleted.
 */
credentials_retired: Array<string>, 
/**
 * Keychain entries kept (reset not proven).
 */
credentials_kept: Array<string>, 
/**
 * The certificate to revoke.
 */
certificate_to_revoke: CertificateToRevoke | null, 
/**
 * What a person still does.
 */
checklist: Array<string>, };

export type RecordFormat = "html" | "json";

export type SavedRecord = { 
/**
 * The file's absolute path.
 */
path: string, 
/**
 * The format.
 */
format: RecordFormat, };
