import { describe, expect, it } from "vitest";
import {
  applyDecommissionEvent,
  applyRotationEvent,
  certificateText,
  confirms,
  credentialText,
  rotationErrorTitle,
  sortCameras,
} from "./lifecycle";
import { inventoryCamera, plan } from "../components/lifecycleFixtures";

describe("the inventory's sorting and words", () => {
  const a = inventoryCamera({ camera: "host:a", model: "A", last_audit_score: 40, certificate_days_left: 10, credential_age_days: 90 });
  const b = inventoryCamera({ camera: "host:b", model: "B", last_audit_score: null, certificate_days_left: null, credential_age_days: 3 });
  const c = inventoryCamera({ camera: "host:c", model: "C", last_audit_score: 90, certificate_days_left: 400, credential_age_days: null });

  it("sorts by each column, unknown values last when ascending", () => {
    const keys = (list: typeof a[]) => list.map((x) => x.camera);
    expect(keys(sortCameras([c, b, a], "camera", "ascending"))).toEqual(["host:a", "host:b", "host:c"]);
    expect(keys(sortCameras([c, b, a], "score", "ascending"))).toEqual(["host:a", "host:c", "host:b"]);
    expect(keys(sortCameras([c, b, a], "score", "descending"))).toEqual(["host:b", "host:c", "host:a"]);
    expect(keys(sortCameras([c, b, a], "certificate", "ascending"))).toEqual(["host:a", "host:c", "host:b"]);
    expect(keys(sortCameras([c, b, a], "credential", "ascending"))).toEqual(["host:b", "host:a", "host:c"]);
  });

  it("says when certificates expire and how old passwords are", () => {
    expect(certificateText(a)).toBe("Expires in 10 days");
    expect(certificateText(inventoryCamera({ certificate_days_left: -1 }))).toBe("Expired 1 day ago");
    expect(certificateText(b)).toBe("No certificate recorded");
    expect(credentialText(a)).toBe("Set 90 days ago");
    expect(credentialText(inventoryCamera({ credential_age_days: 0 }))).toBe("Set today");
    expect(credentialText(inventoryCamera({ credential_state: "pending" }))).toBe("Change interrupted: finish it");
  });
});

describe("rotation progress", () => {
  it("adds a camera when it starts, ticks its steps and lands its outcome", () => {
    let p = applyRotationEvent([], { event: "started", camera: "host:a", user: "admin" });
    p = applyRotationEvent(p, { event: "step", camera: "host:a", step: "logged_in" });
    p = applyRotationEvent(p, { event: "started", camera: "host:b", user: "admin" });
    p = applyRotationEvent(p, {
      event: "finished",
      outcome: { camera: "host:a", user: "admin", result: "rotated", error: null },
    });
    expect(p.map((x) => x.camera)).toEqual(["host:a", "host:b"]);
    expect(p[0]!.done).toEqual(["logged_in"]);
    expect(p[0]!.outcome?.result).toBe("rotated");
    expect(p[1]!.outcome).toBeNull();
  });

  it("titles an error by its code, whatever its message", () => {
    const error = (code: string) => ({ code, message: "the camera said: rotated", camera: "host:a", step: "x" });
    expect(rotationErrorTitle(error("not_authorized"))).toBe("The camera refused the stored password: nothing was changed");
    expect(rotationErrorTitle(error("old_password_accepted"))).toBe("The camera still accepts the old password");
    expect(rotationErrorTitle(error("something_new"))).toBe("The rotation failed on this camera");
  });
});

describe("decommissioning", () => {
  it("is confirmed only by the camera's own serial number", () => {
    expect(confirms(plan(), "cs0001 ")).toBe(true);
    expect(confirms(plan(), "CS0002")).toBe(false);
    expect(confirms(plan(), "CS-2000")).toBe(false);
    expect(confirms(plan({ serial: null }), "CS-2000")).toBe(true);
    expect(confirms(plan({ serial: null, model: null }), "")).toBe(false);
  });

  it("keeps one waiting line, updated in place", () => {
    let log = applyDecommissionEvent([], { event: "final_state_recorded" });
    log = applyDecommissionEvent(log, { event: "waiting", waited_s: 0 });
    log = applyDecommissionEvent(log, { event: "waiting", waited_s: 2 });
    expect(log).toEqual([{ event: "final_state_recorded" }, { event: "waiting", waited_s: 2 }]);
  });
});
