// Pure logic of the wizard's Certificates step (components/CertificatesStep.svelte): which route
// the plan says, the plan with a route chosen, and the per-camera progress of a route.
import type { CameraCertificate, CertificateEvent, CertificateRoute, PlanDraft } from "./bindings";

/** The routes a person can choose; `skip` keeps HTTP and leaves https-only out of the run. */
export type CertRoute = Exclude<CertificateRoute, "self-signed-test"> | "skip";

export const ROUTES: { id: CertRoute; label: string; hint: string }[] = [
  {
    id: "site-ca",
    label: "Site CA kept by Camward",
    hint: "Recommended. Each camera makes its own key; Camward's CA for this site signs it. The CA's key stays in the keychain.",
  },
  {
    id: "csr-export",
    label: "The site's own CA",
    hint: "Each camera makes its key; its request (CSR) is exported to a folder for your CA, and the certificates it issues are imported back, matched by key.",
  },
  {
    id: "import",
    label: "Certificate with its key",
    hint: "A certificate and key made elsewhere: a PKCS#12 file with its passphrase, or a PEM certificate and key, for one camera.",
  },
  {
    id: "skip",
    label: "Skip for now",
    hint: "HTTP stays on and HTTPS-only is not applied: logins and video cross the network readable by anyone on it.",
  },
];

/** The route the plan says now. */
export function routeOf(plan: PlanDraft): CertRoute {
  if (plan.skip.includes("https-only") || plan.certificates === null || plan.certificates === "self-signed-test") {
    return "skip";
  }
  return plan.certificates;
}

/**
 * The plan with `route` chosen: a certificate route is the plan's `[certificates] policy`;
 * skipping leaves `[certificates]` out and the control https-only in `[controls] skip`, so the
 * review and the run say HTTP stays on. (Even with a route, the run turns HTTP off only on a
 * camera whose certificate is proven.)
 */
export function withRoute(plan: PlanDraft, route: CertRoute): PlanDraft {
  const skip = plan.skip.filter((id) => id !== "https-only");
  if (route === "skip") {
    return { ...plan, certificates: null, skip: [...skip, "https-only"] };
  }
  return { ...plan, certificates: route, skip };
}

/** Where one camera stands in a route. */
export type CertProgress = "waiting" | "working" | "done" | "failed";

export function startCertProgress(cameras: string[]): Record<string, CertProgress> {
  return Object.fromEntries(cameras.map((camera) => [camera, "waiting" as CertProgress]));
}

export function applyCertificateEvent(
  progress: Record<string, CertProgress>,
  event: CertificateEvent,
): Record<string, CertProgress> {
  if (event.event === "started") {
    return { ...progress, [event.camera]: "working" };
  }
  return { ...progress, [event.camera]: event.ok ? "done" : "failed" };
}

/** How many cameras of a route's progress are finished, well or not. */
export function finishedCount(progress: Record<string, CertProgress>): number {
  return Object.values(progress).filter((p) => p === "done" || p === "failed").length;
}

/** Merges new results into the ones kept, one per camera, the newest winning. */
export function mergeResults(kept: CameraCertificate[], fresh: CameraCertificate[]): CameraCertificate[] {
  const byCamera = new Map(kept.map((r) => [r.camera, r]));
  for (const result of fresh) {
    byCamera.set(result.camera, result);
  }
  return [...byCamera.values()];
}

/** How many cameras now present a certificate proven by a handshake. */
export function provenCount(results: CameraCertificate[]): number {
  return results.filter((r) => r.enrolled !== null).length;
}

/** A check's short name, as the results table shows it (its detail is the item's title). */
export function checkLabel(check: string): string {
  switch (check) {
    case "names":
      return "Names";
    case "key":
      return "Key";
    case "validity":
      return "Validity";
    case "chain":
      return "Chain";
    case "served":
      return "Served";
    default:
      return check;
  }
}
