// The "Commission a site" journey's pure logic: the live discovery list, what each camera is
// called on screen, and the audit filter. Kept out of the components so it is tested directly.
import type {
  CameraAudit,
  DiscoveryEvent,
  DiscoveryWarning,
  Finding,
  FoundCamera,
  Method,
  Status,
} from "./bindings";

/** The address a camera is audited at: its ONVIF device service first, else its first address. */
export function deviceUrl(camera: FoundCamera): string {
  return (
    camera.addresses.find((url) => url.includes("/onvif/device_service")) ??
    camera.addresses[0] ??
    camera.ips[0] ??
    ""
  );
}

/** One stable key per camera on screen (the merged list already has one entry per camera). */
export function cameraKey(camera: FoundCamera): string {
  return camera.endpoint ?? camera.mac ?? camera.serial ?? deviceUrl(camera);
}

/** What a person calls the camera: make and model when known. */
export function cameraTitle(camera: FoundCamera): string {
  const parts = [camera.vendor, camera.model].filter((part): part is string => !!part);
  if (parts.length > 0) {
    return parts.join(" ");
  }
  return camera.name ?? "Camera of unknown make";
}

const METHOD_LABELS: Record<Method, string> = {
  "ws-discovery": "WS-Discovery",
  mdns: "mDNS",
  "link-local": "Link-local sweep",
  "easy-ip": "Easy IP Setup",
  sadp: "SADP",
};

/** The name of a discovery method on screen. */
export function methodLabel(method: Method): string {
  return METHOD_LABELS[method];
}

/** The live list after `event`: found cameras are added, updated ones replaced, gone ones removed. */
export function applyEvent(cameras: FoundCamera[], event: DiscoveryEvent): FoundCamera[] {
  switch (event.event) {
    case "found":
    case "updated": {
      const key = cameraKey(event.camera);
      const at = cameras.findIndex((camera) => cameraKey(camera) === key);
      if (at < 0) {
        return [...cameras, event.camera];
      }
      return cameras.map((camera, index) => (index === at ? event.camera : camera));
    }
    case "gone": {
      const key = cameraKey(event.camera);
      return cameras.filter((camera) => cameraKey(camera) !== key);
    }
    default:
      return cameras;
  }
}

/** Warning codes whose message carries the link-local fix (a command to run). */
const LINK_LOCAL_CODES = new Set(["no_link_local_address", "no_ipv4_address"]);

/** The headline of a discovery warning, chosen by its code. */
export function warningTitle(warning: DiscoveryWarning): string {
  if (LINK_LOCAL_CODES.has(warning.code)) {
    return `${warning.interface} cannot reach factory-fresh cameras on their link-local addresses yet`;
  }
  switch (warning.code) {
    case "link_local_address_added":
      return `${warning.interface} got a link-local address for the sweep`;
    case "no_raw_socket":
      return `The link-local sweep needs more privileges on ${warning.interface}`;
    default:
      return `${methodLabel(warning.method)} could not run fully on ${warning.interface}`;
  }
}

/** Whether a warning is the link-local hint (its message ends with the fix to run). */
export function isLinkLocalHint(warning: DiscoveryWarning): boolean {
  return LINK_LOCAL_CODES.has(warning.code);
}

const STATUS_LABELS: Record<Status, string> = {
  pass: "Pass",
  fail: "Fail",
  "manual-needed": "Check by hand",
  "not-applicable": "Not applicable",
  unknown: "Unknown",
};

/** The word shown for a finding's status. */
export function statusLabel(status: Status): string {
  return STATUS_LABELS[status];
}

/** How many findings of a scorecard have `status`. */
export function countStatus(findings: Finding[], status: Status): number {
  return findings.filter((finding) => finding.status === status).length;
}

/** What the audit screen shows: every finding, only failing ones, or one failing control. */
export type AuditFilter = { kind: "all" } | { kind: "failing" } | { kind: "control"; control: string };

/** A failing control and on how many of the audited cameras it fails. */
export interface FailingControl {
  control: string;
  title: string;
  cameras: number;
}

/** Every control that fails on at least one camera, in the catalog's order (first seen). */
export function failingControls(audits: CameraAudit[]): FailingControl[] {
  const byControl = new Map<string, FailingControl>();
  for (const audit of audits) {
    for (const finding of audit.scorecard?.findings ?? []) {
      if (finding.status !== "fail") {
        continue;
      }
      const known = byControl.get(finding.control);
      if (known) {
        known.cameras += 1;
      } else {
        byControl.set(finding.control, {
          control: finding.control,
          title: finding.title || finding.control,
          cameras: 1,
        });
      }
    }
  }
  return [...byControl.values()];
}

/** The findings of one scorecard that `filter` lets through. */
export function visibleFindings(findings: Finding[], filter: AuditFilter): Finding[] {
  switch (filter.kind) {
    case "all":
      return findings;
    case "failing":
      return findings.filter((finding) => finding.status === "fail");
    case "control":
      return findings.filter(
        (finding) => finding.control === filter.control && finding.status === "fail",
      );
  }
}

/** Whether a camera's card is shown under `filter` (one failing control: only cameras failing it). */
export function auditVisible(audit: CameraAudit, filter: AuditFilter): boolean {
  if (filter.kind !== "control") {
    return true;
  }
  return visibleFindings(audit.scorecard?.findings ?? [], filter).length > 0;
}
