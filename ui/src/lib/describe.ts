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
  if (error.code.startsWith("plan_")) {
    // The site plan's own errors (camward-policy): `step` holds the field path.
    return `The site plan is not complete yet${error.step ? ` (${error.step})` : ""}`;
  }
  if (error.step === "check certificate" && error.code.startsWith("cert_")) {
    // camward-certs' checks before upload (`CertProblem::code`): nothing reached the camera.
    return "The certificate was refused before upload";
  }
  switch (error.code) {
    case "admin_needs_person":
      return "A person creates this camera's administrator first";
    case "tls_verification_failed":
      return "The camera does not present the new certificate";
    case "site_ca_exists":
    case "site_ca_missing":
    case "site_ca_mismatch":
      return "The site CA cannot be used";
    case "cancelled":
      return "Stopped before this camera was started";
    case "guided_step_pending":
      return "The camera still waits for its administrator";
    case "credential_missing":
      return "The keychain holds no password for this camera";
    case "no_browser":
      return "The camera's page could not be opened";
    case "no_pdf_renderer":
      return "No browser to print the PDF with";
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
    case "no_password":
      return "No password for this camera in the keychain";
    case "credential_change_in_progress":
      return "A password change of this camera was interrupted";
    case "locked_out":
      return "The camera has locked out logins";
    case "interfaces":
      return "The network interfaces could not be listed";
    case "unknown_interface":
      return "That network interface is not available";
    case "no_demo_site":
      return "The simulated site is not running";
    case "demo_start":
      return "The simulated site could not start";
    // Files on this computer (camward-certs' `CertError::code`): nothing was asked of a camera.
    case "io_error":
      return "A file could not be read or written";
    case "cert_unreadable":
      return "That file holds no certificate Camward can read";
    case "csr_bad_signature":
      return "A certificate request does not verify";
    case "pkcs12_unreadable":
      return "The PKCS#12 file could not be opened";
    case "key_mismatch":
      return "The key does not belong to the certificate";
    default:
      return "The request to the camera failed";
  }
}

/**
 * What to do about an error, chosen by its code; `null` when the message says it all.
 * Never derived from the message text.
 */
export function errorHint(error: CoreError): string | null {
  switch (error.code) {
    case "admin_needs_person":
      return "Do the camera's manual step after Apply, then give it its certificate with camward certs enrol.";
    case "tls_verification_failed":
      return "The assignment was undone and HTTP stays on; check the camera's certificate page.";
    case "no_password":
      return "Camward logs in with the password the OS keychain holds for this camera. Store it with `camward credentials set`, or commission the camera to create one.";
    case "credential_change_in_progress":
      return "Finish the interrupted password change first: camward rotate --resume.";
    case "not_authorized":
      return "The stored password is not the camera's. Camward stops before the camera locks the account.";
    case "locked_out":
      return "Wait for the camera's lock-out to end before trying again.";
    case "no_demo_site":
      return "Start the simulated site with “Try with simulated cameras”.";
    case "cancelled":
      return "Run the commissioning again to resume: what was done stays done.";
    case "guided_step_pending":
      return "Create the administrator on the camera's page with the password shown, then verify again.";
    case "no_pdf_renderer":
      return "Install Chromium or Chrome to print PDF reports, or save the report as HTML.";
    case "unknown_interface":
      return "The interface went away or went down; choose another one.";
    case "unreachable":
    case "timeout":
      return "Check the address, the cable and that this computer is on the camera's network.";
    case "io_error":
      return error.step === "read the manifest"
        ? "Put the issued certificates into the folder the requests were exported to: its manifest.json says which camera asked for which key."
        : null;
    case "pkcs12_unreadable":
      return "Check the passphrase, and that the file is PKCS#12 (.p12, .pfx).";
    default:
      return null;
  }
}
