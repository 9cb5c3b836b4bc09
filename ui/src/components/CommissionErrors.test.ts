import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import ErrorNotice from "./ErrorNotice.svelte";
import type { CoreError } from "../lib/api";

let mounted: Record<string, unknown> | null = null;

afterEach(() => {
  if (mounted) {
    unmount(mounted);
    mounted = null;
  }
  document.body.innerHTML = "";
});

function render(error: CoreError) {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(ErrorNotice, { target, props: { error } });
  flushSync();
  return target;
}

describe("the commissioning screens' errors, by code", () => {
  it("a plan error names the field it is about", () => {
    const target = render({
      code: "plan_invalid_cidr",
      message: "'10.0.0.0/33' is not an IPv4 or IPv6 network (CIDR)",
      camera: "-",
      step: "access.allowed_hosts[0]",
    });
    expect(target.querySelector('[data-testid="error-title"]')?.textContent).toBe(
      "The site plan is not complete yet (access.allowed_hosts[0])",
    );
  });

  it("each run error has its own headline and advice, whatever the message says", () => {
    const cases: [string, string, string | null][] = [
      ["cancelled", "Stopped before this camera was started", "Run the commissioning again to resume"],
      ["guided_step_pending", "The camera still waits for its administrator", "Create the administrator"],
      ["no_pdf_renderer", "No browser to print the PDF with", "save the report as HTML"],
      ["credential_missing", "The keychain holds no password for this camera", null],
    ];
    for (const [code, title, hint] of cases) {
      const target = render({ code, message: "plan_invalid_cidr cancelled", camera: "c", step: "s" });
      expect(target.querySelector('[data-testid="error-title"]')?.textContent).toBe(title);
      const shown = target.querySelector('[data-testid="error-hint"]')?.textContent ?? null;
      if (hint) {
        expect(shown).toContain(hint);
      } else {
        expect(shown).toBeNull();
      }
      unmount(mounted!);
      mounted = null;
      document.body.innerHTML = "";
    }
  });
});
