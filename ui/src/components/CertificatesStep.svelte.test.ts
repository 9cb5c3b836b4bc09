import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, tick, unmount } from "svelte";
import type { CameraCertificate, CertificateEvent, PlanDraft } from "../lib/api";
import { routeOf, withRoute, type CertRoute } from "../lib/certificates";

const api = vi.hoisted(() => ({
  siteCa: vi.fn(),
  enrolWithSiteCa: vi.fn(),
  exportCameraCsrs: vi.fn(),
  importIssuedCertificates: vi.fn(),
  importCertificateWithKey: vi.fn(),
}));
vi.mock("../lib/api", () => api);

import CertificatesStep from "./CertificatesStep.svelte";

const CAMERAS = ["http://127.0.0.1:8001/onvif/device_service", "http://127.0.0.1:8002/onvif/device_service"];
const SHA_A = "ab".repeat(32);

function proven(camera: string, sha256: string): CameraCertificate {
  return {
    camera,
    admin_created: true,
    enrolled: {
      camera,
      names: ["127.0.0.1"],
      sha256,
      not_after: "2027-12-01T00:00:00Z",
      replaced: false,
      checks: { key: "RSA 2048 bits", not_before: "2026-12-01T00:00:00Z", camera_time: "2026-12-01T00:00:05Z", chain_to: "CN=Camward site CA Site" },
    },
    checks: [
      { check: "names", result: "pass", detail: "covers 127.0.0.1" },
      { check: "key", result: "pass", detail: "RSA 2048 bits" },
      { check: "validity", result: "pass", detail: "valid 2026-12-01 to 2027-12-01" },
      { check: "chain", result: "pass", detail: "leads to CN=Camward site CA Site" },
      { check: "served", result: "pass", detail: `HTTPS presents exactly it: SHA-256 ${sha256}` },
    ],
    error: null,
  };
}

function refused(camera: string): CameraCertificate {
  return {
    camera,
    admin_created: false,
    enrolled: null,
    checks: [
      { check: "names", result: "pass", detail: "" },
      { check: "key", result: "pass", detail: "" },
      { check: "validity", result: "fail", detail: "the certificate is valid only from 2030…" },
      { check: "chain", result: "pass", detail: "" },
      { check: "served", result: "not_run", detail: "nothing was uploaded" },
    ],
    error: { code: "cert_not_yet_valid", message: "the certificate is valid only from 2030-01-01T00:00:00Z", camera, step: "check certificate" },
  };
}

let mounted: Record<string, unknown> | null = null;

beforeEach(() => {
  vi.resetAllMocks();
  api.siteCa.mockResolvedValue({ site: "Site", path: "/tmp/site-ca/site-ca.pem", exists: false, subject: null, sha256: null, not_after: null });
});

afterEach(() => {
  if (mounted) {
    unmount(mounted);
    mounted = null;
  }
  document.body.innerHTML = "";
});

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await Promise.resolve();
  }
  flushSync();
}

function render(props: { route?: CertRoute; results?: CameraCertificate[]; password?: string | null }) {
  const target = document.createElement("div");
  document.body.append(target);
  const state = $state<{ route: CertRoute; results: CameraCertificate[] }>({ route: props.route ?? "site-ca", results: props.results ?? [] });
  mounted = mount(CertificatesStep, {
    target,
    props: {
      targets: CAMERAS,
      site: "Site",
      names: { [CAMERAS[0]!]: "AXIS", [CAMERAS[1]!]: "HIKVISION" },
      password: props.password ?? null,
      get route() {
        return state.route;
      },
      set route(value) {
        state.route = value;
      },
      get results() {
        return state.results;
      },
      set results(value) {
        state.results = value;
      },
    },
  });
  flushSync();
  return { target, state };
}

const q = (target: HTMLElement, id: string) => target.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const all = (target: HTMLElement, id: string) => [...target.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];

describe("the route and the plan", () => {
  const plan: PlanDraft = {
    site: "Site",
    level: "standard",
    ntp: [],
    allowed_hosts: [],
    services: ["https", "rtsp"],
    http_port: null,
    https_port: 8443,
    rtsp_port: 8554,
    certificates: "site-ca",
    skip: [],
  };

  it("a route is the plan's certificate policy; skipping leaves https-only out", () => {
    expect(routeOf(plan)).toBe("site-ca");
    const skipped = withRoute(plan, "skip");
    expect(skipped.certificates).toBeNull();
    expect(skipped.skip).toEqual(["https-only"]);
    expect(routeOf(skipped)).toBe("skip");
    const back = withRoute(skipped, "csr-export");
    expect(back.certificates).toBe("csr-export");
    expect(back.skip).toEqual([]);
  });
});

describe("CertificatesStep", () => {
  it("offers the four routes, each labelled, and explains skipping", async () => {
    const { target, state } = render({});
    await settle();
    const radios = ["site-ca", "csr-export", "import", "skip"].map((id) => q(target, `cert-route-${id}`) as HTMLInputElement);
    expect(radios.every((r) => r !== null && r.closest("label") !== null)).toBe(true);
    expect(radios[0]!.checked).toBe(true);
    expect(q(target, "site-ca-info")?.textContent).toContain("will be created");
    radios[3]!.click();
    flushSync();
    expect(state.route).toBe("skip");
    expect(q(target, "cert-skip-explained")?.textContent).toContain("HTTP stays on");
    expect(q(target, "cert-route-hint")?.textContent).toContain("HTTPS-only is not applied");
    expect(q(target, "cert-issue")).toBeNull();
    radios[1]!.click();
    flushSync();
    expect(q(target, "csr-dir")).not.toBeNull();
    expect(q(target, "ca-file")).not.toBeNull();
  });

  it("issues with the site CA and shows each camera's checks, SHA-256 and expiry", async () => {
    api.enrolWithSiteCa.mockImplementation(
      async (_site: string, targets: string[], _password: string | null, onEvent: (e: CertificateEvent) => void) => {
        for (const camera of targets) {
          onEvent({ event: "started", camera });
          onEvent({ event: "finished", camera, ok: camera === CAMERAS[0] });
        }
        return [proven(CAMERAS[0]!, SHA_A), refused(CAMERAS[1]!)];
      },
    );
    const { target, state } = render({ password: "Tq8#Lw2vZ!pR4mKx" });
    await settle();
    q(target, "cert-issue")!.click();
    await settle();
    expect(api.enrolWithSiteCa).toHaveBeenCalledWith("Site", CAMERAS, "Tq8#Lw2vZ!pR4mKx", expect.any(Function));
    expect(state.results).toHaveLength(2);
    const cameras = all(target, "cert-camera");
    expect(cameras.map((c) => c.dataset.state)).toEqual(["proven", "failed"]);
    expect(q(cameras[0]!, "cert-camera-name")?.textContent).toBe("AXIS");
    expect(q(cameras[0]!, "cert-sha256")?.textContent).toBe(SHA_A);
    expect(q(cameras[0]!, "cert-not-after")?.textContent).toBe("2027-12-01T00:00:00Z");
    const checks = all(cameras[0]!, "cert-check");
    expect(checks.map((c) => c.dataset.check)).toEqual(["names", "key", "validity", "chain", "served"]);
    expect(checks.every((c) => c.dataset.result === "pass")).toBe(true);
    expect(checks[1]!.getAttribute("title")).toBe("RSA 2048 bits");
    expect(cameras[0]!.textContent).toContain("RSA 2048 bits");
    expect(q(target, "cert-summary")?.textContent).toContain("1 of 2 cameras present a proven certificate");
    // The refused camera: the failing check, the others as they were, and the typed error.
    const failed = all(cameras[1]!, "cert-check");
    expect(failed.find((c) => c.dataset.check === "validity")?.dataset.result).toBe("fail");
    expect(failed.find((c) => c.dataset.check === "served")?.dataset.result).toBe("not_run");
    expect(q(cameras[1]!, "cert-check-failure")?.textContent).toContain("Validity: the certificate is valid only from 2030");
    const error = q(cameras[1]!, "cert-error");
    expect(error?.dataset.code).toBe("cert_not_yet_valid");
    expect(q(error!, "error-title")?.textContent).toBe("The certificate was refused before upload");
    expect(q(error!, "error-message")?.textContent).toContain("valid only from 2030");
  });

  it("renders a failure of the whole request by its code", async () => {
    api.enrolWithSiteCa.mockRejectedValue({ code: "site_ca_mismatch", message: "the CA certificate is not the keychain key's", camera: "-", step: "load the site CA" });
    const { target } = render({});
    await settle();
    q(target, "cert-issue")!.click();
    await settle();
    const error = q(target, "cert-run-error");
    expect(error?.dataset.code).toBe("site_ca_mismatch");
    expect(error?.getAttribute("role")).toBe("alert");
    expect(error?.textContent).toContain("load the site CA");
  });

  it("a camera whose administrator a person creates says so, by its code", async () => {
    api.enrolWithSiteCa.mockResolvedValue([
      {
        camera: CAMERAS[1]!,
        admin_created: false,
        enrolled: null,
        checks: ["names", "key", "validity", "chain", "served"].map((check) => ({ check, result: "not_run", detail: "stopped at first administrator" })),
        error: { code: "admin_needs_person", message: "a person creates this camera's administrator", camera: CAMERAS[1]!, step: "first administrator" },
      },
    ]);
    const { target } = render({});
    await settle();
    q(target, "cert-issue")!.click();
    await settle();
    const error = q(target, "cert-error");
    expect(error?.dataset.code).toBe("admin_needs_person");
    expect(q(error!, "error-title")?.textContent).toBe("A person creates this camera's administrator first");
    expect(all(target, "cert-check").every((c) => c.dataset.result === "not_run")).toBe(true);
  });

  it("imports the issued certificates and lists the files that matched no camera", async () => {
    // The export reports each camera's start and end, and waits until the test lets it finish.
    let finishExport: () => void = () => {};
    api.exportCameraCsrs.mockImplementation(
      (targets: string[], _org: string, dir: string, _password: string | null, onEvent: (e: CertificateEvent) => void) => {
        onEvent({ event: "started", camera: targets[0]! });
        onEvent({ event: "finished", camera: targets[0]!, ok: true });
        onEvent({ event: "started", camera: targets[1]! });
        return new Promise((resolve) => {
          finishExport = () =>
            resolve({
              dir,
              csrs: targets.map((camera, i) => ({ camera, file: `${dir}/cam-${i}.csr.pem`, names: ["127.0.0.1"] })),
              errors: [],
            });
        });
      },
    );
    api.importIssuedCertificates.mockResolvedValue({
      cameras: [proven(CAMERAS[0]!, SHA_A)],
      unmatched: [{ file: "/tmp/csrs/other.pem", reason: "its key is no camera's of the manifest" }],
      missing: [CAMERAS[1]!],
    });
    const { target } = render({ route: "csr-export" });
    await settle();
    const dir = q(target, "csr-dir") as HTMLInputElement;
    dir.value = "/tmp/csrs";
    dir.dispatchEvent(new Event("input"));
    flushSync();
    q(target, "csr-export")!.click();
    await settle();
    expect(api.exportCameraCsrs).toHaveBeenCalledWith(CAMERAS, "Site", "/tmp/csrs", null, expect.any(Function));
    expect(q(target, "csr-progress")?.textContent?.trim()).toBe(
      `1 of ${CAMERAS.length} cameras have made their key and request`,
    );
    expect(q(target, "csr-export")?.textContent?.trim()).toBe("Exporting…");
    finishExport();
    await settle();
    expect(q(target, "csr-progress")).toBeNull();
    expect(all(target, "csr-file")).toHaveLength(2);
    expect((q(target, "issued-dir") as HTMLInputElement).value).toBe("/tmp/csrs");
    const ca = q(target, "ca-file") as HTMLInputElement;
    ca.value = "/tmp/ca.pem";
    ca.dispatchEvent(new Event("input"));
    flushSync();
    q(target, "issued-import")!.click();
    await settle();
    expect(api.importIssuedCertificates).toHaveBeenCalledWith("/tmp/csrs", "/tmp/ca.pem");
    expect(q(target, "unmatched-file")?.textContent).toContain("its key is no camera's of the manifest");
    expect(q(target, "missing-certificate")?.textContent).toContain("HIKVISION");
    expect(all(target, "cert-camera")).toHaveLength(1);
  });

  it("sends a PKCS#12 passphrase once and does not keep it in the window", async () => {
    api.importCertificateWithKey.mockResolvedValue(proven(CAMERAS[0]!, SHA_A));
    const { target } = render({ route: "import" });
    await settle();
    const file = q(target, "p12-file") as HTMLInputElement;
    file.value = "/tmp/cam.p12";
    file.dispatchEvent(new Event("input"));
    const secret = q(target, "p12-passphrase") as HTMLInputElement;
    expect(secret.type).toBe("password");
    secret.value = "s3cret-Passphrase";
    secret.dispatchEvent(new Event("input"));
    flushSync();
    q(target, "key-import")!.click();
    await settle();
    expect(api.importCertificateWithKey).toHaveBeenCalledWith(
      expect.objectContaining({ target: CAMERAS[0], pkcs12: "/tmp/cam.p12", passphrase: "s3cret-Passphrase", pemKey: null }),
    );
    expect((q(target, "p12-passphrase") as HTMLInputElement).value).toBe("");
    expect(target.innerHTML).not.toContain("s3cret-Passphrase");
    expect(q(target, "cert-sha256")?.textContent).toBe(SHA_A);
  });
});
