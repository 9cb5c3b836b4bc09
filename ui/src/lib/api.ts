// Typed wrappers around the Tauri commands of src-tauri/src/main.rs. This is the only file that
// calls `invoke`. The types come from `bindings.ts`, which is generated from the Rust IPC types
// (src-tauri/src/ipc.rs) and checked by a Rust test; another Rust test checks that every command
// named here is one the shell registers.
import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  CameraAudit,
  CoreError,
  Discovery,
  DiscoveryEvent,
  Interface,
  Level,
  ProbeReport,
  SimulatedCamera,
} from "./bindings";

export type * from "./bindings";

function isCoreError(value: unknown): value is CoreError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>).code === "string" &&
    typeof (value as Record<string, unknown>).message === "string"
  );
}

/**
 * Calls a command and turns every rejection into a `CoreError`, so callers handle one shape.
 * A rejection that is not a `CoreError` comes from the IPC layer itself (e.g. an unknown command).
 */
async function call<T>(command: string, args: Record<string, unknown>, camera = ""): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error: unknown) {
    if (isCoreError(error)) {
      throw error;
    }
    const ipcError: CoreError = {
      code: "ipc",
      message: typeof error === "string" ? error : String(error),
      camera,
      step: command,
    };
    throw ipcError;
  }
}

/** Asks the camera at `url` what it tells without credentials. Rejects with a `CoreError`. */
export function probeCamera(url: string): Promise<ProbeReport> {
  return call<ProbeReport>("probe_camera", { url }, url);
}

/** The simulated cameras of `--demo`; empty on a real site. Rejects with a `CoreError`. */
export function demoCameras(): Promise<SimulatedCamera[]> {
  return call<SimulatedCamera[]>("demo_cameras", {});
}

/** Starts the simulated site (or returns the running one's cameras). */
export function startDemo(): Promise<SimulatedCamera[]> {
  return call<SimulatedCamera[]>("start_demo", {});
}

/** This computer's network interfaces. */
export function listInterfaces(): Promise<Interface[]> {
  return call<Interface[]>("list_interfaces", {});
}

function channel(onEvent: (event: DiscoveryEvent) => void): Channel<DiscoveryEvent> {
  const events = new Channel<DiscoveryEvent>();
  events.onmessage = onEvent;
  return events;
}

/**
 * Scans the named interfaces (empty: every non-loopback one) with every method. `onEvent` hears
 * each change of the live list; the promise resolves with the whole list when the scan is over.
 */
export function discoverCameras(
  interfaces: string[],
  onEvent: (event: DiscoveryEvent) => void,
): Promise<Discovery> {
  return call<Discovery>("discover_cameras", { interfaces, onEvent: channel(onEvent) });
}

/** Lists the simulated site's cameras, with the same events as a network scan. */
export function discoverDemo(onEvent: (event: DiscoveryEvent) => void): Promise<Discovery> {
  return call<Discovery>("discover_demo", { onEvent: channel(onEvent) });
}

/** Stops the running scan; what it found so far stays listed. */
export function stopDiscovery(): Promise<void> {
  return call<void>("stop_discovery", {});
}

/** Audits the cameras at `targets` (device service URLs) at `level`: one result per camera. */
export function auditCameras(targets: string[], level: Level): Promise<CameraAudit[]> {
  return call<CameraAudit[]>("audit_cameras", { targets, level });
}

export { isCoreError };

// ---- Commissioning journey (src-tauri/src/commission.rs) ----------------------------------------
import type {
  CommissionEvent,
  CommissionResult,
  HostGuard,
  LaptopAddress,
  NtpCheck,
  PasswordVerdict,
  PlanDraft,
  SavedReport,
} from "./bindings";

/** The policy's verdict on a typed administrator password; the password is not kept anywhere. */
export function checkAdminPassword(password: string, model: string | null): Promise<PasswordVerdict> {
  return call<PasswordVerdict>("check_admin_password", { password, model });
}

/** The site plan the screens start from at `level`. */
export function planDefaults(site: string, level: Level): Promise<PlanDraft> {
  return call<PlanDraft>("plan_defaults", { site, level });
}

/** This computer's own address toward each camera. */
export function laptopAddresses(targets: string[]): Promise<LaptopAddress[]> {
  return call<LaptopAddress[]>("laptop_addresses", { targets });
}

/** Checks the plan (rejects with a `plan_*` error naming the field) and the lock-out guard per camera. */
export function checkSitePlan(plan: PlanDraft, targets: string[]): Promise<HostGuard[]> {
  return call<HostGuard[]>("check_site_plan", { plan, targets });
}

/** Asks each NTP server over SNTP. */
export function checkNtpServers(servers: string[]): Promise<NtpCheck[]> {
  return call<NtpCheck[]>("check_ntp_servers", { servers });
}

/**
 * Commissions (or, with `dryRun`, only reviews) the cameras to the plan; `onEvent` hears each
 * camera's and control's progress. `password` null: a unique generated password per camera.
 */
export function commissionCameras(
  targets: string[],
  plan: PlanDraft,
  password: string | null,
  dryRun: boolean,
  onEvent: (event: CommissionEvent) => void,
): Promise<CommissionResult[]> {
  const events = new Channel<CommissionEvent>();
  events.onmessage = onEvent;
  return call<CommissionResult[]>("commission_cameras", {
    targets,
    plan,
    password,
    dryRun,
    onEvent: events,
  });
}

/** Stops the run after the control being applied; running again resumes. */
export function stopCommission(): Promise<void> {
  return call<void>("stop_commission", {});
}

/** The administrator's password of one camera, fetched once because the person asked. */
export function revealAdminPassword(camera: string): Promise<string> {
  return call<string>("reveal_admin_password", { camera }, camera);
}

/** "Verify" of a guided first administrator. */
export function confirmFirstAdmin(camera: string): Promise<void> {
  return call<void>("confirm_first_admin", { camera }, camera);
}

/** Opens the camera's page in the system browser. */
export function openCameraPage(url: string): Promise<void> {
  return call<void>("open_camera_page", { url }, url);
}

/** Where the report is saved unless the person types another path. */
export function suggestReportPath(site: string, pdf: boolean): Promise<string> {
  return call<string>("suggest_report_path", { site, pdf });
}

/** Opens a saved report with the system's viewer. */
export function openSavedReport(path: string): Promise<void> {
  return call<void>("open_saved_report", { path });
}

/** Writes the site's report as HTML or PDF. */
export function saveSiteReport(name: string, pdf: boolean, path: string): Promise<SavedReport> {
  return call<SavedReport>("save_site_report", { name, pdf, path });
}

// ------------------------------------------------------------------------------------------------
// Inventory view, rotate passwords, decommission (journeys 2 and 3; src-tauri/src/lifecycle.rs).
// ------------------------------------------------------------------------------------------------
import type {
  DecommissionEvent,
  DecommissionPlan,
  DemoAdmin,
  DisposalRecord,
  InventoryCamera,
  Interrupted,
  RecordFormat,
  RevealedPassword,
  RotationEvent,
  RotationOutcome,
  SavedRecord,
} from "./bindings";

/** Every camera of the inventory, with its newest score, certificate expiry and credential age. */
export function inventoryCameras(): Promise<InventoryCamera[]> {
  return call<InventoryCamera[]>("inventory_cameras", {});
}

/** Demo mode: gives each simulated camera its first administrator (guided ones are left to a person). */
export function giveDemoAdmins(): Promise<DemoAdmin[]> {
  return call<DemoAdmin[]>("give_demo_admins", {});
}

/** Rotates the administrator password of `cameras` (inventory keys); `onEvent` hears each step. */
export function rotatePasswords(
  cameras: string[],
  onEvent: (event: RotationEvent) => void,
): Promise<RotationOutcome[]> {
  const events = new Channel<RotationEvent>();
  events.onmessage = onEvent;
  return call<RotationOutcome[]>("rotate_passwords", { cameras, onEvent: events });
}

/** The changes an earlier run left unfinished. */
export function interruptedChanges(): Promise<Interrupted[]> {
  return call<Interrupted[]>("interrupted_changes", {});
}

/** Finishes every interrupted change; `onEvent` hears each credential start and finish. */
export function resumeRotation(onEvent: (event: RotationEvent) => void): Promise<RotationOutcome[]> {
  const events = new Channel<RotationEvent>();
  events.onmessage = onEvent;
  return call<RotationOutcome[]>("resume_rotation", { onEvent: events });
}

/** The current administrator password of `camera`, only because the person asked to see it. */
export function revealPassword(camera: string): Promise<RevealedPassword> {
  return call<RevealedPassword>("reveal_password", { camera }, camera);
}

/** What decommissioning `camera` will reset and retire. */
export function decommissionPlan(camera: string): Promise<DecommissionPlan> {
  return call<DecommissionPlan>("decommission_plan", { camera }, camera);
}

/** Resets `camera`, proves it, retires its secrets; `typedSerial` must match its serial number. */
export function decommissionCamera(
  camera: string,
  typedSerial: string,
  keepNetwork: boolean,
  onEvent: (event: DecommissionEvent) => void,
): Promise<DisposalRecord> {
  const events = new Channel<DecommissionEvent>();
  events.onmessage = onEvent;
  const args = { camera, typedSerial, keepNetwork, onEvent: events };
  return call<DisposalRecord>("decommission_camera", args, camera);
}

/** Saves this session's disposal record of `camera` in the records folder. */
export function saveDisposalRecord(camera: string, format: RecordFormat): Promise<SavedRecord> {
  return call<SavedRecord>("save_disposal_record", { camera, format }, camera);
}

// ---- The wizard's Certificates step (src-tauri/src/certificates.rs) ------------------------------
import type {
  CameraCertificate,
  CertificateEvent,
  CsrExport,
  IssuedImport,
  SiteCaInfo,
} from "./bindings";

/** The site CA of `name` kept by Camward (subject, SHA-256, expiry), or that it will be created. */
export function siteCa(name: string): Promise<SiteCaInfo> {
  return call<SiteCaInfo>("site_ca", { name });
}

/**
 * The site-CA route: the CA loaded (created when there is none) and a certificate issued to each
 * camera; a camera with no administrator gets one first (`password`: the typed one, or `null` to
 * generate a unique one per camera). `onEvent` hears each camera start and finish.
 */
export function enrolWithSiteCa(
  name: string,
  targets: string[],
  password: string | null,
  onEvent: (event: CertificateEvent) => void,
): Promise<CameraCertificate[]> {
  const events = new Channel<CertificateEvent>();
  events.onmessage = onEvent;
  return call<CameraCertificate[]>("enrol_with_site_ca", { name, targets, password, onEvent: events });
}

/** The site's own CA, step one: each camera's CSR written to `dir` with a manifest, progress per camera. */
export function exportCameraCsrs(
  targets: string[],
  organization: string,
  dir: string,
  password: string | null,
  onEvent: (event: CertificateEvent) => void,
): Promise<CsrExport> {
  const events = new Channel<CertificateEvent>();
  events.onmessage = onEvent;
  return call<CsrExport>("export_camera_csrs", { targets, organization, dir, password, onEvent: events });
}

/** The site's own CA, step two: the issued certificates in `dir` matched, checked against `caFile`, installed. */
export function importIssuedCertificates(dir: string, caFile: string): Promise<IssuedImport> {
  return call<IssuedImport>("import_issued_certificates", { dir, caFile });
}

/**
 * A certificate with its key onto one camera: a PKCS#12 file with its passphrase, or a PEM pair.
 * The passphrase is sent once and never comes back; the caller forgets it after the call.
 */
export function importCertificateWithKey(args: {
  target: string;
  pkcs12: string | null;
  pemCertificate: string | null;
  pemKey: string | null;
  passphrase: string;
  caFile: string | null;
  password: string | null;
}): Promise<CameraCertificate> {
  return call<CameraCertificate>("import_certificate_with_key", { ...args }, args.target);
}
