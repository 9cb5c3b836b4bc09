/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The Tauri shell embeds `dist/` into the binary at compile time (see src-tauri/src/main.rs), so
// the output directory is fixed and must match `build.frontendDist` in tauri.conf.json.
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  // Component tests mount Svelte components in jsdom: they need Svelte's browser build.
  // (Vitest runs Vite in mode "test".)
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK on Debian 12 and WebView2 both support ES2021.
    target: "es2021",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
}));
