import { afterEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, unmount, type ComponentProps } from "svelte";
import DiscoveryList from "./DiscoveryList.svelte";
import type { DiscoveryWarning, FoundCamera } from "../lib/api";

function camera(overrides: Partial<FoundCamera>): FoundCamera {
  return {
    ips: ["192.0.2.10"],
    addresses: ["http://192.0.2.10/onvif/device_service", "http://192.0.2.10/"],
    endpoint: null,
    vendor: null,
    model: null,
    name: null,
    mac: null,
    serial: null,
    firmware: null,
    factory_fresh: false,
    methods: [],
    interfaces: [],
    first_seen: "2026-12-01T12:00:00Z",
    last_seen: "2026-12-01T12:00:00Z",
    ...overrides,
  };
}

let mounted: Record<string, unknown> | null = null;

function render(props: ComponentProps<typeof DiscoveryList>) {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(DiscoveryList, { target, props });
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

describe("DiscoveryList", () => {
  it("lists each camera with its make, address, the methods that saw it and a factory-fresh badge", () => {
    const cameras = [
      camera({
        vendor: "AXIS",
        model: "P3265",
        mac: "02:ca:5e:00:00:02",
        serial: "ACCC8E000002",
        factory_fresh: true,
        methods: ["ws-discovery", "mdns"],
        interfaces: ["eth0"],
      }),
      camera({
        ips: ["192.0.2.11"],
        addresses: ["http://192.0.2.11/onvif/device_service"],
        vendor: "HIKVISION",
        serial: "DS0001",
        methods: ["sadp"],
      }),
    ];
    const target = render({ cameras, selected: [], onToggle: () => {} });

    const rows = target.querySelectorAll('[data-testid="found-camera"]');
    expect(rows).toHaveLength(2);
    const [axis, hikvision] = [...rows] as HTMLElement[];
    expect(axis?.querySelector('[data-testid="camera-title"]')?.textContent).toBe("AXIS P3265");
    expect(axis?.querySelector('[data-testid="found-address"]')?.textContent).toBe(
      "http://192.0.2.10/onvif/device_service",
    );
    expect(axis?.querySelector('[data-testid="camera-methods"]')?.textContent).toBe(
      "Seen by WS-Discovery, mDNS",
    );
    expect(axis?.querySelector('[data-testid="factory-fresh"]')?.textContent).toBe("Factory-fresh");
    expect(axis?.textContent).toContain("MAC 02:ca:5e:00:00:02");
    expect(hikvision?.querySelector('[data-testid="factory-fresh"]')).toBeNull();
    expect(hikvision?.querySelector('[data-testid="camera-methods"]')?.textContent).toBe("Seen by SADP");
  });

  it("labels every checkbox with the camera's name and reports toggles by camera key", () => {
    const onToggle = vi.fn();
    const target = render({
      cameras: [camera({ vendor: "Camsim", model: "CS-2000", serial: "CS2K1" })],
      selected: [],
      onToggle,
    });
    const box = target.querySelector<HTMLInputElement>('[data-testid="pick-camera"]');
    expect(box).not.toBeNull();
    const label = target.querySelector(`label[for="${box?.id}"]`);
    expect(label?.textContent).toBe("Camsim CS-2000");
    box?.click();
    flushSync();
    expect(onToggle).toHaveBeenCalledWith("CS2K1");
  });

  it("names a camera of unknown make as such, and says how a simulated camera was identified", () => {
    const target = render({
      cameras: [camera({ factory_fresh: true })],
      selected: [],
      simulated: true,
      onToggle: () => {},
    });
    expect(target.querySelector('[data-testid="camera-title"]')?.textContent).toBe(
      "Camera of unknown make",
    );
    expect(target.querySelector('[data-testid="camera-methods"]')?.textContent).toBe(
      "Identified at its address (simulated site)",
    );
  });

  it("shows the link-local hint with the fix from the warning", () => {
    const warnings: DiscoveryWarning[] = [
      {
        interface: "eth1",
        method: "link-local",
        code: "no_link_local_address",
        message:
          "eth1 has no link-local address; give it one: sudo ip addr add 169.254.23.7/16 dev eth1",
      },
      { interface: "eth0", method: "mdns", code: "socket", message: "mDNS from 192.0.2.1: in use" },
    ];
    const target = render({ cameras: [], warnings, selected: [], onToggle: () => {} });
    const hint = target.querySelector<HTMLElement>('[data-testid="link-local-hint"]');
    expect(hint?.dataset.code).toBe("no_link_local_address");
    expect(hint?.textContent).toContain("sudo ip addr add 169.254.23.7/16 dev eth1");
    expect(hint?.textContent).toContain("eth1 cannot reach factory-fresh cameras");
    const other = target.querySelector('[data-testid="discovery-warning"]');
    expect(other?.textContent).toContain("mDNS could not run fully on eth0");
    expect(target.querySelector('[data-testid="discovery-list"]')).toBeNull();
  });
});
