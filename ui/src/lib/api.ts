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
