// The journey's screens wired to a mocked shell: the commands answer as src-tauri would (same
// generated types), so this checks the screens' flow, not the Rust side (the WebDriver test in
// tests/desktop does the whole chain).
import { afterEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Channel } from "@tauri-apps/api/core";
import App from "./App.svelte";
import type {
  CameraAudit,
  Discovery,
  DiscoveryEvent,
  DiscoveryWarning,
  FoundCamera,
  SimulatedCamera,
} from "./lib/api";

const hint: DiscoveryWarning = {
  interface: "eth0",
  method: "link-local",
  code: "no_link_local_address",
  message: "eth0 has no link-local address; give it one: sudo ip addr add 169.254.9.9/16 dev eth0",
};

const simulated: SimulatedCamera = {
  id: "camsim-000001",
  device_url: "http://127.0.0.1:40001/onvif/device_service",
  https_url: null,
  mac: "02:ca:5e:00:00:01",
  serial: "CS2K00000001",
  flavour: "generic",
  manufacturer: "Camsim",
  model: "CS-2000",
  firmware: "1.4.2",
};

const found: FoundCamera = {
  ips: ["127.0.0.1"],
  addresses: [simulated.device_url],
  endpoint: null,
  vendor: "Camsim",
  model: "CS-2000",
  name: null,
  mac: null,
  serial: "CS2K00000001",
  firmware: "1.4.2",
  factory_fresh: true,
  methods: [],
  interfaces: [],
  first_seen: "2026-12-01T12:00:00Z",
  last_seen: "2026-12-01T12:00:00Z",
};

let app: Record<string, unknown> | null = null;

afterEach(() => {
  if (app) {
    unmount(app);
    app = null;
  }
  clearMocks();
  document.body.innerHTML = "";
});

function byTestId(id: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
}

describe("the Commission a site journey", () => {
  it("offers simulated cameras after an empty scan, and shows a failed audit by its code", async () => {
    const calls: string[] = [];
    mockIPC((command, payload) => {
      calls.push(command);
      const args = (payload ?? {}) as { onEvent?: Channel<DiscoveryEvent> };
      switch (command) {
        case "demo_cameras":
          return calls.includes("start_demo") ? [simulated] : [];
        case "list_interfaces":
          return [{ name: "eth0", addresses: ["192.0.2.2"], loopback: false }];
        case "discover_cameras": {
          args.onEvent?.onmessage({ event: "warning", ...hint });
          const none: Discovery = { cameras: [], warnings: [hint], cancelled: false };
          return none;
        }
        case "start_demo":
          return [simulated];
        case "discover_demo": {
          args.onEvent?.onmessage({ event: "found", camera: found });
          const one: Discovery = { cameras: [found], warnings: [], cancelled: false };
          return one;
        }
        case "audit_cameras": {
          const failed: CameraAudit[] = [
            {
              camera: simulated.device_url,
              scorecard: null,
              depth: null,
              factory_fresh: false,
              error: {
                code: "unreachable",
                message: "connection refused",
                camera: simulated.device_url,
                step: "GetSystemDateAndTime",
              },
            },
          ];
          return failed;
        }
        default:
          throw new Error(`unexpected command ${command}`);
      }
    });

    const target = document.createElement("div");
    document.body.append(target);
    app = mount(App, { target });
    flushSync();

    await vi.waitFor(() => expect(byTestId("source-eth0")).not.toBeNull());
    expect(byTestId("source-demo")).toBeNull();
    byTestId("start-discovery")?.click();

    await vi.waitFor(() => expect(byTestId("discovery-empty")).not.toBeNull());
    expect(calls).toContain("discover_cameras");
    expect(byTestId("link-local-hint")?.textContent).toContain(
      "sudo ip addr add 169.254.9.9/16 dev eth0",
    );
    byTestId("try-simulated")?.click();

    await vi.waitFor(() => expect(byTestId("found-camera")).not.toBeNull());
    expect(calls).toEqual(expect.arrayContaining(["start_demo", "discover_demo"]));
    expect(byTestId("demo-badge")?.textContent).toBe("Simulated site");
    expect(byTestId("factory-fresh")?.textContent).toBe("Factory-fresh");
    expect(byTestId("start-audit")?.hasAttribute("disabled")).toBe(true);
    byTestId("pick-camera")?.click();
    flushSync();
    expect(byTestId("start-audit")?.textContent?.trim()).toBe("Audit 1 selected camera");
    byTestId("start-audit")?.click();

    await vi.waitFor(() => expect(byTestId("audit-error")).not.toBeNull());
    const error = byTestId("audit-error");
    expect(error?.dataset.code).toBe("unreachable");
    expect(error?.querySelector('[data-testid="error-title"]')?.textContent).toBe(
      "Camera not reachable",
    );
    expect(byTestId("scorecard-title")?.textContent).toBe("Camsim CS-2000");
    expect(document.activeElement?.id).toBe("audit-title");
  });
});
