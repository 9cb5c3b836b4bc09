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
