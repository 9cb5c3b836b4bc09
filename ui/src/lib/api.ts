// Typed wrappers around the Tauri commands of src-tauri/src/main.rs. This is the only file that
// calls `invoke`; the types mirror the Rust structs field for field (serde's default names).
import { invoke } from "@tauri-apps/api/core";

/** Mirrors `camward_core::CoreError`: the shape every failed command rejects with. */
export interface CoreError {
  /** Stable machine-readable code; the UI switches on this, never on `message`. */
  code: string;
  /** One line a person can act on. */
  message: string;
  /** Which camera (its URL or inventory name). */
  camera: string;
  /** Which step it happened at, e.g. `GetSystemDateAndTime`. */
  step: string;
}

/** Mirrors `camward_core::probe::ServiceEntry`. */
export interface ServiceEntry {
  namespace: string;
  name: string;
  xaddr: string;
  version: string;
}

/** Mirrors `camward_core::probe::ProbeReport`. */
export interface ProbeReport {
  url: string;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  /** Camera clock minus this computer's clock, in seconds. */
  clock_offset_s: number;
  camera_time: string | null;
  /** `Manual` or `NTP`. */
  time_mode: string;
  services: ServiceEntry[];
  /** True when the camera answered GetDeviceInformation without credentials. */
  anonymous_access: boolean;
}

/** Mirrors `camsim::CameraInfo`: one simulated camera of `--demo`. */
export interface CameraInfo {
  id: string | number;
  device_url: string;
  https_url: string | null;
  mac: string;
  serial: string;
  flavour: string;
  manufacturer: string;
  model: string;
  firmware: string;
}

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
export function demoCameras(): Promise<CameraInfo[]> {
  return call<CameraInfo[]>("demo_cameras", {});
}

export { isCoreError };
