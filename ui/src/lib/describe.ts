// Turns probe results and error codes into the sentences the screen shows.
import type { CoreError } from "./api";

/**
 * Describes a camera clock offset for a person: "within 1 s", "42 s ahead", "3 min 5 s behind",
 * "2 h 0 min ahead". Offsets of an hour or more are rounded to the minute, because the seconds
 * then only reflect network latency.
 */
export function describeClockOffset(offsetSeconds: number): string {
  const magnitude = Math.abs(offsetSeconds);
  if (magnitude < 1) {
    return "Camera clock is within 1 s of this computer";
  }
  const direction = offsetSeconds > 0 ? "ahead" : "behind";
  let amount: string;
  if (magnitude >= 3600) {
    const totalMinutes = Math.round(magnitude / 60);
    amount = `${Math.floor(totalMinutes / 60)} h ${totalMinutes % 60} min`;
  } else if (magnitude >= 60) {
    const totalSeconds = Math.round(magnitude);
    amount = `${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s`;
  } else {
    amount = `${Math.round(magnitude)} s`;
  }
  return `Camera clock is ${amount} ${direction}`;
}

/** Whether an offset is large enough to break WS-Security timestamps (ONVIF allows little skew). */
export function clockNeedsAttention(offsetSeconds: number): boolean {
  return Math.abs(offsetSeconds) >= 5;
}

/** The headline for an error, chosen by its stable code (never by its message text). */
export function errorTitle(error: CoreError): string {
  switch (error.code) {
    case "unreachable":
      return "Camera not reachable";
    case "timeout":
      return "The camera did not answer in time";
    case "invalid_url":
      return "That is not a camera address";
    case "not_onvif":
      return "This address does not answer like an ONVIF camera";
    case "not_authorized":
      return "The camera refused to answer without credentials";
    case "tls":
      return "Secure connection to the camera failed";
    case "connection_broken":
    case "reply_truncated":
      return "The connection to the camera broke off";
    case "not_implemented":
      return "This is not available yet";
    case "ipc":
      return "The app could not run this request";
    default:
      return "The camera probe failed";
  }
}
