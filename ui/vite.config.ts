import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The Tauri shell embeds `dist/` into the binary at compile time (see src-tauri/src/main.rs), so
// the output directory is fixed and must match `build.frontendDist` in tauri.conf.json.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK on Debian 12 and WebView2 both support ES2021.
    target: "es2021",
  },
});
