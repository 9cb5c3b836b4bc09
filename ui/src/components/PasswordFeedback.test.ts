import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount, type ComponentProps } from "svelte";
import PasswordFeedback from "./PasswordFeedback.svelte";
import type { PasswordVerdict } from "../lib/api";

let mounted: Record<string, unknown> | null = null;

function render(props: ComponentProps<typeof PasswordFeedback>) {
  const target = document.createElement("div");
  document.body.append(target);
  mounted = mount(PasswordFeedback, { target, props });
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

describe("PasswordFeedback", () => {
  it("shows every failing rule with its reason, keyed by the rule's code", () => {
    // What camward-policy returns for "admin1" (the messages are the policy's Display).
    const verdict: PasswordVerdict = {
      score: 0,
      accepted: false,
      reasons: [
        { code: "too_short", message: "too short: 6 characters, at least 10 are needed" },
        { code: "no_upper_case", message: "needs an upper-case letter" },
        {
          code: "too_few_character_kinds",
          message:
            "uses 2 of the four kinds of character; use at least three of upper case, lower case, digits and symbols",
        },
        { code: "contains_user_name", message: "contains the user name" },
        { code: "guessable", message: "easy to guess: This is similar to a commonly used password." },
      ],
    };
    const target = render({ verdict, typed: true });
    const items = [...target.querySelectorAll<HTMLElement>('[data-testid="password-reason"]')];
    expect(items.map((item) => item.dataset.code)).toEqual(verdict.reasons.map((r) => r.code));
    expect(items.map((item) => item.textContent)).toEqual(verdict.reasons.map((r) => r.message));
    expect(target.querySelector('[data-testid="password-refused"]')?.textContent).toContain(
      "5 rules are not met",
    );
    expect(target.querySelector('[data-testid="password-accepted"]')).toBeNull();
    expect(target.querySelector('[data-testid="password-feedback"]')?.getAttribute("aria-live")).toBe(
      "polite",
    );
  });

  it("says one rule in the singular, and accepted when none fails", () => {
    const one = render({
      verdict: { score: 2, accepted: false, reasons: [{ code: "no_lower_case", message: "needs a lower-case letter" }] },
      typed: true,
    });
    expect(one.querySelector('[data-testid="password-refused"]')?.textContent).toContain("1 rule is not met");
    unmount(mounted!);
    mounted = null;
    const ok = render({ verdict: { score: 4, accepted: true, reasons: [] }, typed: true });
    expect(ok.querySelector('[data-testid="password-accepted"]')?.textContent).toContain("very strong");
    expect(ok.querySelectorAll('[data-testid="password-reason"]')).toHaveLength(0);
  });

  it("asks for a password before anything is typed", () => {
    const target = render({ verdict: null, typed: false });
    expect(target.textContent).toContain("Type a password");
  });
});
