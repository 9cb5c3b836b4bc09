// The commissioning wizard's pure logic (admin account → time → services → review → apply →
// guided steps → report): what each outcome is called, the live progress built from the shell's
// events, the allow-list suggested from this computer's addresses, and the guided steps of a run.
import type {
  CommissionEvent,
  CommissionResult,
  ControlStep,
  LaptopAddress,
  Outcome,
  SiteService,
} from "./bindings";

export type OutcomeKind = Outcome["outcome"];

const OUTCOME_LABELS: Record<OutcomeKind, string> = {
  "already-hardened": "Already hardened",
  "would-change": "Will change",
  applied: "Changed",
  guided: "Step for you",
  refused: "Refused",
  failed: "Failed",
  skipped: "Left as it is",
  stopped: "Not started",
};

/** The word shown for what happened (or would happen) to a control. */
export function outcomeLabel(outcome: Outcome): string {
  return OUTCOME_LABELS[outcome.outcome];
}

/** The sentence that goes with an outcome: the change, the step, the reason or the error. */
export function outcomeDetail(outcome: Outcome): string {
  switch (outcome.outcome) {
    case "already-hardened":
      return "Nothing is sent.";
    case "would-change":
    case "applied":
      return outcome.change;
    case "guided":
      return outcome.step;
    case "refused":
    case "skipped":
      return outcome.reason;
    case "failed":
      return outcome.message;
    case "stopped":
      return "The run was stopped before this control; run it again to resume.";
  }
}

/** How many steps of a camera have each kind of outcome. */
export function countOutcomes(steps: ControlStep[]): Record<OutcomeKind, number> {
  const counts: Record<OutcomeKind, number> = {
    "already-hardened": 0,
    "would-change": 0,
    applied: 0,
    guided: 0,
    refused: 0,
    failed: 0,
    skipped: 0,
    stopped: 0,
  };
  for (const step of steps) {
    counts[step.outcome.outcome] += 1;
  }
  return counts;
}

/** Where one camera stands while a run goes on. */
export interface CameraProgress {
  camera: string;
  state: "waiting" | "working" | "done" | "failed";
  steps: ControlStep[];
  score: number | null;
  error: string | null;
}

/** The progress of every camera before a run starts: all waiting. */
export function startProgress(cameras: string[]): CameraProgress[] {
  return cameras.map((camera) => ({ camera, state: "waiting", steps: [], score: null, error: null }));
}

/** The progress after one event of the run. */
export function applyCommissionEvent(
  progress: CameraProgress[],
  event: CommissionEvent,
): CameraProgress[] {
  return progress.map((camera) => {
    if (camera.camera !== event.camera) {
      return camera;
    }
    switch (event.event) {
      case "camera_started":
        return { ...camera, state: "working", steps: [], error: null };
      case "step":
        return { ...camera, steps: [...camera.steps, event.step] };
      case "camera_done":
        return {
          ...camera,
          state: event.error ? "failed" : "done",
          score: event.score,
          error: event.error,
        };
    }
  });
}

/**
 * The allow-list suggested from this computer's addresses toward the cameras: the /24 of each
 * IPv4 address (the installer's own subnet, where the recorder usually is too), an IPv6 address
 * on its own. A suggestion only: the person edits it, and the lock-out guard checks it.
 */
export function suggestAllowList(addresses: LaptopAddress[]): string[] {
  const out: string[] = [];
  for (const { address } of addresses) {
    if (!address) {
      continue;
    }
    const v4 = address.match(/^(\d+)\.(\d+)\.(\d+)\.\d+$/);
    const net = v4 ? `${v4[1]}.${v4[2]}.${v4[3]}.0/24` : address;
    if (!out.includes(net)) {
      out.push(net);
    }
  }
  return out;
}

/** One line per entry of a text area, trimmed, empty lines left out. */
export function lines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Something a person has to do on a camera after a run. */
export interface GuidedTask {
  camera: string;
  /** The catalog control, or "first-admin" for a guided first administrator. */
  control: string;
  title: string;
  step: string;
}

/**
 * The guided steps of a run: every first administrator waiting for a person first (nothing else
 * can happen on those cameras until then), then each guided control, camera by camera.
 */
export function guidedTasks(results: CommissionResult[]): GuidedTask[] {
  const admins: GuidedTask[] = [];
  const tasks: GuidedTask[] = [];
  for (const result of results) {
    const done = result.commission;
    if (!done) {
      continue;
    }
    if (done.awaiting_person) {
      admins.push({
        camera: result.camera,
        control: "first-admin",
        title: "Create the administrator",
        step: `On the camera's first-access page (${cameraPage(result.camera)}), create the administrator with the password Camward shows, then press Verify.`,
      });
    }
    for (const step of done.steps) {
      if (step.outcome.outcome === "guided") {
        tasks.push({
          camera: result.camera,
          control: step.control,
          title: step.title || step.control,
          step: step.outcome.step,
        });
      }
    }
  }
  return [...admins, ...tasks];
}

/** The camera's own web page: the origin of its device service URL. */
export function cameraPage(deviceUrl: string): string {
  try {
    return `${new URL(deviceUrl).origin}/`;
  } catch {
    return deviceUrl;
  }
}

/** Services a person can keep, with what each is for. */
export const SERVICES: { id: SiteService; label: string }[] = [
  { id: "https", label: "HTTPS (web page and ONVIF over TLS)" },
  { id: "http", label: "HTTP (plain web page and ONVIF)" },
  { id: "rtsp", label: "RTSP (video to the recorder)" },
  { id: "ws-discovery", label: "WS-Discovery (the recorder finds cameras)" },
  { id: "mdns", label: "mDNS / Bonjour announcements" },
  { id: "upnp", label: "UPnP" },
  { id: "ftp", label: "FTP server" },
  { id: "snmp", label: "SNMP" },
  { id: "easy-ip", label: "Easy IP Setup (i-PRO)" },
  { id: "autoip", label: "AutoIP (link-local address)" },
  { id: "rtp-multicast", label: "RTP multicast" },
];
