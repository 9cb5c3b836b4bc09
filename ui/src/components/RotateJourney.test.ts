import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, tick, unmount } from "svelte";
import type { RotationEvent, RotationOutcome } from "../lib/api";
import { inventoryCamera } from "./lifecycleFixtures";

const api = vi.hoisted(() => ({
  inventoryCameras: vi.fn(),
  giveDemoAdmins: vi.fn(),
  interruptedChanges: vi.fn(),
  rotatePasswords: vi.fn(),
  resumeRotation: vi.fn(),
  revealPassword: vi.fn(),
}));
vi.mock("../lib/api", () => api);

import RotateJourney from "./RotateJourney.svelte";

let mounted: Record<string, unknown> | null = null;

const CAMERAS = ["host:127.0.0.1:8001", "host:127.0.0.1:8002", "host:127.0.0.1:8003", "host:127.0.0.1:8004"];
const SECRET = "Gen-Secret-Password-9f2K";

function outcome(camera: string, result: RotationOutcome["result"], code?: string): RotationOutcome {
  return {
    camera,
    user: "admin",
    result,
    error: code ? { code, message: `message for ${code}: rotated`, camera, step: "some step" } : null,
  };
}

beforeEach(() => {
  api.inventoryCameras.mockResolvedValue(
    CAMERAS.map((camera, i) =>
      inventoryCamera({ camera, url: `http://${camera.slice(5)}/onvif/device_service`, model: `Model ${i + 1}`, serial: `S${i}` }),
    ),
  );
  api.interruptedChanges.mockResolvedValue([]);
  api.revealPassword.mockImplementation(async (camera: string) => ({ camera, user: "admin", password: SECRET }));
  api.rotatePasswords.mockImplementation(async (targets: string[], onEvent: (e: RotationEvent) => void) => {
    // The core reports by inventory key (`host:<authority>`) what it was given as addresses.
    const cameras = targets.map((url) => `host:${new URL(url).host}`);
    const outcomes = [
      outcome(cameras[0]!, "rotated"),
      outcome(cameras[1]!, null, "not_authorized"),
      outcome(cameras[2]!, null, "old_password_accepted"),
      outcome(cameras[3]!, null, "attempt_budget_spent"),
    ];
    for (const o of outcomes) {
      onEvent({ event: "started", camera: o.camera, user: "admin" });
    }
    onEvent({ event: "step", camera: cameras[0]!, step: "logged_in" });
    onEvent({ event: "step", camera: cameras[0]!, step: "pending_stored" });
    onEvent({ event: "finished", outcome: outcomes[0]! });
    return outcomes;
  });
});

afterEach(() => {
  if (mounted) {
    unmount(mounted);
    mounted = null;
  }
  document.body.innerHTML = "";
  vi.clearAllMocks();
});

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await Promise.resolve();
  }
  flushSync();
}

async function rotateAll(target: HTMLElement) {
  await vi.waitFor(() => expect(target.querySelectorAll('[data-testid="pick-inventory-camera"]').length).toBe(4));
  for (const box of target.querySelectorAll<HTMLInputElement>('[data-testid="pick-inventory-camera"]')) {
    box.click();
  }
  flushSync();
  const next = target.querySelector<HTMLButtonElement>('[data-testid="rotate-next"]')!;
  expect(next.disabled).toBe(false);
  expect(next.textContent).toContain("4 cameras");
  next.click();
  await settle();
  target.querySelector<HTMLButtonElement>('[data-testid="rotate-apply"]')!.click();
  await vi.waitFor(() => expect(target.querySelector('[data-testid="rotate-again"]')).not.toBeNull());
}

function render() {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(RotateJourney, { target, props: { demo: false } });
  flushSync();
  return target;
}

describe("RotateJourney", () => {
  it("renders each camera's result by its error code, never by its message", async () => {
    const target = render();
    await rotateAll(target);
    expect(api.rotatePasswords).toHaveBeenCalledWith(
      CAMERAS.map((c) => `http://${c.slice(5)}/onvif/device_service`),
      expect.any(Function),
    );
    const cards = [...target.querySelectorAll<HTMLElement>('[data-testid="rotation-camera"]')];
    expect(cards.map((c) => c.dataset.camera)).toEqual(CAMERAS);
    expect(cards[0]!.dataset.result).toBe("rotated");
    expect(cards[0]!.querySelector('[data-testid="rotation-result"]')?.textContent).toContain(
      "New password set and verified",
    );
    const titles = cards.slice(1).map((c) => c.querySelector('[data-testid="rotation-error-title"]')?.textContent);
    expect(titles).toEqual([
      "The camera refused the stored password: nothing was changed",
      "The camera still accepts the old password",
      "Stopped before the camera could lock the account",
    ]);
    expect(cards[2]!.querySelector('[data-testid="rotation-error-hint"]')?.textContent).toContain(
      "Finish interrupted changes",
    );
    // An error that may leave a change behind offers the resume.
    expect(target.querySelector('[data-testid="resume-after"]')).not.toBeNull();
    expect(target.querySelector('[data-testid="rotate-status"]')?.textContent).toContain("1 done, 3 failed");
  });

  it("shows a password only when asked, and forgets it when hidden", async () => {
    const target = render();
    await rotateAll(target);
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(api.revealPassword).not.toHaveBeenCalled();
    // Only the rotated camera offers it.
    const reveal = target.querySelectorAll<HTMLButtonElement>('[data-testid="reveal-password"]');
    expect(reveal.length).toBe(1);
    reveal[0]!.click();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="revealed-password"]')?.textContent).toBe(SECRET));
    expect(api.revealPassword).toHaveBeenCalledWith(CAMERAS[0]);
    target.querySelector<HTMLButtonElement>('[data-testid="hide-password"]')!.click();
    flushSync();
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });

  it("offers to finish interrupted changes and shows what the resume did", async () => {
    api.interruptedChanges.mockResolvedValueOnce([{ camera: CAMERAS[1]!, user: "admin", phase: "pending" }]);
    api.resumeRotation.mockResolvedValue([outcome(CAMERAS[1]!, "completed")]);
    const target = render();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="interrupted"]')).not.toBeNull());
    expect(target.querySelector('[data-testid="interrupted"]')?.textContent).toContain("new password not verified yet");
    target.querySelector<HTMLButtonElement>('[data-testid="resume-rotation"]')!.click();
    await vi.waitFor(() => expect(target.querySelector('[data-testid="rotate-again"]')).not.toBeNull());
    const card = target.querySelector<HTMLElement>('[data-testid="rotation-camera"]')!;
    expect(card.dataset.result).toBe("completed");
    expect(card.textContent).toContain("Interrupted change finished");
  });
});
