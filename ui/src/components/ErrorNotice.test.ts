import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import ErrorNotice from "./ErrorNotice.svelte";
import type { CoreError } from "../lib/api";

let mounted: Record<string, unknown> | null = null;

function render(error: CoreError) {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(ErrorNotice, { target, props: { error } });
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

function error(code: string, message = "the same words every time"): CoreError {
  return { code, message, camera: "http://192.0.2.10/onvif/device_service", step: "GetUsers" };
}

describe("ErrorNotice", () => {
  it("chooses the headline by code, never by the message", () => {
    const cases: [string, string][] = [
      ["unreachable", "Camera not reachable"],
      ["not_authorized", "The camera refused to answer without credentials"],
      ["no_password", "No password for this camera in the keychain"],
      ["locked_out", "The camera has locked out logins"],
      ["no_demo_site", "The simulated site is not running"],
      ["io_error", "A file could not be read or written"],
      ["pkcs12_unreadable", "The PKCS#12 file could not be opened"],
      ["something_new", "The request to the camera failed"],
    ];
    for (const [code, title] of cases) {
      const target = render(error(code));
      const notice = target.querySelector<HTMLElement>('[data-testid="error"]');
      expect(notice?.dataset.code).toBe(code);
      expect(notice?.getAttribute("role")).toBe("alert");
      expect(target.querySelector('[data-testid="error-title"]')?.textContent).toBe(title);
      expect(target.querySelector('[data-testid="error-message"]')?.textContent).toBe(
        "the same words every time",
      );
      unmount(mounted!);
      mounted = null;
      document.body.innerHTML = "";
    }
  });

  it("a message that reads like another error does not change the headline", () => {
    const target = render(error("timeout", "unreachable: the camera is not reachable"));
    expect(target.querySelector('[data-testid="error-title"]')?.textContent).toBe(
      "The camera did not answer in time",
    );
  });

  it("adds the advice of codes that have one, and the step", () => {
    const target = render(error("no_password"));
    expect(target.querySelector('[data-testid="error-hint"]')?.textContent).toContain(
      "camward credentials set",
    );
    expect(target.textContent).toContain("At step: GetUsers");
    const plain = render(error("not_onvif"));
    expect(plain.querySelector('[data-testid="error-hint"]')).toBeNull();
  });

  it("says where issued certificates go when the folder has no manifest, and only then", () => {
    const manifest: CoreError = { code: "io_error", message: "issued/manifest.json: No such file or directory", camera: "-", step: "read the manifest" };
    const target = render(manifest);
    expect(target.querySelector('[data-testid="error-title"]')?.textContent).toBe("A file could not be read or written");
    expect(target.querySelector('[data-testid="error-hint"]')?.textContent).toContain("the folder the requests were exported to");
    const other = render({ ...manifest, step: "write the requests" });
    expect(other.querySelector('[data-testid="error-hint"]')).toBeNull();
  });
});
