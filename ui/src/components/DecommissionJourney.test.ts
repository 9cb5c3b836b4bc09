import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, tick, unmount } from "svelte";
import type { DecommissionEvent } from "../lib/api";
import { inventoryCamera, plan, record } from "./lifecycleFixtures";

const api = vi.hoisted(() => ({
  inventoryCameras: vi.fn(),
  giveDemoAdmins: vi.fn(),
  decommissionPlan: vi.fn(),
  decommissionCamera: vi.fn(),
  saveDisposalRecord: vi.fn(),
}));
vi.mock("../lib/api", () => api);

import DecommissionJourney from "./DecommissionJourney.svelte";

let mounted: Record<string, unknown> | null = null;

beforeEach(() => {
  api.inventoryCameras.mockResolvedValue([inventoryCamera({})]);
  api.decommissionPlan.mockResolvedValue(plan());
  api.decommissionCamera.mockImplementation(
    async (_camera: string, _typed: string, _keep: boolean, onEvent: (e: DecommissionEvent) => void) => {
      onEvent({ event: "final_state_recorded" });
      onEvent({ event: "reset_sent", via: "ONVIF SetSystemFactoryDefault Hard" });
      onEvent({ event: "factory_state_seen", address: "127.0.0.1" });
      return record();
    },
  );
  api.saveDisposalRecord.mockImplementation(async (_camera: string, format: string) => ({
    path: `/tmp/disposal-CS0001.${format}`,
    format,
  }));
});

afterEach(() => {
  if (mounted) {
    unmount(mounted);
    mounted = null;
  }
  document.body.innerHTML = "";
  vi.clearAllMocks();
});

function render() {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(DecommissionJourney, { target, props: { demo: false } });
  flushSync();
  return target;
}

async function toConfirmation(target: HTMLElement) {
  await vi.waitFor(() => expect(target.querySelector('[data-testid="pick-inventory-camera"]')).not.toBeNull());
  target.querySelector<HTMLInputElement>('[data-testid="pick-inventory-camera"]')!.click();
  flushSync();
  target.querySelector<HTMLButtonElement>('[data-testid="decommission-next"]')!.click();
  await vi.waitFor(() => expect(target.querySelector('[data-testid="decommission-plan"]')).not.toBeNull());
}

function type(target: HTMLElement, text: string) {
  const input = target.querySelector<HTMLInputElement>('[data-testid="confirm-serial"]')!;
  input.value = text;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  flushSync();
}

describe("DecommissionJourney", () => {
  it("shows the serial and model the camera reports and refuses until its serial is typed", async () => {
    const target = render();
    await toConfirmation(target);
    expect(api.decommissionPlan).toHaveBeenCalledWith("http://127.0.0.1:8001/onvif/device_service");
    expect(target.querySelector('[data-testid="plan-serial"]')?.textContent).toBe("CS0001");
    expect(target.querySelector('[data-testid="plan-model"]')?.textContent).toBe("Camsim CS-2000");
    const run = target.querySelector<HTMLButtonElement>('[data-testid="decommission-run"]')!;
    expect(run.getAttribute("aria-disabled")).toBe("true");

    // Nothing typed, then the wrong serial, then the model: each refused, nothing sent.
    for (const wrong of ["", "CS0002", "CS-2000"]) {
      type(target, wrong);
      run.click();
      await tick();
      flushSync();
      expect(api.decommissionCamera).not.toHaveBeenCalled();
      expect(target.querySelector('[data-testid="confirm-help"]')?.textContent).toContain(
        "not this camera's serial number",
      );
    }
    expect(target.querySelector('[data-testid="confirm-serial"]')?.getAttribute("aria-invalid")).toBe("true");

    type(target, "cs0001");
    expect(run.getAttribute("aria-disabled")).toBe("false");
    expect(target.querySelector('[data-testid="confirm-help"]')?.textContent).toContain("Matches");
    run.click();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="disposal-record"]')).not.toBeNull());
    expect(api.decommissionCamera).toHaveBeenCalledWith(
      "http://127.0.0.1:8001/onvif/device_service",
      "cs0001",
      false,
      expect.any(Function),
    );
    expect(target.querySelector('[data-testid="record-verdict"]')?.textContent).toContain("Proven");
    expect(target.querySelector('[data-testid="record-proof"]')?.textContent).toContain("127.0.0.1");
    expect(target.querySelector('[data-testid="record-retired"]')?.textContent).toBe("admin");
  });

  it("saves the record and says where", async () => {
    const target = render();
    await toConfirmation(target);
    type(target, "CS0001");
    target.querySelector<HTMLButtonElement>('[data-testid="decommission-run"]')!.click();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="save-record-html"]')).not.toBeNull());
    target.querySelector<HTMLButtonElement>('[data-testid="save-record-html"]')!.click();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="saved-record"]')).not.toBeNull());
    expect(api.saveDisposalRecord).toHaveBeenCalledWith("host:127.0.0.1:8001", "html");
    expect(target.querySelector('[data-testid="saved-record"]')?.textContent).toContain("/tmp/disposal-CS0001.html");
  });

  it("an unproven reset says every password is kept", async () => {
    api.decommissionCamera.mockResolvedValue(
      record({
        result: { status: "not_proven", code: "reset_not_proven", message: "not seen in its factory state within 60 s" },
        proof: null,
        credentials_retired: [],
        credentials_kept: ["admin"],
      }),
    );
    const target = render();
    await toConfirmation(target);
    type(target, "CS0001");
    target.querySelector<HTMLButtonElement>('[data-testid="decommission-run"]')!.click();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="record-verdict"]')).not.toBeNull());
    const verdict = target.querySelector<HTMLElement>('[data-testid="record-verdict"]')!;
    expect(verdict.dataset.code).toBe("reset_not_proven");
    expect(verdict.textContent).toContain("Not proven: every password is kept");
    expect(target.querySelector('[data-testid="record-retired"]')?.textContent).toBe("none");
  });

  it("a refusal by the core is shown by its code", async () => {
    api.decommissionCamera.mockRejectedValue({
      code: "not_confirmed",
      message: "what was typed does not match",
      camera: "http://127.0.0.1:8001/onvif/device_service",
      step: "confirm",
    });
    const target = render();
    await toConfirmation(target);
    type(target, "CS0001");
    target.querySelector<HTMLButtonElement>('[data-testid="decommission-run"]')!.click();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="decommission-error"]')).not.toBeNull());
    expect(target.querySelector('[data-testid="decommission-error"] h2')?.textContent).toBe(
      "Not confirmed: nothing was reset",
    );
  });
});
