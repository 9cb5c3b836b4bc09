import { describe, expect, it } from "vitest";
import type { CommissionResult, ControlStep } from "./bindings";
import {
  applyCommissionEvent,
  cameraPage,
  countOutcomes,
  guidedTasks,
  lines,
  outcomeDetail,
  outcomeLabel,
  startProgress,
  suggestAllowList,
} from "./commission";

const step = (control: string, outcome: ControlStep["outcome"]): ControlStep => ({
  control,
  title: control,
  before: "fail",
  outcome,
});

describe("the commissioning wizard's logic", () => {
  it("builds per-camera, per-control progress from the run's events", () => {
    let progress = startProgress(["a", "b"]);
    progress = applyCommissionEvent(progress, { event: "camera_started", camera: "a" });
    progress = applyCommissionEvent(progress, { event: "step", camera: "a", step: step("guest-off", { outcome: "applied", change: "guest off" }) });
    progress = applyCommissionEvent(progress, { event: "camera_done", camera: "a", score: 80, error: null });
    progress = applyCommissionEvent(progress, { event: "camera_done", camera: "b", score: null, error: "cancelled" });
    expect(progress.map((p) => [p.state, p.steps.length, p.score])).toEqual([
      ["done", 1, 80],
      ["failed", 0, null],
    ]);
  });

  it("suggests this computer's /24 as the allow-list", () => {
    expect(
      suggestAllowList([
        { camera: "x", address: "192.0.2.17" },
        { camera: "y", address: "192.0.2.18" },
        { camera: "z", address: null },
        { camera: "w", address: "2001:db8::5" },
      ]),
    ).toEqual(["192.0.2.0/24", "2001:db8::5"]);
    expect(lines(" 192.0.2.1 \n\n ntp.example.net, 10.0.0.1")).toEqual(["192.0.2.1", "ntp.example.net", "10.0.0.1"]);
  });

  it("lists guided first administrators and guided controls, and the camera's page", () => {
    const results: CommissionResult[] = [
      {
        camera: "http://127.0.0.1:8080/onvif/device_service",
        commission: {
          camera: "http://127.0.0.1:8080/onvif/device_service",
          first_admin: "waiting for a person to create administrator admin on http://127.0.0.1:8080/",
          awaiting_person: true,
          before: null,
          steps: [],
          after: null,
        },
        error: null,
      },
      {
        camera: "http://127.0.0.1:8081/onvif/device_service",
        commission: {
          camera: "http://127.0.0.1:8081/onvif/device_service",
          first_admin: "administrator admin created (Onvif)",
          awaiting_person: false,
          before: null,
          steps: [step("audio-off", { outcome: "guided", step: "Setup > Audio" }), step("guest-off", { outcome: "applied", change: "x" })],
          after: null,
        },
        error: null,
      },
    ];
    expect(guidedTasks(results).map((t) => [t.control, t.step])).toEqual([
      ["first-admin", "On the camera's first-access page (http://127.0.0.1:8080/), create the administrator with the password Camward shows, then press Verify."],
      ["audio-off", "Setup > Audio"],
    ]);
    expect(cameraPage("http://127.0.0.1:8081/onvif/device_service")).toBe("http://127.0.0.1:8081/");
  });

  it("lists a first administrator still waiting from an earlier run, whatever its wording", () => {
    const run = (first_admin: string, awaiting_person: boolean): CommissionResult => ({
      camera: "http://127.0.0.1:8082/onvif/device_service",
      commission: { camera: "http://127.0.0.1:8082/onvif/device_service", first_admin, awaiting_person, before: null, steps: [], after: null },
      error: null,
    });
    // A stopped run resumed: the person has not created it yet, so the step stays on the list.
    expect(guidedTasks([run("still waiting for a person to create administrator admin", true)]).map((t) => t.control)).toEqual(["first-admin"]);
    // Created over an API: nothing for a person, even when the text mentions one.
    expect(guidedTasks([run("administrator admin created; waiting for a person was not needed", false)])).toEqual([]);
  });

  it("names a control a stopped run never started as such, apart from one left as it is", () => {
    const stopped: ControlStep["outcome"] = { outcome: "stopped" };
    expect(outcomeLabel(stopped)).toBe("Not started");
    expect(outcomeDetail(stopped)).toContain("run it again to resume");
    const counts = countOutcomes([step("time-sync", stopped), step("audio-off", { outcome: "skipped", reason: "not applicable" })]);
    expect([counts.stopped, counts.skipped]).toEqual([1, 1]);
  });
});
