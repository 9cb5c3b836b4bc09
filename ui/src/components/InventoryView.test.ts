import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, tick, unmount } from "svelte";
import { inventoryCamera } from "./lifecycleFixtures";

const api = vi.hoisted(() => ({
  inventoryCameras: vi.fn(),
  giveDemoAdmins: vi.fn(),
}));
vi.mock("../lib/api", () => api);

import InventoryView from "./InventoryView.svelte";

let mounted: Record<string, unknown> | null = null;

async function render(props: Record<string, unknown>) {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(InventoryView, { target, props });
  flushSync();
  await vi.waitFor(() => expect(target.querySelector('[data-testid="inventory-status"]')?.textContent).not.toContain("Reading"));
  await tick();
  return target;
}

const rows = (target: HTMLElement) =>
  [...target.querySelectorAll('[data-testid="inventory-row"]')].map((r) => r.getAttribute("data-camera"));

beforeEach(() => {
  api.inventoryCameras.mockResolvedValue([
    inventoryCamera({ camera: "host:b", model: "B", last_audit_score: 90, credential_age_days: 3 }),
    inventoryCamera({ camera: "host:a", model: "A", last_audit_score: 40, credential_age_days: 80, certificate_days_left: 12 }),
    inventoryCamera({ camera: "host:c", model: "C", credential_state: "none", admin: null, credential_age_days: null }),
  ]);
});

afterEach(() => {
  if (mounted) {
    unmount(mounted);
    mounted = null;
  }
  document.body.innerHTML = "";
  vi.clearAllMocks();
});

describe("InventoryView", () => {
  it("lists the cameras with score, certificate and password age, sortable from the header", async () => {
    const target = await render({});
    expect(rows(target)).toEqual(["host:a", "host:b", "host:c"]);
    const header = (key: string) => target.querySelector<HTMLButtonElement>(`[data-testid="sort-${key}"]`)!;
    expect(header("camera").closest("th")?.getAttribute("aria-sort")).toBe("ascending");
    expect(target.querySelector('[data-testid="inventory-certificate"]')?.textContent?.trim()).toBe("Expires in 12 days");

    header("score").click();
    flushSync();
    expect(rows(target)).toEqual(["host:a", "host:b", "host:c"]);
    expect(header("score").closest("th")?.getAttribute("aria-sort")).toBe("ascending");
    header("score").click();
    flushSync();
    expect(header("score").closest("th")?.getAttribute("aria-sort")).toBe("descending");
    expect(rows(target)).toEqual(["host:c", "host:b", "host:a"]);

    header("credential").click();
    flushSync();
    expect(rows(target)).toEqual(["host:b", "host:a", "host:c"]);
    expect(target.textContent).toContain("No password in the keychain");
  });

  it("lets only cameras whose password Camward holds be picked", async () => {
    const onToggle = vi.fn();
    const target = await render({ mode: "multi", selected: [], onToggle });
    const picks = target.querySelectorAll<HTMLInputElement>('[data-testid="pick-inventory-camera"]');
    expect(picks.length).toBe(2);
    picks[0]!.click();
    expect(onToggle).toHaveBeenCalledWith("host:a");
    // Each checkbox is named by its camera (the label of the camera cell).
    expect(target.querySelector(`label[for="${picks[0]!.id}"]`)?.textContent).toContain("Camsim A");
  });

  it("offers the demo's administrators only in demo mode", async () => {
    let target = await render({});
    expect(target.querySelector('[data-testid="give-demo-admins"]')).toBeNull();
    unmount(mounted!);
    mounted = null;
    api.giveDemoAdmins.mockResolvedValue([
      { url: "http://127.0.0.1:1/onvif/device_service", camera: "host:127.0.0.1:1", user: "admin", method: "onvif", awaiting_person_at: null, error: null },
      { url: "http://127.0.0.1:2/onvif/device_service", camera: null, user: null, method: "guided", awaiting_person_at: "http://127.0.0.1:2/", error: null },
    ]);
    target = await render({ demo: true });
    target.querySelector<HTMLButtonElement>('[data-testid="give-demo-admins"]')!.click();
    await vi.waitFor(() => expect(target.querySelectorAll('[data-testid="demo-admin"]').length).toBe(2));
    const lines = [...target.querySelectorAll('[data-testid="demo-admin"]')].map((l) => l.textContent ?? "");
    expect(lines[0]).toContain("administrator admin created");
    expect(lines[1]).toContain("needs a person on its own page");
    expect(api.inventoryCameras).toHaveBeenCalledTimes(3);
  });
});
