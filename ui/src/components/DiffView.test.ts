import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import DiffView from "./DiffView.svelte";
import type { CommissionResult, ControlStep } from "../lib/api";

let mounted: Record<string, unknown> | null = null;

function render(results: CommissionResult[]) {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(DiffView, { target, props: { results, names: { "http://192.0.2.10/onvif/device_service": "AXIS M3106" } } });
  flushSync();
  return target;
}

afterEach(() => {
  if (mounted) {
    unmount(mounted);
    mounted = null;
  }
  document.body.innerHTML = "";
});

const steps: ControlStep[] = [
  { control: "admin-password", title: "Admin password", before: "fail", outcome: { outcome: "would-change", change: "create administrator admin with a generated unique password" } },
  { control: "guest-off", title: "Guest access off", before: "pass", outcome: { outcome: "already-hardened" } },
  { control: "time-sync", title: "Time sync", before: "unknown", outcome: { outcome: "refused", reason: "no NTP server of the plan answered an SNTP query (127.0.0.1: timeout)" } },
  { control: "host-restriction", title: "Host restriction", before: "unknown", outcome: { outcome: "refused", reason: "the allow-list 10.0.0.0/24 leaves out this computer's own address 127.0.0.1" } },
  { control: "audio-off", title: "Audio off", before: "unknown", outcome: { outcome: "guided", step: "Setup > Audio > Off" } },
  { control: "password-policy", title: "Password policy", before: "unknown", outcome: { outcome: "skipped", reason: "replaced by admin-password" } },
];

describe("DiffView", () => {
  it("lists per camera what would change, what is refused and why, and what is left to a person", () => {
    const target = render([
      {
        camera: "http://192.0.2.10/onvif/device_service",
        commission: { camera: "http://192.0.2.10/onvif/device_service", first_admin: "would create administrator admin", awaiting_person: false, before: null, steps, after: null },
        error: null,
      },
    ]);
    expect(target.querySelector("h2")?.textContent).toBe("AXIS M3106");
    expect(target.querySelector('[data-testid="diff-first-admin"]')?.textContent).toContain("would create administrator admin");
    expect(target.querySelector('[data-testid="diff-counts"]')?.textContent).toMatch(/1 will change.*1 for you to do.*2 refused.*1 already hardened/s);
    const rows = [...target.querySelectorAll<HTMLElement>('[data-testid="diff-row"]')];
    // Unchanged controls are left out until asked for.
    expect(rows.map((row) => row.dataset.control)).toEqual(["admin-password", "time-sync", "host-restriction", "audio-off"]);
    const hosts = rows[2]!;
    expect(hosts.dataset.outcome).toBe("refused");
    expect(hosts.textContent).toContain("Refused");
    expect(hosts.textContent).toContain("leaves out this computer's own address 127.0.0.1");
    expect(rows[3]!.textContent).toContain("Step for you");
    expect(rows[3]!.textContent).toContain("Setup > Audio > Off");
    expect(rows[0]!.textContent).toContain("Fail");

    const all = target.querySelector<HTMLInputElement>('[data-testid="diff-show-all"]')!;
    all.click();
    flushSync();
    expect(target.querySelectorAll('[data-testid="diff-row"]')).toHaveLength(steps.length);
  });

  it("shows a camera's error by its code", () => {
    const target = render([
      {
        camera: "http://192.0.2.11/onvif/device_service",
        commission: null,
        error: { code: "unreachable", message: "connection refused", camera: "http://192.0.2.11/onvif/device_service", step: "GetSystemDateAndTime" },
      },
    ]);
    const error = target.querySelector<HTMLElement>('[data-testid="diff-error"]');
    expect(error?.dataset.code).toBe("unreachable");
    expect(error?.textContent).toContain("Camera not reachable");
  });
});
