import { describe, expect, it } from "vitest";
import type { CameraAudit, FoundCamera } from "./bindings";
import { applyEvent, auditVisible, failingControls, visibleFindings } from "./journey";

function camera(serial: string, extra: Partial<FoundCamera> = {}): FoundCamera {
  return {
    ips: [],
    addresses: [`http://${serial}/onvif/device_service`],
    endpoint: null,
    vendor: null,
    model: null,
    name: null,
    mac: null,
    serial,
    firmware: null,
    factory_fresh: false,
    methods: [],
    interfaces: [],
    first_seen: "",
    last_seen: "",
    ...extra,
  };
}

describe("applyEvent", () => {
  it("adds found cameras, replaces updated ones and removes gone ones", () => {
    let list = applyEvent([], { event: "found", camera: camera("A") });
    list = applyEvent(list, { event: "found", camera: camera("B") });
    list = applyEvent(list, { event: "updated", camera: camera("A", { methods: ["sadp"] }) });
    expect(list.map((c) => [c.serial, c.methods])).toEqual([
      ["A", ["sadp"]],
      ["B", []],
    ]);
    list = applyEvent(list, { event: "gone", camera: camera("A") });
    expect(list.map((c) => c.serial)).toEqual(["B"]);
    expect(applyEvent(list, { event: "sweep", sent: 1, total: 2, hosts: 0 })).toBe(list);
  });
});

describe("the audit filter", () => {
  const audit = (camera: string, failing: string[]): CameraAudit => ({
    camera,
    depth: "logged_in",
    factory_fresh: false,
    error: null,
    scorecard: {
      camera,
      model: null,
      serial: null,
      level: "standard",
      score: 0,
      findings: ["admin-password", "time-sync"].map((control) => ({
        control,
        title: control.toUpperCase(),
        status: failing.includes(control) ? "fail" : "pass",
        evidence: "",
        fix: null,
      })),
    },
  });
  const audits = [audit("one", ["admin-password", "time-sync"]), audit("two", ["time-sync"])];

  it("lists each failing control once, with how many cameras fail it", () => {
    expect(failingControls(audits)).toEqual([
      { control: "admin-password", title: "ADMIN-PASSWORD", cameras: 1 },
      { control: "time-sync", title: "TIME-SYNC", cameras: 2 },
    ]);
  });

  it("shows only the cameras and rows failing the chosen control", () => {
    const filter = { kind: "control", control: "admin-password" } as const;
    expect(audits.filter((a) => auditVisible(a, filter)).map((a) => a.camera)).toEqual(["one"]);
    const rows = visibleFindings(audits[0]?.scorecard?.findings ?? [], filter);
    expect(rows.map((f) => f.control)).toEqual(["admin-password"]);
    expect(visibleFindings(audits[1]?.scorecard?.findings ?? [], { kind: "all" })).toHaveLength(2);
  });
});
