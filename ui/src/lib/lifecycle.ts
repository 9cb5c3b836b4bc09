// The inventory view and journeys 2 and 3 (rotate passwords, decommission): their pure logic —
// sorting, the words for each state, the live progress per camera — kept out of the components so
// it is tested directly. Every choice is made on a stable code, never on a message.
import type {
  CoreError,
  DecommissionEvent,
  DecommissionPlan,
  InventoryCamera,
  RotationEvent,
  RotationOutcome,
  RotationResult,
  RotationStep,
} from "./bindings";

/** The columns the inventory can be sorted by. */
export type SortKey = "camera" | "score" | "certificate" | "credential";
export type SortDirection = "ascending" | "descending";

/** What a person calls an inventory camera: make and model, else its address. */
export function inventoryTitle(camera: InventoryCamera): string {
  const parts = [camera.manufacturer, camera.model].filter((p): p is string => !!p);
  return parts.length > 0 ? parts.join(" ") : camera.camera.replace(/^host:/, "");
}

function compareOptional(a: number | null, b: number | null): number {
  // Unknown values sort last in both directions' natural reading: treated as +∞.
  const x = a ?? Number.POSITIVE_INFINITY;
  const y = b ?? Number.POSITIVE_INFINITY;
  return x === y ? 0 : x < y ? -1 : 1;
}

/** The cameras sorted by `key`; ties keep the inventory's order (by key). */
export function sortCameras(
  cameras: InventoryCamera[],
  key: SortKey,
  direction: SortDirection,
): InventoryCamera[] {
  const sign = direction === "ascending" ? 1 : -1;
  const compare = (a: InventoryCamera, b: InventoryCamera): number => {
    switch (key) {
      case "camera":
        return inventoryTitle(a).localeCompare(inventoryTitle(b)) || a.camera.localeCompare(b.camera);
      case "score":
        return compareOptional(a.last_audit_score, b.last_audit_score);
      case "certificate":
        return compareOptional(a.certificate_days_left, b.certificate_days_left);
      case "credential":
        return compareOptional(a.credential_age_days, b.credential_age_days);
    }
  };
  return cameras
    .map((camera, index) => ({ camera, index }))
    .sort((a, b) => sign * compare(a.camera, b.camera) || a.index - b.index)
    .map(({ camera }) => camera);
}

/** The newest audit score as shown, e.g. "72 %", or "Not audited". */
export function scoreText(camera: InventoryCamera): string {
  return camera.last_audit_score === null ? "Not audited" : `${camera.last_audit_score} %`;
}

/** When the served certificate expires, in days, e.g. "in 364 days", "expired 3 days ago". */
export function certificateText(camera: InventoryCamera): string {
  const days = camera.certificate_days_left;
  if (days === null) {
    return "No certificate recorded";
  }
  if (days < 0) {
    return `Expired ${-days} ${-days === 1 ? "day" : "days"} ago`;
  }
  if (days === 0) {
    return "Expires today";
  }
  return `Expires in ${days} ${days === 1 ? "day" : "days"}`;
}

/** Whether the certificate needs attention soon (30 days, as the CLI's `certs list` warns). */
export function certificateSoon(camera: InventoryCamera): boolean {
  return camera.certificate_days_left !== null && camera.certificate_days_left < 30;
}

/** The administrator password's state and age, e.g. "Set today", "Set 40 days ago". */
export function credentialText(camera: InventoryCamera): string {
  switch (camera.credential_state) {
    case "none":
      return "No password in the keychain";
    case "pending":
      return "Change interrupted: finish it";
    case "awaiting_retirement":
      return "Old password not retired yet: finish it";
    case "current": {
      const days = camera.credential_age_days;
      if (days === null) {
        return "Set (age unknown)";
      }
      if (days === 0) {
        return "Set today";
      }
      return `Set ${days} ${days === 1 ? "day" : "days"} ago`;
    }
  }
}

/** Whether a camera can be worked on by rotation or decommissioning: Camward holds its password. */
export function hasPassword(camera: InventoryCamera): boolean {
  return camera.credential_state === "current" && camera.decommissioned_at === null;
}

/** The steps of one camera's rotation, in order, with their words. */
export const ROTATION_STEPS: { step: RotationStep; label: string }[] = [
  { step: "logged_in", label: "Logged in with the current password" },
  { step: "pending_stored", label: "New password generated and stored in the keychain" },
  { step: "password_sent", label: "New password sent to the camera" },
  { step: "new_password_verified", label: "Logged in with the new password" },
  { step: "old_password_refused", label: "Old password refused by the camera" },
  { step: "promoted", label: "New password current, old one retired" },
];

/** One camera's live progress. */
export interface CameraProgress {
  camera: string;
  user: string;
  done: RotationStep[];
  outcome: RotationOutcome | null;
}

/** The progress list after `event`: cameras appear when started, steps tick, outcomes land. */
export function applyRotationEvent(
  progress: CameraProgress[],
  event: RotationEvent,
): CameraProgress[] {
  const at = progress.findIndex((p) =>
    event.event === "finished" ? p.camera === event.outcome.camera : p.camera === event.camera,
  );
  switch (event.event) {
    case "started":
      if (at >= 0) {
        return progress.map((p, i) => (i === at ? { ...p, outcome: null, done: [] } : p));
      }
      return [...progress, { camera: event.camera, user: event.user, done: [], outcome: null }];
    case "step":
      if (at < 0) {
        return [...progress, { camera: event.camera, user: "", done: [event.step], outcome: null }];
      }
      return progress.map((p, i) => (i === at ? { ...p, done: [...p.done, event.step] } : p));
    case "finished":
      if (at < 0) {
        return [
          ...progress,
          { camera: event.outcome.camera, user: event.outcome.user, done: [], outcome: event.outcome },
        ];
      }
      return progress.map((p, i) => (i === at ? { ...p, outcome: event.outcome } : p));
  }
}

/** The words for what a rotation or resume did. */
export function rotationResultText(result: RotationResult): string {
  switch (result) {
    case "rotated":
      return "New password set and verified; the old one is refused and retired";
    case "completed":
      return "Interrupted change finished: the camera has the new password";
    case "rolled_back":
      return "The camera kept its old password; the unused new one was discarded";
    case "abandoned":
      return "The new password never reached the camera; dropped";
    case "still_factory_fresh":
      return "The camera is still factory-fresh; run its first administrator again";
    case "retired":
      return "The old password is refused by the camera and retired";
    case "awaiting_person":
      return "Waiting for a person to create the administrator on the camera's page";
  }
}

/** Error codes after which an unfinished change is left in the ledger for a resume. */
const LEAVES_CHANGE: ReadonlySet<string> = new Set([
  "new_password_refused",
  "old_password_accepted",
  "credential_change_in_progress",
  "unreachable",
  "timeout",
  "connection_broken",
]);

/** The headline of a failed rotation, chosen by its code. */
export function rotationErrorTitle(error: CoreError): string {
  switch (error.code) {
    case "not_authorized":
      return "The camera refused the stored password: nothing was changed";
    case "attempt_budget_spent":
      return "Stopped before the camera could lock the account";
    case "credential_change_in_progress":
      return "An earlier change of this password is unfinished";
    case "credential_missing":
      return "The keychain holds no password for this camera";
    case "new_password_refused":
      return "The camera refused the new password after accepting it";
    case "old_password_accepted":
      return "The camera still accepts the old password";
    case "weak_password":
      return "The new password was refused by the policy";
    case "no_such_user":
      return "The camera has no such user";
    case "unreachable":
    case "timeout":
      return "Camera not reachable";
    case "locked_out":
      return "The camera has locked out logins";
    default:
      return "The rotation failed on this camera";
  }
}

/** What to do after a failed rotation, chosen by its code (`null`: nothing to add). */
export function rotationErrorHint(error: CoreError): string | null {
  switch (error.code) {
    case "new_password_refused":
    case "old_password_accepted":
    case "credential_change_in_progress":
      return "The new password is safe in the keychain. Use “Finish interrupted changes” to find out which password the camera has.";
    case "not_authorized":
      return "Camward stops after one refused login. Check the camera's password outside Camward before trying again.";
    case "attempt_budget_spent":
      return "Try again later: each run allows at most 2 failed logins per camera.";
    case "credential_missing":
      return "Commission the camera first, so Camward holds its administrator password.";
    case "unreachable":
    case "timeout":
      return "Check the camera's network; if a change was started, finish it with “Finish interrupted changes”.";
    default:
      return null;
  }
}

/** Whether a failed rotation may have left a change for "Finish interrupted changes". */
export function mayNeedResume(error: CoreError): boolean {
  return LEAVES_CHANGE.has(error.code);
}

/** What the camera's decommissioning confirmation needs typed: its serial, else its model. */
export function confirmationWord(plan: DecommissionPlan): string {
  const serial = plan.serial?.trim();
  return serial ? serial : (plan.model?.trim() ?? "");
}

/** Whether `typed` confirms `plan` (the core checks it again before anything is sent). */
export function confirms(plan: DecommissionPlan, typed: string): boolean {
  const expected = confirmationWord(plan);
  return expected !== "" && typed.trim().toLowerCase() === expected.toLowerCase();
}

/** One line of the decommissioning's live log. */
export function decommissionEventText(event: DecommissionEvent): string {
  switch (event.event) {
    case "final_state_recorded":
      return "Final state recorded in the audit trail";
    case "reset_sent":
      return `Factory reset sent (${event.via})`;
    case "waiting":
      return `Waiting for the camera to come back in its factory state… ${event.waited_s} s`;
    case "factory_state_seen":
      return `Seen in its factory state at ${event.address}`;
    case "credentials_retired":
      return event.users.length > 0
        ? `Keychain entries deleted: ${event.users.join(", ")}`
        : "No keychain entry was left to delete";
    case "recorded":
      return "Marked decommissioned in the inventory";
  }
}

/** The live log after `event`: one line per kind, the waiting line updated in place. */
export function applyDecommissionEvent(
  log: DecommissionEvent[],
  event: DecommissionEvent,
): DecommissionEvent[] {
  const at = log.findIndex((e) => e.event === event.event);
  if (at >= 0 && event.event === "waiting") {
    return log.map((e, i) => (i === at ? event : e));
  }
  return [...log, event];
}

/** The headline of a failed decommissioning request, by code. */
export function decommissionErrorTitle(error: CoreError): string {
  switch (error.code) {
    case "not_confirmed":
      return "Not confirmed: nothing was reset";
    case "no_password":
      return "Camward cannot ask this camera to reset: use its reset switch";
    case "not_authorized":
      return "The camera refused the stored password: nothing was reset";
    case "unreachable":
    case "timeout":
      return "Camera not reachable: nothing was reset";
    default:
      return "The decommissioning stopped";
  }
}
