import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import ApplyProgress from "./ApplyProgress.svelte";
import { applyCommissionEvent, startProgress } from "../lib/commission";

let mounted: Record<string, unknown> | null = null;

afterEach(() => {
  if (mounted) {
    unmount(mounted);
    mounted = null;
  }
  document.body.innerHTML = "";
});

describe("ApplyProgress", () => {
  it("shows each camera's state and each control's outcome as the run goes", () => {
    let progress = startProgress(["cam-a", "cam-b", "cam-c"]);
    progress = applyCommissionEvent(progress, { event: "camera_started", camera: "cam-a" });
    progress = applyCommissionEvent(progress, {
      event: "step",
      camera: "cam-a",
      step: { control: "host-restriction", title: "Host access restriction", before: "fail", outcome: { outcome: "applied", change: "allow only 192.0.2.0/24" } },
    });
    progress = applyCommissionEvent(progress, {
      event: "step",
      camera: "cam-a",
      step: { control: "time-sync", title: "Time sync", before: "fail", outcome: { outcome: "refused", reason: "no NTP server answered" } },
    });
    progress = applyCommissionEvent(progress, { event: "camera_done", camera: "cam-b", score: null, error: "commission: stopped [cancelled]" });
    const target = document.createElement("div");
    document.body.append(target);
    mounted = mount(ApplyProgress, { target, props: { progress, names: { "cam-a": "AXIS" }, waiting: ["cam-c"] } });
    flushSync();
    const cameras = [...target.querySelectorAll<HTMLElement>('[data-testid="progress-camera"]')];
    expect(cameras.map((c) => c.dataset.state)).toEqual(["working", "failed", "waiting"]);
    expect(cameras[0]!.querySelector("h2")?.textContent).toBe("AXIS");
    const steps = [...cameras[0]!.querySelectorAll<HTMLElement>('[data-testid="progress-step"]')];
    expect(steps.map((s) => s.dataset.outcome)).toEqual(["applied", "refused"]);
    expect(steps[0]!.textContent).toContain("allow only 192.0.2.0/24");
    expect(steps[1]!.textContent).toContain("Refused");
    expect(cameras[1]!.querySelector('[data-testid="progress-error"]')?.textContent).toContain("cancelled");
    expect(cameras[2]!.querySelector('[data-testid="progress-waiting"]')?.textContent).toContain("create its administrator");
  });
});
